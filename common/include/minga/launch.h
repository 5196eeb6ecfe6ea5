/*
 * launch.h: local processes of a store — pid files held with flock, background launch, stop.
 *
 * Every long-running Minga process started for a store (the broker, each worker) keeps its pid
 * in STORE/run/NAME.pid and holds an exclusive flock(2) on that file for its whole life. A
 * process is "running" when its pid file is locked, never merely because a pid is written in
 * it: a killed process releases its lock with its last file descriptor, so a stale pid file is
 * never mistaken for a live process, and a recycled pid never either. `minga up` and
 * `minga down` judge by these locks; the broker and the worker runtime take them.
 *
 * Invariants:
 *  1. The holder locks first, then truncates the file and writes "PID\n": a pid file that
 *     holds a pid and is locked names its holder.
 *  2. A checker only tests the lock of a pid file that already holds a pid (so it never
 *     makes a starting process lose the race for its own lock).
 *  3. Lock descriptors are close-on-exec: a child never inherits a parent's lock.
 */
#ifndef MINGA_LAUNCH_H
#define MINGA_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Locks the pid file at path for the calling process (creating it, mode 0644) and writes the
 * process's pid in it. Tries for up to 250 ms. On success returns 0 and *fd_p is the locked
 * descriptor, to keep open for the life of the process (closing it releases the lock). When
 * another process holds the lock returns MINGA_EBUSY and *holder (if not NULL) is its pid or
 * 0; on other errors a negative -errno. Nothing is logged. */
int minga_pidfile_lock(const char *path, int *fd_p, pid_t *holder);

/* Is the pid file at path held by a live process? Returns 1 (then *pid, if not NULL, is the
 * pid written in it), 0 when the file is missing, empty or not locked, or a negative -errno
 * when it cannot be read. Never keeps a lock. */
int minga_pidfile_running(const char *path, pid_t *pid);

/* Starts argv[0] (an absolute path) with argv as a daemon: double fork, setsid, cwd "/",
 * stdin from /dev/null, stdout and stderr appended to log_path (created 0644). Returns 0 and
 * *pid once the program has been exec'ed; a negative -errno if the fork or the exec failed
 * (the exec's errno is reported back through a close-on-exec pipe). */
int minga_launch_daemon(char *const argv[], const char *log_path, pid_t *pid);

/* Stops the process holding the pid files paths[0..n-1]: SIGTERM to each running one, then
 * waits up to drain_ms for all of them to release their locks, then SIGKILL to those still
 * holding them and waits up to 2 s more. Removes the pid files. Returns the number of
 * processes that had to be killed (0 when all drained). killed, if not NULL, gets
 * true at each index that needed SIGKILL. */
int minga_launch_stop(char *const paths[], int n, int drain_ms, bool *killed);

#endif
