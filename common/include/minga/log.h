/*
 * log.h: diagnostics on stderr. Every line starts with the program name and the level, and
 * the caller names what and where ("gads.csv:12: ...", "store /x: ...").
 */
#ifndef MINGA_LOG_H
#define MINGA_LOG_H

typedef enum { MINGA_LOG_DEBUG, MINGA_LOG_INFO, MINGA_LOG_WARN, MINGA_LOG_ERROR } minga_log_level_t;

/* Sets the program name printed before each line (borrowed: must outlive the process). */
void minga_log_set_program(const char *name);
/* Lines below level are dropped. Default MINGA_LOG_INFO; MINGA_LOG=debug in the environment
 * lowers it. */
void minga_log_set_level(minga_log_level_t level);
void minga_log(minga_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define minga_debug(...) minga_log(MINGA_LOG_DEBUG, __VA_ARGS__)
#define minga_info(...) minga_log(MINGA_LOG_INFO, __VA_ARGS__)
#define minga_warn(...) minga_log(MINGA_LOG_WARN, __VA_ARGS__)
#define minga_error(...) minga_log(MINGA_LOG_ERROR, __VA_ARGS__)

#endif
