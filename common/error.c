/*
 * error.c: one strerror for every code a Minga function may return.
 */
#include "minga/error.h"

#include <lmdb.h>
#include <string.h>

static const char *s_minga_messages[] = {
    "invalid argument or value",
    "out of memory",
    "not found",
    "already exists",
    "malformed data",
    "unsupported version",
    "value too large",
    "store is full and cannot grow further",
    "resource busy (held by another process)",
    "timed out",
    "protocol violation",
    "input rejected",
    "input/output error",
    "operation not valid in the current state",
};

const char *minga_strerror(int rc)
{
    if (rc == 0)
        return "success";
    if (rc <= MINGA_EINVAL && rc > MINGA_ELAST) {
        int i = MINGA_EINVAL - rc;
        if (i < (int)(sizeof s_minga_messages / sizeof s_minga_messages[0]))
            return s_minga_messages[i];
        return "unknown Minga error";
    }
    if (rc >= MDB_KEYEXIST && rc <= MDB_LAST_ERRCODE)
        return mdb_strerror(rc);
    if (rc < 0)
        return strerror(-rc);
    return strerror(rc);
}
