/*
 * config.h: settings from a ZPL file (czmq's zconfig, rfc.zeromq.org/spec:4) and from flags.
 *
 * A program describes its settings once, as a table of minga_cfg_t: where each lives in the
 * file ("broker/heartbeat_ms"), its flag (--heartbeat-ms), its type and range, and where it
 * lives in the program's settings struct. The loader fills the struct from the file, then
 * minga_config_set() applies each flag given, so that every setting is both. Errors name the
 * file, the line and the key ("minga.cfg:4: broker/heartbeat_ms: must be 10..600000").
 *
 *     broker
 *         heartbeat_ms = 1000
 *         job_types = "match.score test.echo"
 */
#ifndef MINGA_CONFIG_H
#define MINGA_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
    MINGA_CFG_UINT, /* uint64_t in [min, max] */
    MINGA_CFG_STR,  /* char * (owned by the struct; free with minga_config_free) */
    MINGA_CFG_BOOL, /* uint64_t 0 or 1; the text 1/0, on/off, yes/no, true/false */
} minga_cfg_type_t;

typedef struct {
    const char *path; /* "section/key" in the file */
    const char *flag; /* "heartbeat-ms": given as --heartbeat-ms VALUE */
    minga_cfg_type_t type;
    size_t offset;     /* offsetof the field in the settings struct */
    uint64_t min, max; /* UINT: the range */
    const char *help;  /* one line */
} minga_cfg_t;

/* Reads file into dst for the n settings of table. Keys of other Minga programs (known to
 * minga_config_known()) are skipped; a key no Minga program knows, a section that holds a
 * value, a bad value, a ZPL syntax error or an unreadable file is an error. Returns 0, or
 * MINGA_EINVAL / MINGA_EFORMAT / -errno with err naming file, line and key. */
int minga_config_load(const char *file, const minga_cfg_t *table, size_t n, void *dst, char *err,
                      size_t errcap);

/* Adds a process-wide override "section/key=value" (text copied), applied by every later
 * minga_config_load() of a table holding that key, after the file: the command line's
 * `--set SECTION/KEY=VALUE`, for settings that have no flag of their own (the match weights).
 * Returns 0, or MINGA_EINVAL with err naming what is wrong (no '=', a key no program knows). */
int minga_config_override(const char *assignment, char *err, size_t errcap);

/* True when path ("section/key") is a setting of some Minga program: the broker, the worker
 * runtime, the command line (client, curve, store, log) or a worker family (match, smtp). */
bool minga_config_known(const char *path);

/* The settings every program shares: sections store and log. */
typedef struct {
    char *store_path; /* store/path (--store): the store when no --store is given */
    uint64_t map_max; /* store/map_max (--map-max): the largest the store's map grows, bytes */
    char *log_level;  /* log/level (--log-level): debug, info, warn or error */
} minga_common_config_t;

/* The table of minga_common_config_t (static). */
const minga_cfg_t *minga_common_config_table(size_t *n);

/* Applies c to the process: store/path as MINGA_STORE (when that is not set), store/map_max as
 * MINGA_STORE_MAP_MAX, log/level through minga_log_set_level(). Zero or empty settings are
 * left alone. Returns 0 or MINGA_EINVAL with err naming the key of a bad level. */
int minga_common_config_apply(const minga_common_config_t *c, char *err, size_t errcap);

/* Sets setting s of dst from text value. Returns 0 or MINGA_EINVAL with err naming the key. */
int minga_config_set(const minga_cfg_t *s, void *dst, const char *value, char *err, size_t errcap);

/* The setting whose flag is flag (without the leading "--"), or NULL. */
const minga_cfg_t *minga_config_find_flag(const minga_cfg_t *table, size_t n, const char *flag);

/* Frees the STR settings of dst and NULLs them. */
void minga_config_free(const minga_cfg_t *table, size_t n, void *dst);

/* Prints "  --FLAG VALUE   help (file: path)" for each setting. */
void minga_config_print_flags(FILE *out, const minga_cfg_t *table, size_t n);

#endif
