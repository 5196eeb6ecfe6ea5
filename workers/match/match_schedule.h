/*
 * match_schedule.h: the match worker's match.schedule handler (match_schedule.c).
 */
#ifndef MINGA_MATCH_SCHEDULE_H
#define MINGA_MATCH_SCHEDULE_H

#include "minga/worker.h"

/* The handler of match.schedule; arg is the store directory (const char *). */
int minga_match_schedule_handler(minga_task_t *task, void *arg);

#endif
