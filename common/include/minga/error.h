/*
 * error.h: Minga's error codes. Every library function that can fail returns an int: 0 on
 * success, otherwise a negative code. The code is either one of MINGA_E* below, an LMDB code
 * passed through (MDB_*, all negative), or a negated errno (-ENOSPC). minga_strerror() names
 * any of them.
 */
#ifndef MINGA_ERROR_H
#define MINGA_ERROR_H

enum {
    MINGA_OK = 0,
    MINGA_EINVAL = -1000,    /* invalid argument or value */
    MINGA_ENOMEM = -1001,    /* out of memory */
    MINGA_ENOTFOUND = -1002, /* no such record, file or code */
    MINGA_EEXIST = -1003,    /* already exists */
    MINGA_EFORMAT = -1004,   /* malformed data (msgpack, CSV, JSON) */
    MINGA_EVERSION = -1005,  /* unsupported schema or protocol version */
    MINGA_ETOOBIG = -1006,   /* value over a size limit */
    MINGA_EMAPFULL = -1007,  /* the store is full and could not grow */
    MINGA_EBUSY = -1008,     /* resource held by another process */
    MINGA_ETIMEOUT = -1009,  /* no answer in time */
    MINGA_EPROTO = -1010,    /* protocol violation */
    MINGA_EREJECTED = -1011, /* input rejected after validation */
    MINGA_EIO = -1012,       /* input/output error */
    MINGA_ESTATE = -1013,    /* operation not valid in the current state */
    MINGA_ELAST = -1099
};

/* Returns a static English description of rc (MINGA_E*, MDB_*, or -errno). Never NULL. */
const char *minga_strerror(int rc);

#endif
