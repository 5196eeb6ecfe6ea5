/*
 * log.c: diagnostics on stderr, one line each, prefixed with the program and the level.
 */
#include "minga/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_program = "minga";
static int s_level = -1;

void minga_log_set_program(const char *name)
{
    s_program = name;
}

void minga_log_set_level(minga_log_level_t level)
{
    s_level = (int)level;
}

static int s_current_level(void)
{
    if (s_level < 0) {
        const char *env = getenv("MINGA_LOG");
        s_level = (env && strcmp(env, "debug") == 0) ? MINGA_LOG_DEBUG : MINGA_LOG_INFO;
    }
    return s_level;
}

void minga_log(minga_log_level_t level, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warning", "error"};
    if ((int)level < s_current_level())
        return;
    char line[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s: %s\n", s_program, names[level], line);
}
