/*
 * test_launch.c: pid files held with flock and the daemon launcher (launch.h): a lock taken
 * is seen as running by another process and refused to a second holder; a pid file whose
 * holder died, or that names a pid without a lock, is not running; the daemon runs with its
 * output in the log; a missing program is reported with the exec's errno; stop sends SIGTERM,
 * then SIGKILL after the drain time-out, and removes the pid files.
 */
#include "minga/error.h"
#include "minga/launch.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char s_dir[64];

static int s_setup(void **state)
{
    (void)state;
    snprintf(s_dir, sizeof s_dir, "/tmp/minga-XXXXXX");
    return mkdtemp(s_dir) ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_lock(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/a.pid", s_dir);
    assert_int_equal(minga_pidfile_running(path, NULL), 0);
    int fd;
    assert_int_equal(minga_pidfile_lock(path, &fd, NULL), 0);
    /* another process sees it held, and cannot take it */
    pid_t child = fork();
    if (child == 0) {
        pid_t pid = 0, holder = 0;
        int other;
        int ok = minga_pidfile_running(path, &pid) == 1 && pid == getppid() &&
                 minga_pidfile_lock(path, &other, &holder) == MINGA_EBUSY && holder == getppid();
        _exit(ok ? 0 : 1);
    }
    int status;
    waitpid(child, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(fd);
    assert_int_equal(minga_pidfile_running(path, NULL), 0);
}

static void test_stale(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/b.pid", s_dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "%ld\n", (long)getpid()); /* a live pid, but no lock */
    fclose(f);
    assert_int_equal(minga_pidfile_running(path, NULL), 0);
    /* a holder killed with SIGKILL releases its lock */
    pid_t child = fork();
    if (child == 0) {
        int fd;
        if (minga_pidfile_lock(path, &fd, NULL) != 0)
            _exit(1);
        pause();
        _exit(0);
    }
    for (int i = 0; i < 200 && minga_pidfile_running(path, NULL) != 1; i++)
        usleep(10000);
    pid_t pid;
    assert_int_equal(minga_pidfile_running(path, &pid), 1);
    assert_int_equal(pid, child);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    assert_int_equal(minga_pidfile_running(path, NULL), 0);
}

static void test_daemon_and_stop(void **state)
{
    (void)state;
    char log[128], pidfile[128], script[512];
    snprintf(log, sizeof log, "%s/d.log", s_dir);
    snprintf(pidfile, sizeof pidfile, "%s/d.pid", s_dir);
    /* flock(1) holds the pid file's lock for the shell, which ignores SIGTERM */
    snprintf(script, sizeof script,
             "exec 9>>%s; flock -n 9 || exit 1; echo $$ > %s; echo started; trap '' TERM; "
             "while :; do sleep 0.05; done",
             pidfile, pidfile);
    char *argv[] = {"/bin/sh", "-c", script, NULL};
    pid_t pid;
    assert_int_equal(minga_launch_daemon(argv, log, &pid), 0);
    assert_true(pid > 0);
    for (int i = 0; i < 300 && minga_pidfile_running(pidfile, NULL) != 1; i++)
        usleep(10000);
    assert_int_equal(minga_pidfile_running(pidfile, NULL), 1);
    char *paths[] = {pidfile};
    bool killed[1];
    assert_int_equal(minga_launch_stop(paths, 1, 300, killed), 1);
    assert_true(killed[0]);
    assert_int_equal(access(pidfile, F_OK), -1);
    FILE *f = fopen(log, "r");
    char line[64] = "";
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_string_equal(line, "started\n");

    char *missing[] = {"/nonexistent/minga-nothing", NULL};
    assert_int_equal(minga_launch_daemon(missing, log, &pid), -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lock),
        cmocka_unit_test(test_stale),
        cmocka_unit_test(test_daemon_and_stop),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
