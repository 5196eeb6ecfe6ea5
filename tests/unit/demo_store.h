/*
 * demo_store.h: for the unit tests, a fresh store in /tmp holding the demo data set at a
 * scale (minga demo-data, then every kind imported in order, the per-event ones for event).
 */
#ifndef MINGA_TEST_DEMO_STORE_H
#define MINGA_TEST_DEMO_STORE_H

#include "minga/demo.h"
#include "minga/io.h"
#include "minga/record.h"
#include "minga/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Creates dir (a buffer of at least 64 bytes, filled with the store's path) and the store
 * *store in it. Returns 0, or -1 when anything failed. */
static inline int minga_test_demo_store(char *dir, size_t cap, double scale, const char *event,
                                        minga_store_t **store)
{
    char data[64], err[256];
    snprintf(dir, cap, "/tmp/minga-XXXXXX");
    snprintf(data, sizeof data, "/tmp/minga-d-XXXXXX");
    if (!mkdtemp(dir) || !mkdtemp(data))
        return -1;
    if (minga_demo_write(data, MINGA_DEMO_SEED, scale, NULL, err, sizeof err) != 0 ||
        minga_store_open(store, dir, MINGA_STORE_CREATE) != 0)
        return -1;
    size_t n;
    const minga_rtype_t *const *all = minga_rtypes(&n);
    for (size_t i = 0; i < n; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%s.csv", data, all[i]->kind);
        minga_import_opts_t opts = {.event = all[i]->per_event ? event : NULL};
        minga_import_report_t rep;
        int rc = minga_import_file(*store, all[i], path, &opts, &rep);
        minga_import_report_clear(&rep);
        unlink(path);
        if (rc)
            return -1;
    }
    rmdir(data);
    return 0;
}

/* Closes *store and removes dir with everything in it. Returns 0, or -1 when it could not. */
static inline int minga_test_store_remove(const char *dir, minga_store_t **store)
{
    minga_store_destroy(store);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* The demand ids of store in key order, *n of them (for cutting shards as `minga rueda score`
 * does); the caller frees each and the array. NULL (and *n 0) when the store cannot be read. */
static inline char **minga_test_demand_ids(minga_store_t *store, size_t *n)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    char **ids = NULL;
    *n = 0;
    if (minga_store_read_begin(store, &txn) != 0)
        return NULL;
    if (mdb_cursor_open(txn, minga_store_dbi(store, MINGA_DB_DEMAND), &cur) != 0) {
        mdb_txn_abort(txn);
        return NULL;
    }
    MDB_val k, v;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        char **more = realloc(ids, (*n + 1) * sizeof *ids);
        if (!more)
            break;
        ids = more;
        ids[(*n)++] = strndup(k.mv_data, k.mv_size);
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return ids;
}

#endif
