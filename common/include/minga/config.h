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

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
    MINGA_CFG_UINT, /* uint64_t in [min, max] */
    MINGA_CFG_STR,  /* char * (owned by the struct; free with minga_config_free) */
} minga_cfg_type_t;

typedef struct {
    const char *path; /* "section/key" in the file */
    const char *flag; /* "heartbeat-ms": given as --heartbeat-ms VALUE */
    minga_cfg_type_t type;
    size_t offset;     /* offsetof the field in the settings struct */
    uint64_t min, max; /* UINT: the range */
    const char *help;  /* one line */
} minga_cfg_t;

/* Reads file into dst for the n settings of table. Sections of the file that no setting of the
 * table uses are ignored (other programs' settings); an unknown key in a section the table
 * uses, a bad value, a ZPL syntax error or an unreadable file is an error. Returns 0, or
 * MINGA_EINVAL / MINGA_EFORMAT / -errno with err naming file, line and key. */
int minga_config_load(const char *file, const minga_cfg_t *table, size_t n, void *dst, char *err,
                      size_t errcap);

/* Sets setting s of dst from text value. Returns 0 or MINGA_EINVAL with err naming the key. */
int minga_config_set(const minga_cfg_t *s, void *dst, const char *value, char *err, size_t errcap);

/* The setting whose flag is flag (without the leading "--"), or NULL. */
const minga_cfg_t *minga_config_find_flag(const minga_cfg_t *table, size_t n, const char *flag);

/* Frees the STR settings of dst and NULLs them. */
void minga_config_free(const minga_cfg_t *table, size_t n, void *dst);

/* Prints "  --FLAG VALUE   help (file: path)" for each setting. */
void minga_config_print_flags(FILE *out, const minga_cfg_t *table, size_t n);

#endif
