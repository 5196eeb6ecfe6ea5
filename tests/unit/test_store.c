/*
 * test_store.c: the LMDB store — create and reopen, map growth, the map's maximum (the write
 * fails whole and the store is as before), a full disk (RLIMIT_FSIZE), stale readers of a
 * killed process, and several processes writing at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "minga/error.h"
#include "minga/store.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static char s_dir[64];

static int s_setup(void **state)
{
    (void)state;
    strcpy(s_dir, "/tmp/minga-XXXXXX");
    assert_non_null(mkdtemp(s_dir));
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

typedef struct {
    minga_db_t db;
    uint64_t first, count;
    size_t vsize;
    char fill;
} s_fill_t;

static int s_fill_fn(MDB_txn *txn, void *arg)
{
    s_fill_t *f = arg;
    static char buf[1 << 16];
    memset(buf, f->fill, f->vsize);
    minga_store_t *store = *(minga_store_t **)((char *)arg + sizeof *f);
    for (uint64_t i = f->first; i < f->first + f->count; i++) {
        uint8_t key[8];
        minga_key_u64(key, i);
        MDB_val k = {8, key}, v = {f->vsize, buf};
        int rc = mdb_put(txn, minga_store_dbi(store, f->db), &k, &v, 0);
        if (rc)
            return rc;
    }
    return 0;
}

typedef struct {
    s_fill_t fill;
    minga_store_t *store;
} s_fill_arg_t;

static int s_fill(minga_store_t *store, uint64_t first, uint64_t count, size_t vsize, char c)
{
    s_fill_arg_t a = {{MINGA_DB_JOB, first, count, vsize, c}, store};
    return minga_store_write(store, s_fill_fn, &a);
}

static uint64_t s_count(minga_store_t *store, minga_db_t db)
{
    minga_store_info_t info;
    assert_int_equal(minga_store_info(store, &info), 0);
    return info.db[db].entries;
}

static void test_create_and_reopen(void **state)
{
    (void)state;
    minga_store_t *store = NULL;
    char sub[128];
    snprintf(sub, sizeof sub, "%s/a/b", s_dir);
    assert_int_equal(minga_store_open(&store, sub, 0), MINGA_ENOTFOUND);
    assert_null(store);
    assert_int_equal(minga_store_open(&store, sub, MINGA_STORE_CREATE), 0);
    assert_int_equal(s_fill(store, 1, 10, 100, 'x'), 0);
    minga_store_destroy(&store);
    assert_null(store);
    minga_store_destroy(&store); /* NULL is fine */
    assert_int_equal(minga_store_open(&store, sub, MINGA_STORE_RDONLY), 0);
    assert_int_equal(s_count(store, MINGA_DB_JOB), 10);
    assert_int_equal(s_fill(store, 1, 1, 1, 'y'), MINGA_EINVAL);
    minga_store_destroy(&store);
}

static void test_keys(void **state)
{
    (void)state;
    uint8_t k[MINGA_KEY_ID];
    assert_int_equal(minga_key_id(k, "coop-1"), 0);
    assert_memory_equal(k, "coop-1\0\0", 8);
    assert_int_equal(minga_key_id(k, "123456789012345678901234567890123"), MINGA_EINVAL);
    uint8_t b[8];
    minga_key_u64(b, 0x0102030405060708ull);
    assert_int_equal(b[0], 1);
    assert_int_equal(b[7], 8);
    assert_true(minga_key_get_u64(b) == 0x0102030405060708ull);
    minga_key_u16(b, 0x0a0b);
    assert_int_equal(minga_key_get_u16(b), 0x0a0b);
    minga_key_u32(b, 0xdeadbeef);
    assert_true(minga_key_get_u32(b) == 0xdeadbeef);
}

static void test_map_grows(void **state)
{
    (void)state;
    minga_store_t *store;
    assert_int_equal(minga_store_open(&store, s_dir, MINGA_STORE_CREATE), 0);
    minga_store_set_map_max(store, 1ull << 30);
    /* 160 MiB in one transaction: more than the 64 MiB initial map */
    assert_int_equal(s_fill(store, 1, 40000, 4096, 'g'), 0);
    minga_store_info_t info;
    assert_int_equal(minga_store_info(store, &info), 0);
    assert_true(info.map_size > MINGA_STORE_MAP_INITIAL);
    assert_int_equal(info.db[MINGA_DB_JOB].entries, 40000);
    minga_store_destroy(&store);
    /* another process sees the grown map */
    assert_int_equal(minga_store_open(&store, s_dir, 0), 0);
    assert_int_equal(s_count(store, MINGA_DB_JOB), 40000);
    minga_store_destroy(&store);
}

static void test_map_max_fails_whole(void **state)
{
    (void)state;
    minga_store_t *store;
    assert_int_equal(minga_store_open(&store, s_dir, MINGA_STORE_CREATE), 0);
    minga_store_set_map_max(store, MINGA_STORE_MAP_INITIAL);
    assert_int_equal(s_fill(store, 1, 100, 1000, 'a'), 0);
    /* 100 MiB cannot fit in a 64 MiB map that may not grow */
    assert_int_equal(s_fill(store, 1000, 25000, 4096, 'b'), MINGA_EMAPFULL);
    assert_int_equal(s_count(store, MINGA_DB_JOB), 100);
    /* and the store goes on once the limit is raised */
    minga_store_set_map_max(store, 1ull << 30);
    assert_int_equal(s_fill(store, 1000, 25000, 4096, 'b'), 0);
    assert_int_equal(s_count(store, MINGA_DB_JOB), 25100);
    minga_store_destroy(&store);
}

static void test_full_disk_leaves_store(void **state)
{
    (void)state;
    minga_store_t *store;
    assert_int_equal(minga_store_open(&store, s_dir, MINGA_STORE_CREATE), 0);
    assert_int_equal(s_fill(store, 1, 50, 1000, 'a'), 0);
    minga_store_destroy(&store);
    pid_t pid = fork();
    if (pid == 0) {
        /* the child can grow no file past 2 MiB: a disk that is full */
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {2 << 20, 2 << 20};
        setrlimit(RLIMIT_FSIZE, &rl);
        minga_store_t *s;
        if (minga_store_open(&s, s_dir, 0) != 0)
            _exit(10);
        int rc = s_fill(s, 1000, 5000, 4096, 'z');
        minga_store_destroy(&s);
        if (rc != -EFBIG && rc != -ENOSPC && rc != -EIO)
            fprintf(stderr, "full disk: write returned %d (%s)\n", rc, minga_strerror(rc));
        _exit(rc == -EFBIG || rc == -ENOSPC || rc == -EIO ? 0 : 11);
    }
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(minga_store_open(&store, s_dir, 0), 0);
    assert_int_equal(s_count(store, MINGA_DB_JOB), 50);
    assert_int_equal(s_fill(store, 1000, 10, 100, 'c'), 0);
    assert_int_equal(s_count(store, MINGA_DB_JOB), 60);
    minga_store_destroy(&store);
}

static void test_stale_readers_cleared(void **state)
{
    (void)state;
    minga_store_t *store;
    assert_int_equal(minga_store_open(&store, s_dir, MINGA_STORE_CREATE), 0);
    minga_store_destroy(&store);
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t pid = fork();
    if (pid == 0) {
        minga_store_t *s;
        MDB_txn *txn;
        if (minga_store_open(&s, s_dir, 0) != 0 || minga_store_read_begin(s, &txn) != 0)
            _exit(1);
        (void)!write(pipefd[1], "r", 1);
        pause();
        _exit(0);
    }
    char c;
    assert_int_equal(read(pipefd[0], &c, 1), 1);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    /* open clears the dead reader: nothing is left for a second check */
    assert_int_equal(minga_store_open(&store, s_dir, 0), 0);
    int dead = -1;
    assert_int_equal(mdb_reader_check(minga_store_env(store), &dead), 0);
    assert_int_equal(dead, 0);
    minga_store_destroy(&store);
    close(pipefd[0]);
    close(pipefd[1]);
}

typedef struct {
    minga_store_t *store;
} s_incr_t;

static int s_incr_fn(MDB_txn *txn, void *arg)
{
    s_incr_t *a = arg;
    MDB_dbi dbi = minga_store_dbi(a->store, MINGA_DB_META);
    MDB_val k = {7, "counter"}, v;
    uint64_t n = 0;
    int rc = mdb_get(txn, dbi, &k, &v);
    if (rc == 0 && v.mv_size == 8)
        memcpy(&n, v.mv_data, 8);
    n++;
    v = (MDB_val){8, &n};
    return mdb_put(txn, dbi, &k, &v, 0);
}

static void test_processes_write_at_once(void **state)
{
    (void)state;
    minga_store_t *store;
    assert_int_equal(minga_store_open(&store, s_dir, MINGA_STORE_CREATE), 0);
    minga_store_destroy(&store);
    enum { PROCS = 4, EACH = 250 };
    pid_t pids[PROCS];
    for (int p = 0; p < PROCS; p++) {
        if ((pids[p] = fork()) == 0) {
            minga_store_t *s;
            if (minga_store_open(&s, s_dir, 0) != 0)
                _exit(1);
            s_incr_t a = {s};
            for (int i = 0; i < EACH; i++)
                if (minga_store_write(s, s_incr_fn, &a) != 0)
                    _exit(2);
            minga_store_destroy(&s);
            _exit(0);
        }
    }
    for (int p = 0; p < PROCS; p++) {
        int status;
        waitpid(pids[p], &status, 0);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    assert_int_equal(minga_store_open(&store, s_dir, 0), 0);
    MDB_txn *txn;
    assert_int_equal(minga_store_read_begin(store, &txn), 0);
    MDB_val k = {7, "counter"}, v;
    assert_int_equal(mdb_get(txn, minga_store_dbi(store, MINGA_DB_META), &k, &v), 0);
    uint64_t n;
    memcpy(&n, v.mv_data, 8);
    assert_int_equal(n, PROCS * EACH);
    mdb_txn_abort(txn);
    minga_store_destroy(&store);
}

static void test_strerror(void **state)
{
    (void)state;
    assert_string_equal(minga_strerror(0), "success");
    assert_non_null(strstr(minga_strerror(MINGA_EMAPFULL), "full"));
    assert_non_null(strstr(minga_strerror(MDB_MAP_FULL), "MDB_MAP_FULL"));
    assert_non_null(minga_strerror(-ENOSPC));
    assert_non_null(minga_strerror(-1050));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_and_reopen, s_setup, s_teardown),
        cmocka_unit_test(test_keys),
        cmocka_unit_test_setup_teardown(test_map_grows, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_map_max_fails_whole, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_full_disk_leaves_store, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_stale_readers_cleared, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_processes_write_at_once, s_setup, s_teardown),
        cmocka_unit_test(test_strerror),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
