/*
 * config.c: table-driven settings from a ZPL file (zconfig) and from flags. zconfig parses the
 * file (and reports its own syntax errors with their line); the line of a key whose value is
 * wrong is found again by walking the file's indentation, so that every error names file,
 * line and key.
 */
#include "minga/config.h"
#include "minga/error.h"

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

static bool s_section_used(const minga_cfg_t *table, size_t n, const char *section)
{
    size_t len = strlen(section);
    for (size_t i = 0; i < n; i++)
        if (strncmp(table[i].path, section, len) == 0 && table[i].path[len] == '/')
            return true;
    return false;
}

static const minga_cfg_t *s_find_path(const minga_cfg_t *table, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(table[i].path, path) == 0)
            return &table[i];
    return NULL;
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
        if (!s)
            snprintf(msg, sizeof msg, "%s: unknown key", path);
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

int minga_config_load(const char *file, const minga_cfg_t *table, size_t n, void *dst, char *err,
                      size_t errcap)
{
    FILE *f = fopen(file, "r");
    if (!f) {
        int e = errno;
        s_err(err, errcap, "%s: %s", file, strerror(e));
        return -e;
    }
    fclose(f);
    zconfig_t *root = zconfig_load(file);
    if (!root) {
        s_err(err, errcap, "%s: ZPL syntax error (the line is named on the line above)", file);
        return MINGA_EFORMAT;
    }
    int rc = 0;
    for (zconfig_t *sec = zconfig_child(root); sec && rc == 0; sec = zconfig_next(sec)) {
        if (!s_section_used(table, n, zconfig_name(sec)))
            continue;
        rc = s_load_section(file, sec, table, n, dst, err, errcap);
    }
    zconfig_destroy(&root);
    return rc;
}
