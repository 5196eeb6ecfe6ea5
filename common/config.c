/*
 * config.c: table-driven settings from a ZPL file (zconfig) and from flags. zconfig parses the
 * file (and reports its own syntax errors with their line); the line of a key whose value is
 * wrong is found again by walking the file's indentation, so that every error names file,
 * line and key.
 */
#include "minga/config.h"
#include "minga/client.h"
#include "minga/curve.h"
#include "minga/error.h"
#include "minga/log.h"
#include "minga/match_rules.h"
#include "minga/smtp.h"
#include "minga/worker.h"

#include <czmq.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static void s_err(char *err, size_t errcap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void s_err(char *err, size_t errcap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errcap, fmt, ap);
    va_end(ap);
}

#define S_FIELD(dst, s) ((void *)((char *)(dst) + (s)->offset))

int minga_config_set(const minga_cfg_t *s, void *dst, const char *value, char *err, size_t errcap)
{
    if (s->type == MINGA_CFG_STR) {
        char **p = S_FIELD(dst, s);
        char *copy = strdup(value ? value : "");
        if (!copy) {
            s_err(err, errcap, "%s: out of memory", s->path);
            return MINGA_ENOMEM;
        }
        free(*p);
        *p = copy;
        return 0;
    }
    if (s->type == MINGA_CFG_BOOL) {
        static const char *const yes[] = {"1", "on", "yes", "true"}, *const no[] = {"0", "off",
                                                                                    "no", "false"};
        for (size_t i = 0; value && i < 4; i++)
            if (strcmp(value, yes[i]) == 0 || strcmp(value, no[i]) == 0) {
                *(uint64_t *)S_FIELD(dst, s) = strcmp(value, yes[i]) == 0;
                return 0;
            }
        s_err(err, errcap, "%s: '%s' is not 1/0, on/off, yes/no or true/false", s->path,
              value ? value : "");
        return MINGA_EINVAL;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long v = value ? strtoull(value, &end, 10) : 0;
    if (!value || !*value || *end || errno || value[0] == '-' || v < s->min || v > s->max) {
        s_err(err, errcap, "%s: '%s' is not an integer %llu..%llu", s->path, value ? value : "",
              (unsigned long long)s->min, (unsigned long long)s->max);
        return MINGA_EINVAL;
    }
    *(uint64_t *)S_FIELD(dst, s) = v;
    return 0;
}

const minga_cfg_t *minga_config_find_flag(const minga_cfg_t *table, size_t n, const char *flag)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(table[i].flag, flag) == 0)
            return &table[i];
    return NULL;
}

void minga_config_free(const minga_cfg_t *table, size_t n, void *dst)
{
    for (size_t i = 0; i < n; i++)
        if (table[i].type == MINGA_CFG_STR) {
            char **p = S_FIELD(dst, &table[i]);
            free(*p);
            *p = NULL;
        }
}

void minga_config_print_flags(FILE *out, const minga_cfg_t *table, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(out, "  --%-22s %s (%s)\n", table[i].flag, table[i].help, table[i].path);
}

/* The line (from 1) where path ("a/b") is written in file, or 0. */
static int s_find_line(const char *file, const char *path)
{
    FILE *f = fopen(file, "r");
    if (!f)
        return 0;
    char line[1024], stack[8][128];
    int lineno = 0, found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        lineno++;
        size_t indent = strspn(line, " ");
        const char *name = line + indent;
        size_t len = strcspn(name, " =\t\r\n#");
        if (len == 0 || name[0] == '#' || indent % 4 || indent / 4 >= 8)
            continue;
        size_t depth = indent / 4;
        snprintf(stack[depth], sizeof stack[depth], "%.*s", (int)len, name);
        char full[1024] = "";
        for (size_t d = 0; d <= depth; d++) {
            strncat(full, stack[d], sizeof full - strlen(full) - 2);
            if (d < depth)
                strcat(full, "/");
        }
        if (strcmp(full, path) == 0)
            found = lineno;
    }
    fclose(f);
    return found;
}

static const minga_cfg_t *s_find_path(const minga_cfg_t *table, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(table[i].path, path) == 0)
            return &table[i];
    return NULL;
}

/* The broker's settings (broker/broker.c holds their table; the broker is the one program that
 * does not link every table): other programs skip them, and a test checks this list against
 * `minga-broker --help`. */
static const char *const s_broker_keys[] = {
    "broker/heartbeat_ms",     "broker/liveness",
    "broker/lease_ms",         "broker/max_attempts",
    "broker/retry_base_ms",    "broker/retry_max_ms",
    "broker/retry_jitter_pct", "broker/max_body",
    "broker/credit",           "broker/result_retention_s",
    "broker/batch_max",        "broker/job_types",
    "broker/clients",          "broker/workers",
    "broker/events",           "broker/metrics",
    "broker/max_result",
};

static bool s_in_table(const minga_cfg_t *table, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(table[i].path, path) == 0)
            return true;
    return false;
}

bool minga_config_known(const char *path)
{
    for (size_t i = 0; i < sizeof s_broker_keys / sizeof s_broker_keys[0]; i++)
        if (strcmp(s_broker_keys[i], path) == 0)
            return true;
    const minga_cfg_t *(*getters[])(size_t *) = {
        minga_common_config_table, minga_client_config_table, minga_worker_config_table,
        minga_match_config_table, minga_smtp_config_table};
    size_t n;
    for (size_t g = 0; g < sizeof getters / sizeof getters[0]; g++) {
        const minga_cfg_t *t = getters[g](&n);
        if (s_in_table(t, n, path))
            return true;
    }
    for (int role = MINGA_CURVE_BROKER; role <= MINGA_CURVE_WORKER; role++) {
        const minga_cfg_t *t = minga_curve_config_table((minga_curve_role_t)role, &n);
        if (s_in_table(t, n, path))
            return true;
    }
    return false;
}

/* The overrides of minga_config_override(), "section/key=value" each. */
#define S_MAX_OVERRIDES 64
static char *s_overrides[S_MAX_OVERRIDES];
static size_t s_noverrides;

int minga_config_override(const char *assignment, char *err, size_t errcap)
{
    const char *eq = strchr(assignment, '=');
    char path[256];
    if (!eq || eq == assignment || (size_t)(eq - assignment) >= sizeof path) {
        s_err(err, errcap, "--set %s: write SECTION/KEY=VALUE", assignment);
        return MINGA_EINVAL;
    }
    snprintf(path, sizeof path, "%.*s", (int)(eq - assignment), assignment);
    if (!minga_config_known(path)) {
        s_err(err, errcap, "--set %s: unknown key", path);
        return MINGA_EINVAL;
    }
    if (s_noverrides >= S_MAX_OVERRIDES) {
        s_err(err, errcap, "--set %s: more than %d", path, S_MAX_OVERRIDES);
        return MINGA_EINVAL;
    }
    if (!(s_overrides[s_noverrides] = strdup(assignment))) {
        s_err(err, errcap, "out of memory");
        return MINGA_ENOMEM;
    }
    s_noverrides++;
    return 0;
}

/* Applies the overrides that belong to table. */
static int s_apply_overrides(const minga_cfg_t *table, size_t n, void *dst, char *err,
                             size_t errcap)
{
    char msg[512];
    for (size_t i = 0; i < s_noverrides; i++) {
        const char *eq = strchr(s_overrides[i], '=');
        for (size_t j = 0; j < n; j++)
            if (strlen(table[j].path) == (size_t)(eq - s_overrides[i]) &&
                strncmp(table[j].path, s_overrides[i], (size_t)(eq - s_overrides[i])) == 0 &&
                minga_config_set(&table[j], dst, eq + 1, msg, sizeof msg) != 0) {
                s_err(err, errcap, "--set %s", msg);
                return MINGA_EINVAL;
            }
    }
    return 0;
}

/* Checks and applies every key of one section. */
static int s_load_section(const char *file, zconfig_t *section, const minga_cfg_t *table, size_t n,
                          void *dst, char *err, size_t errcap)
{
    char path[256], msg[512];
    for (zconfig_t *k = zconfig_child(section); k; k = zconfig_next(k)) {
        snprintf(path, sizeof path, "%s/%s", zconfig_name(section), zconfig_name(k));
        const minga_cfg_t *s = s_find_path(table, n, path);
        int rc = MINGA_EINVAL;
        if (!s && minga_config_known(path) && !zconfig_child(k))
            continue; /* another program's setting */
        if (!s && !minga_config_known(path))
            snprintf(msg, sizeof msg, "%s: unknown key", path);
        else if (!s)
            snprintf(msg, sizeof msg, "%s: takes a value, not a section", path);
        else if (zconfig_child(k))
            snprintf(msg, sizeof msg, "%s: takes a value, not a section", path);
        else
            rc = minga_config_set(s, dst, zconfig_value(k), msg, sizeof msg);
        if (rc != 0) {
            s_err(err, errcap, "%s:%d: %s", file, s_find_line(file, path), msg);
            return rc;
        }
    }
    return 0;
}

/* The first line (from 1) at which the file stops being valid ZPL, found by parsing ever longer
 * beginnings of it (zconfig reports the line only on its log); name receives the first word of
 * that line. Returns 0 when no line is found. */
static int s_syntax_line(const char *file, char *name, size_t cap)
{
    FILE *f = fopen(file, "r");
    if (!f)
        return 0;
    size_t size = 0, used = 0;
    char *text = NULL, line[4096];
    int lineno = 0, found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        if (used + len + 2 > size) {
            size = (used + len + 2) * 2;
            char *grown = realloc(text, size);
            if (!grown)
                break;
            text = grown;
        }
        memcpy(text + used, line, len + 1);
        used += len;
        lineno++;
        zconfig_t *probe = zconfig_str_load(text);
        if (!probe) {
            found = lineno;
            size_t skip = strspn(line, " \t");
            snprintf(name, cap, "%.*s", (int)strcspn(line + skip, " =\t\r\n"), line + skip);
        }
        zconfig_destroy(&probe);
    }
    free(text);
    fclose(f);
    return found;
}

int minga_config_load(const char *file, const minga_cfg_t *table, size_t n, void *dst, char *err,
                      size_t errcap)
{
    FILE *f = fopen(file, "r");
    if (!f) {
        int e = errno;
        s_err(err, errcap, "%s: %s", file, strerror(e));
        return -e;
    }
    /* read here and parsed from memory: zconfig_load() leaks its zfile on a syntax error */
    char *text = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&text, &size);
    char buf[4096];
    size_t got;
    while (mem && (got = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, got, mem);
    fclose(f);
    if (!mem || fclose(mem) != 0) {
        free(text);
        s_err(err, errcap, "%s: out of memory", file);
        return MINGA_ENOMEM;
    }
    zconfig_t *root = zconfig_str_load(text);
    free(text);
    if (!root) {
        char name[128] = "";
        int line = s_syntax_line(file, name, sizeof name);
        s_err(err, errcap,
              "%s:%d: %s: not valid ZPL (a section at the line's start, its keys indented by "
              "exactly 4 spaces, KEY = VALUE, text in double quotes)",
              file, line, name[0] ? name : "?");
        return MINGA_EFORMAT;
    }
    int rc = 0;
    for (zconfig_t *sec = zconfig_child(root); sec && rc == 0; sec = zconfig_next(sec)) {
        const char *name = zconfig_name(sec);
        if (!zconfig_child(sec) && zconfig_value(sec) && *zconfig_value(sec)) {
            s_err(err, errcap,
                  "%s:%d: %s: a setting belongs in a section (section, then the key "
                  "indented by 4 spaces)",
                  file, s_find_line(file, name), name);
            rc = MINGA_EINVAL;
        } else
            rc = s_load_section(file, sec, table, n, dst, err, errcap);
    }
    zconfig_destroy(&root);
    if (rc == 0)
        rc = s_apply_overrides(table, n, dst, err, errcap);
    return rc;
}

/* ---- the settings every program shares ---- */

static const minga_cfg_t s_common_table[] = {
    {"store/path", "store", MINGA_CFG_STR, offsetof(minga_common_config_t, store_path), 0, 0,
     "almacén (directorio LMDB; $MINGA_STORE o ./minga-data)"},
    {"store/map_max", "map-max", MINGA_CFG_UINT, offsetof(minga_common_config_t, map_max), 1u << 16,
     1ull << 44, "tamaño máximo del mapa del almacén, bytes (64 GiB)"},
    {"log/level", "log-level", MINGA_CFG_STR, offsetof(minga_common_config_t, log_level), 0, 0,
     "nivel del registro: debug, info, warn o error (info)"},
};

const minga_cfg_t *minga_common_config_table(size_t *n)
{
    *n = sizeof s_common_table / sizeof s_common_table[0];
    return s_common_table;
}

int minga_common_config_apply(const minga_common_config_t *c, char *err, size_t errcap)
{
    static const char *const levels[] = {"debug", "info", "warn", "error"};
    if (c->log_level && *c->log_level) {
        size_t i = 0;
        while (i < 4 && strcmp(c->log_level, levels[i]) != 0)
            i++;
        if (i == 4) {
            s_err(err, errcap, "log/level: '%s' is not debug, info, warn or error", c->log_level);
            return MINGA_EINVAL;
        }
        minga_log_set_level((minga_log_level_t)i);
    }
    if (c->store_path && *c->store_path && !(getenv("MINGA_STORE") && *getenv("MINGA_STORE")))
        setenv("MINGA_STORE", c->store_path, 1);
    if (c->map_max) {
        char text[32];
        snprintf(text, sizeof text, "%llu", (unsigned long long)c->map_max);
        setenv("MINGA_STORE_MAP_MAX", text, 1);
    }
    return 0;
}
