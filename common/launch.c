/*
 * launch.c: pid files held with flock(2), daemon launch and stop, for `minga up`/`minga down`,
 * the broker and the worker runtime. See launch.h for the invariants.
 */
#include "minga/launch.h"

#include "minga/error.h"
#include "minga/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void s_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

/* Reads the pid written in fd (0 when empty or not a number). */
static pid_t s_read_pid(int fd)
{
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    long v = strtol(buf, NULL, 10);
    return v > 0 ? (pid_t)v : 0;
}

int minga_pidfile_lock(const char *path, int *fd_p, pid_t *holder)
{
    *fd_p = -1;
    if (holder)
        *holder = 0;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    int tries = 0;
    while (flock(fd, LOCK_EX | LOCK_NB) == -1) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            int rc = -errno;
            close(fd);
            return rc;
        }
        if (++tries > 25) {
            if (holder)
                *holder = s_read_pid(fd);
            close(fd);
            return MINGA_EBUSY;
        }
        s_sleep_ms(10);
    }
    char line[32];
    int len = snprintf(line, sizeof line, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) == -1 || pwrite(fd, line, (size_t)len, 0) != len) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    *fd_p = fd;
    return 0;
}

int minga_pidfile_running(const char *path, pid_t *pid)
{
    if (pid)
        *pid = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    pid_t written = s_read_pid(fd);
    int running = 0;
    if (written > 0) {
        if (flock(fd, LOCK_SH | LOCK_NB) == -1)
            running = errno == EWOULDBLOCK ? 1 : -errno;
        else
            flock(fd, LOCK_UN);
    }
    close(fd);
    if (running == 1 && pid)
        *pid = written;
    return running;
}

/* The grandchild: becomes the daemon and execs argv; reports an exec failure on pipe_fd. */
static void s_daemon_exec(char *const argv[], const char *log_path, int pipe_fd)
{
    int err = 0;
    int in = open("/dev/null", O_RDONLY);
    int out = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
        err = errno;
    if (in > 2)
        close(in);
    if (out > 2)
        close(out);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    if (!err && chdir("/") == -1)
        err = errno;
    if (!err) {
        execv(argv[0], argv);
        err = errno;
    }
    char msg[1 + sizeof err];
    msg[0] = 'E';
    memcpy(msg + 1, &err, sizeof err);
    if (write(pipe_fd, msg, sizeof msg) < 0)
        _exit(126);
    _exit(127);
}

int minga_launch_daemon(char *const argv[], const char *log_path, pid_t *pid)
{
    int p[2];
    *pid = 0;
    if (pipe2(p, O_CLOEXEC) == -1)
        return -errno;
    fflush(NULL);
    pid_t child = fork();
    if (child < 0) {
        int rc = -errno;
        close(p[0]);
        close(p[1]);
        return rc;
    }
    if (child == 0) {
        close(p[0]);
        setsid();
        pid_t grand = fork();
        if (grand == 0)
            s_daemon_exec(argv, log_path, p[1]);
        char msg[1 + sizeof grand];
        msg[0] = grand > 0 ? 'P' : 'F';
        memcpy(msg + 1, &grand, sizeof grand);
        _exit(write(p[1], msg, sizeof msg) == (ssize_t)sizeof msg ? 0 : 1);
    }
    close(p[1]);
    int rc = -ECHILD;
    char msg[2 + sizeof(pid_t) + sizeof(int)];
    size_t got = 0;
    ssize_t n;
    while ((n = read(p[0], msg + got, sizeof msg - got)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        got += (size_t)n;
        if (got >= 1 + sizeof(pid_t) && msg[0] == 'P' && rc == -ECHILD) {
            memcpy(pid, msg + 1, sizeof(pid_t));
            rc = 0;
        }
    }
    close(p[0]);
    waitpid(child, NULL, 0);
    if (got >= 1 + sizeof(pid_t) && msg[0] == 'F')
        rc = -EAGAIN;
    /* After the 'P' record, the grandchild may have written an 'E' record of its own. */
    if (got >= 1 + sizeof(pid_t) + 1 + sizeof(int) && msg[1 + sizeof(pid_t)] == 'E') {
        int err;
        memcpy(&err, msg + 2 + sizeof(pid_t), sizeof err);
        rc = -err;
    }
    return rc;
}

/* Waits up to ms for every running entry of paths to stop; returns how many still run. */
static int s_wait_stopped(char *const paths[], int n, const bool *running, int ms)
{
    for (int waited = 0;; waited += 20) {
        int left = 0;
        for (int i = 0; i < n; i++)
            if (running[i] && minga_pidfile_running(paths[i], NULL) == 1)
                left++;
        if (left == 0 || waited >= ms)
            return left;
        s_sleep_ms(20);
    }
}

int minga_launch_stop(char *const paths[], int n, int drain_ms, bool *killed)
{
    bool *running = calloc((size_t)(n > 0 ? n : 1), sizeof *running);
    if (!running)
        return MINGA_ENOMEM;
    for (int i = 0; i < n; i++) {
        pid_t pid;
        if (killed)
            killed[i] = false;
        if (minga_pidfile_running(paths[i], &pid) == 1 && kill(pid, SIGTERM) == 0)
            running[i] = true;
    }
    int nkilled = 0;
    if (s_wait_stopped(paths, n, running, drain_ms) > 0) {
        for (int i = 0; i < n; i++) {
            pid_t pid;
            if (running[i] && minga_pidfile_running(paths[i], &pid) == 1) {
                kill(pid, SIGKILL);
                nkilled++;
                if (killed)
                    killed[i] = true;
            }
        }
        s_wait_stopped(paths, n, running, 2000);
    }
    for (int i = 0; i < n; i++)
        if (minga_pidfile_running(paths[i], NULL) != 1)
            unlink(paths[i]);
    free(running);
    return nkilled;
}
