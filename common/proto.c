/*
 * proto.c: the MINGA01 codec (schemas/PROTOCOL.md): names of commands, error codes and job
 * states; defensive decoding of frames and msgpack bodies; the job map and the job spec.
 *
 * Every byte handed to a decoder here may come from a hostile peer. Bodies are first walked
 * by minga_mp_validate(), which refuses any declared length or element count that does not
 * fit in the bytes that remain (so msgpack-c never allocates for a lie) and any nesting deeper
 * than MINGA_PROTO_MAX_DEPTH; only then does msgpack-c unpack them. Field tables
 * (minga_pfield_t) then check keys, types and ranges, so that handlers read checked values.
 */
#include "minga/proto.h"
#include "minga/error.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- names ---- */

static const char *s_cmd_names[MINGA_CMD_COUNT] = {
    [MINGA_CMD_ENQUEUE] = "ENQUEUE",
    [MINGA_CMD_BATCH] = "BATCH",
    [MINGA_CMD_STATUS] = "STATUS",
    [MINGA_CMD_WAIT] = "WAIT",
    [MINGA_CMD_CANCEL] = "CANCEL",
    [MINGA_CMD_RETRY] = "RETRY",
    [MINGA_CMD_LIST] = "LIST",
    [MINGA_CMD_STATS] = "STATS",
    [MINGA_CMD_WORKERS] = "WORKERS",
    [MINGA_CMD_PING] = "PING",
    [MINGA_CMD_READY] = "READY",
    [MINGA_CMD_WELCOME] = "WELCOME",
    [MINGA_CMD_JOB] = "JOB",
    [MINGA_CMD_PROGRESS] = "PROGRESS",
    [MINGA_CMD_DONE] = "DONE",
    [MINGA_CMD_FAIL] = "FAIL",
    [MINGA_CMD_RELEASE] = "RELEASE",
    [MINGA_CMD_HEARTBEAT] = "HEARTBEAT",
    [MINGA_CMD_DISCONNECT] = "DISCONNECT",
    [MINGA_CMD_FETCH] = "FETCH",
    [MINGA_CMD_FETCHED] = "FETCHED",
    [MINGA_CMD_JOBS] = "JOBS",
    [MINGA_CMD_ERROR] = "ERROR",
};

static const char *s_perr_names[MINGA_PERR_COUNT] = {
    [MINGA_PERR_NONE] = "none",
    [MINGA_PERR_BAD_FRAME] = "bad_frame",
    [MINGA_PERR_BAD_VERSION] = "bad_version",
    [MINGA_PERR_UNKNOWN_COMMAND] = "unknown_command",
    [MINGA_PERR_BAD_BODY] = "bad_body",
    [MINGA_PERR_TOO_BIG] = "too_big",
    [MINGA_PERR_UNKNOWN_JOB_TYPE] = "unknown_job_type",
    [MINGA_PERR_NOT_FOUND] = "not_found",
    [MINGA_PERR_INVALID_STATE] = "invalid_state",
    [MINGA_PERR_STORE_FULL] = "store_full",
    [MINGA_PERR_INTERNAL] = "internal",
    [MINGA_PERR_FORBIDDEN] = "forbidden",
};

static const char *s_state_names[MINGA_JOB_STATE_COUNT] = {
    [MINGA_JOB_WAITING] = "waiting",     [MINGA_JOB_QUEUED] = "queued",
    [MINGA_JOB_LEASED] = "leased",       [MINGA_JOB_DONE] = "done",
    [MINGA_JOB_FAILED] = "failed",       [MINGA_JOB_DEAD] = "dead",
    [MINGA_JOB_CANCELLED] = "cancelled",
};

const char *minga_cmd_name(minga_cmd_t cmd)
{
    return ((unsigned)cmd < MINGA_CMD_COUNT) ? s_cmd_names[cmd] : "?";
}

int minga_cmd_parse(const void *data, size_t len)
{
    for (int i = 0; i < MINGA_CMD_COUNT; i++)
        if (strlen(s_cmd_names[i]) == len && memcmp(s_cmd_names[i], data, len) == 0)
            return i;
    return -1;
}

const char *minga_perr_name(minga_perr_t code)
{
    return ((unsigned)code < MINGA_PERR_COUNT) ? s_perr_names[code] : "?";
}

minga_perr_t minga_perr_parse(const char *name)
{
    for (int i = 0; i < MINGA_PERR_COUNT; i++)
        if (name && strcmp(s_perr_names[i], name) == 0)
            return (minga_perr_t)i;
    return MINGA_PERR_COUNT;
}

const char *minga_job_state_name(minga_job_state_t state)
{
    return ((unsigned)state < MINGA_JOB_STATE_COUNT) ? s_state_names[state] : "?";
}

int minga_job_state_parse(const char *name)
{
    for (int i = 0; i < MINGA_JOB_STATE_COUNT; i++)
        if (name && strcmp(s_state_names[i], name) == 0)
            return i;
    return -1;
}

static int s_state_parsen(const char *name, size_t len)
{
    for (int i = 0; i < MINGA_JOB_STATE_COUNT; i++)
        if (strlen(s_state_names[i]) == len && memcmp(s_state_names[i], name, len) == 0)
            return i;
    return -1;
}

bool minga_job_state_is_end(minga_job_state_t state)
{
    return state == MINGA_JOB_DONE || state == MINGA_JOB_DEAD || state == MINGA_JOB_CANCELLED;
}

bool minga_job_type_valid(const char *type, size_t len)
{
    if (!type || len == 0 || len > MINGA_PROTO_MAX_TYPE)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = type[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
            return false;
    }
    return true;
}

uint64_t minga_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void s_err(char *err, size_t errcap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void s_err(char *err, size_t errcap, const char *fmt, ...)
{
    if (!err || errcap == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errcap, fmt, ap);
    va_end(ap);
}

/* ---- msgpack validation ---- */

static uint64_t s_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Sizes of the fixed-width types 0xc0..0xdf: payload bytes, or -1 for "length follows in
 * (-code) bytes" handled below. */
typedef struct {
    uint8_t lenbytes; /* bytes of the length field (str/bin/ext/array/map) */
    uint8_t fixed;    /* fixed payload bytes */
    uint8_t kind;     /* 0 scalar, 1 bytes of a length, 2 ext, 3 array, 4 map, 5 invalid */
} s_mp_type_t;

static const s_mp_type_t s_mp_types[32] = {
    [0x00] = {0, 0, 0},                                          /* nil */
    [0x01] = {0, 0, 5},                                          /* never used */
    [0x02] = {0, 0, 0},  [0x03] = {0, 0, 0},                     /* false, true */
    [0x04] = {1, 0, 1},  [0x05] = {2, 0, 1}, [0x06] = {4, 0, 1}, /* bin */
    [0x07] = {1, 1, 2},  [0x08] = {2, 1, 2}, [0x09] = {4, 1, 2}, /* ext */
    [0x0a] = {0, 4, 0},  [0x0b] = {0, 8, 0},                     /* float */
    [0x0c] = {0, 1, 0},  [0x0d] = {0, 2, 0}, [0x0e] = {0, 4, 0}, [0x0f] = {0, 8, 0}, /* uint */
    [0x10] = {0, 1, 0},  [0x11] = {0, 2, 0}, [0x12] = {0, 4, 0}, [0x13] = {0, 8, 0}, /* int */
    [0x14] = {0, 2, 0},  [0x15] = {0, 3, 0}, [0x16] = {0, 5, 0}, [0x17] = {0, 9, 0},
    [0x18] = {0, 17, 0},                                         /* fixext */
    [0x19] = {1, 0, 1},  [0x1a] = {2, 0, 1}, [0x1b] = {4, 0, 1}, /* str */
    [0x1c] = {2, 0, 3},  [0x1d] = {4, 0, 3},                     /* array */
    [0x1e] = {2, 0, 4},  [0x1f] = {4, 0, 4},                     /* map */
};

static int s_mp_skip(const uint8_t **pp, const uint8_t *end, unsigned depth, unsigned max_depth)
{
    const uint8_t *p = *pp;
    if (p >= end)
        return -1;
    uint8_t b = *p++;
    uint64_t count = 0, bytes = 0;
    int kind = 0;
    if (b <= 0x7f || b >= 0xe0) {
        kind = 0;
    } else if (b <= 0x8f) {
        kind = 4, count = b & 0x0f;
    } else if (b <= 0x9f) {
        kind = 3, count = b & 0x0f;
    } else if (b <= 0xbf) {
        bytes = b & 0x1f;
    } else {
        const s_mp_type_t *t = &s_mp_types[b - 0xc0];
        if (t->kind == 5)
            return -1;
        if ((size_t)(end - p) < (size_t)t->lenbytes + t->fixed)
            return -1;
        uint64_t n = s_be(p, t->lenbytes);
        p += t->lenbytes;
        kind = t->kind;
        if (kind == 0)
            bytes = t->fixed;
        else if (kind == 1)
            bytes = n;
        else if (kind == 2)
            bytes = n + 1;
        else
            count = n;
    }
    if (kind == 3 || kind == 4) {
        if (depth + 1 > max_depth)
            return -1;
        uint64_t items = kind == 4 ? count * 2 : count;
        if (items > (uint64_t)(end - p)) /* each item takes at least one byte */
            return -1;
        for (uint64_t i = 0; i < items; i++)
            if (s_mp_skip(&p, end, depth + 1, max_depth) != 0)
                return -1;
    } else {
        if (bytes > (uint64_t)(end - p))
            return -1;
        p += bytes;
    }
    *pp = p;
    return 0;
}

int minga_mp_validate(const void *data, size_t len, unsigned max_depth)
{
    if (!data || len == 0)
        return MINGA_EFORMAT;
    const uint8_t *p = data, *end = p + len;
    if (s_mp_skip(&p, end, 0, max_depth) != 0 || p != end)
        return MINGA_EFORMAT;
    return 0;
}

int minga_proto_body_decode(const void *data, size_t len, msgpack_unpacked *up,
                            msgpack_object **root, char *err, size_t errcap)
{
    static const char empty_map = (char)0x80;
    if (len == 0) {
        data = &empty_map;
        len = 1;
    }
    if (minga_mp_validate(data, len, MINGA_PROTO_MAX_DEPTH) != 0) {
        s_err(err, errcap, "body is not one well-formed msgpack value (at most %d levels deep)",
              MINGA_PROTO_MAX_DEPTH);
        return MINGA_EFORMAT;
    }
    size_t off = 0;
    msgpack_unpack_return ret = msgpack_unpack_next(up, data, len, &off);
    if (ret != MSGPACK_UNPACK_SUCCESS || off != len) {
        s_err(err, errcap, "body is not one well-formed msgpack value");
        return MINGA_EFORMAT;
    }
    if (up->data.type != MSGPACK_OBJECT_MAP) {
        s_err(err, errcap, "body must be a msgpack map");
        return MINGA_EFORMAT;
    }
    *root = &up->data;
    return 0;
}

/* ---- object helpers ---- */

static bool s_is_str(const msgpack_object *o)
{
    return o->type == MSGPACK_OBJECT_STR || o->type == MSGPACK_OBJECT_BIN;
}

static bool s_is_uint(const msgpack_object *o)
{
    return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER;
}

const char *minga_pobj_str(const msgpack_object *o, size_t *len)
{
    if (!o || !s_is_str(o)) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = o->type == MSGPACK_OBJECT_STR ? o->via.str.size : o->via.bin.size;
    return o->type == MSGPACK_OBJECT_STR ? o->via.str.ptr : o->via.bin.ptr;
}

uint64_t minga_pobj_uint(const msgpack_object *o, uint64_t dflt)
{
    return (o && s_is_uint(o)) ? o->via.u64 : dflt;
}

bool minga_pobj_bool(const msgpack_object *o, bool dflt)
{
    return (o && o->type == MSGPACK_OBJECT_BOOLEAN) ? o->via.boolean : dflt;
}

char *minga_pobj_strdup(const msgpack_object *o)
{
    size_t len;
    const char *s = minga_pobj_str(o, &len);
    if (!s)
        return NULL;
    char *copy = malloc(len + 1);
    if (copy) {
        memcpy(copy, s, len);
        copy[len] = '\0';
    }
    return copy;
}

bool minga_pobj_str_eq(const msgpack_object *o, const char *s)
{
    size_t len;
    const char *v = minga_pobj_str(o, &len);
    return v && strlen(s) == len && memcmp(v, s, len) == 0;
}

static bool s_key_eq(const msgpack_object *k, const char *name)
{
    if (k->type == MSGPACK_OBJECT_STR) /* the common case, without strlen */
        return k->via.str.size > 0 && k->via.str.ptr[0] == name[0] &&
               strnlen(name, k->via.str.size + 1) == k->via.str.size &&
               memcmp(k->via.str.ptr, name, k->via.str.size) == 0;
    return minga_pobj_str_eq(k, name);
}

const msgpack_object *minga_pobj_get(const msgpack_object *o, const char *key)
{
    if (!o || o->type != MSGPACK_OBJECT_MAP)
        return NULL;
    for (uint32_t i = 0; i < o->via.map.size; i++)
        if (s_key_eq(&o->via.map.ptr[i].key, key))
            return &o->via.map.ptr[i].val;
    return NULL;
}

int minga_pobj_pack(const msgpack_object *o, uint8_t **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    if (!o)
        return 0;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    if (msgpack_pack_object(&pk, *o) != 0 || sb.size == 0) {
        msgpack_sbuffer_destroy(&sb);
        return MINGA_ENOMEM;
    }
    /* msgpack's buffer starts at 8 KiB: give back what the value does not use */
    uint8_t *exact = realloc(sb.data, sb.size);
    *buf = exact ? exact : (uint8_t *)sb.data;
    *len = sb.size;
    return 0;
}

/* ---- field tables ---- */

static int s_check_str(const msgpack_object *v, const minga_pfield_t *f, char *err, size_t errcap)
{
    size_t len;
    const char *s = minga_pobj_str(v, &len);
    if (!s) {
        s_err(err, errcap, "%s: must be a string", f->name);
        return MINGA_EFORMAT;
    }
    if (len < f->min || (f->max && len > f->max)) {
        s_err(err, errcap, "%s: length must be %llu..%llu bytes", f->name,
              (unsigned long long)f->min, (unsigned long long)f->max);
        return MINGA_EFORMAT;
    }
    if (memchr(s, '\0', len)) {
        s_err(err, errcap, "%s: must not contain a NUL byte", f->name);
        return MINGA_EFORMAT;
    }
    return 0;
}

static int s_check_count(const msgpack_object *v, const minga_pfield_t *f, char *err, size_t errcap)
{
    if (v->type != MSGPACK_OBJECT_ARRAY) {
        s_err(err, errcap, "%s: must be an array", f->name);
        return MINGA_EFORMAT;
    }
    uint32_t n = v->via.array.size;
    if (n < f->min || (f->max && n > f->max)) {
        s_err(err, errcap, "%s: must have %llu..%llu elements", f->name, (unsigned long long)f->min,
              (unsigned long long)f->max);
        return MINGA_EFORMAT;
    }
    return 0;
}

static int s_check_field(const msgpack_object *v, const minga_pfield_t *f, char *err, size_t errcap)
{
    switch (f->type) {
    case MINGA_PF_UINT:
        if (!s_is_uint(v) || v->via.u64 < f->min || (f->max && v->via.u64 > f->max)) {
            s_err(err, errcap, "%s: must be an integer %llu..%llu", f->name,
                  (unsigned long long)f->min, (unsigned long long)(f->max ? f->max : UINT64_MAX));
            return MINGA_EFORMAT;
        }
        return 0;
    case MINGA_PF_STR:
        return s_check_str(v, f, err, errcap);
    case MINGA_PF_BOOL:
        if (v->type != MSGPACK_OBJECT_BOOLEAN) {
            s_err(err, errcap, "%s: must be true or false", f->name);
            return MINGA_EFORMAT;
        }
        return 0;
    case MINGA_PF_ANY:
        return 0;
    case MINGA_PF_MAP:
        if (v->type != MSGPACK_OBJECT_MAP) {
            s_err(err, errcap, "%s: must be a map", f->name);
            return MINGA_EFORMAT;
        }
        return 0;
    case MINGA_PF_ARRAY:
        return s_check_count(v, f, err, errcap);
    case MINGA_PF_UINTS:
        if (s_check_count(v, f, err, errcap) != 0)
            return MINGA_EFORMAT;
        for (uint32_t i = 0; i < v->via.array.size; i++) {
            const msgpack_object *e = &v->via.array.ptr[i];
            if (!s_is_uint(e) || e->via.u64 == 0) {
                s_err(err, errcap, "%s[%u]: must be an integer >= 1", f->name, i);
                return MINGA_EFORMAT;
            }
        }
        return 0;
    case MINGA_PF_STRS:
        if (s_check_count(v, f, err, errcap) != 0)
            return MINGA_EFORMAT;
        for (uint32_t i = 0; i < v->via.array.size; i++) {
            minga_pfield_t ef = {f->name, MINGA_PF_STR, true, 1, MINGA_PROTO_MAX_TYPE};
            if (s_check_str(&v->via.array.ptr[i], &ef, err, errcap) != 0)
                return MINGA_EFORMAT;
        }
        return 0;
    }
    s_err(err, errcap, "%s: bad field descriptor", f->name);
    return MINGA_EFORMAT;
}

static void s_key_text(const msgpack_object *k, char *dst, size_t cap)
{
    size_t len;
    const char *s = minga_pobj_str(k, &len);
    if (!s) {
        snprintf(dst, cap, "(a key that is not a string)");
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < cap && i < 40; i++)
        dst[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    dst[n] = '\0';
}

int minga_pfields(const msgpack_object *obj, const minga_pfield_t *fields, size_t n,
                  const msgpack_object **out, bool strict, char *err, size_t errcap)
{
    for (size_t i = 0; i < n; i++)
        out[i] = NULL;
    if (!obj || obj->type != MSGPACK_OBJECT_MAP) {
        s_err(err, errcap, "must be a map");
        return MINGA_EFORMAT;
    }
    for (uint32_t k = 0; k < obj->via.map.size; k++) {
        const msgpack_object_kv *kv = &obj->via.map.ptr[k];
        size_t i = 0;
        while (i < n && !s_key_eq(&kv->key, fields[i].name))
            i++;
        if (i == n) {
            if (!strict)
                continue;
            char name[48];
            s_key_text(&kv->key, name, sizeof name);
            s_err(err, errcap, "unknown field '%s'", name);
            return MINGA_EFORMAT;
        }
        if (out[i]) {
            s_err(err, errcap, "%s: given twice", fields[i].name);
            return MINGA_EFORMAT;
        }
        if (kv->val.type == MSGPACK_OBJECT_NIL && fields[i].type != MINGA_PF_ANY) {
            out[i] = NULL;
            continue;
        }
        if (s_check_field(&kv->val, &fields[i], err, errcap) != 0)
            return MINGA_EFORMAT;
        out[i] = &kv->val;
    }
    for (size_t i = 0; i < n; i++) {
        if (out[i] && out[i]->type == MSGPACK_OBJECT_NIL)
            out[i] = NULL;
        if (fields[i].required && !out[i]) {
            s_err(err, errcap, "%s: missing", fields[i].name);
            return MINGA_EFORMAT;
        }
    }
    return 0;
}

/* ---- messages ---- */

void minga_pmsg_init(minga_pmsg_t *m)
{
    memset(m, 0, sizeof *m);
    msgpack_unpacked_init(&m->up);
}

void minga_pmsg_clear(minga_pmsg_t *m)
{
    zframe_destroy(&m->routing);
    zframe_destroy(&m->body_frame);
    msgpack_unpacked_destroy(&m->up);
    minga_pmsg_init(m);
}

static void s_printable(char *dst, size_t cap, const void *data, size_t len)
{
    const uint8_t *s = data;
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < cap; i++)
        dst[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
    dst[n] = '\0';
}

/* Reads "rid" from a body that may be otherwise bad, for the error reply. */
static void s_find_rid(minga_pmsg_t *m, const msgpack_object *root)
{
    const msgpack_object *rid = minga_pobj_get(root, "rid");
    if (rid && s_is_uint(rid)) {
        m->has_rid = true;
        m->rid = rid->via.u64;
    }
}

static int s_fail(minga_perr_t *perr, minga_perr_t code)
{
    *perr = code;
    return MINGA_EPROTO;
}

int minga_pmsg_decode(minga_pmsg_t *m, zmsg_t **msg_p, bool router, size_t max_body,
                      minga_perr_t *perr, char *err, size_t errcap)
{
    minga_pmsg_clear(m);
    *perr = MINGA_PERR_NONE;
    if (err && errcap)
        err[0] = '\0';
    zmsg_t *msg = *msg_p;
    *msg_p = NULL;
    int rc = 0;
    if (!msg || zmsg_size(msg) == 0) {
        s_err(err, errcap, "empty message");
        rc = s_fail(perr, MINGA_PERR_BAD_FRAME);
        goto done;
    }
    if (router)
        m->routing = zmsg_pop(msg);
    m->size = zmsg_content_size(msg);
    zframe_t *first = zmsg_first(msg);
    if (first && zframe_size(first) == 0) {
        m->delimiter = true;
        zframe_t *delim = zmsg_pop(msg);
        zframe_destroy(&delim);
    }
    if (max_body && m->size > max_body) {
        /* The command, for the caller's logs and decisions (the body is not read). */
        zframe_t *command = zmsg_first(msg) ? zmsg_next(msg) : NULL;
        if (command)
            s_printable(m->cmd_text, sizeof m->cmd_text, zframe_data(command),
                        zframe_size(command));
        s_err(err, errcap, "message of %zu bytes is larger than the limit of %zu bytes", m->size,
              max_body);
        rc = s_fail(perr, MINGA_PERR_TOO_BIG);
        goto done;
    }
    if (zmsg_size(msg) != 3) {
        s_err(err, errcap,
              "expected 3 frames after the delimiter (version, command, body), got %zu",
              zmsg_size(msg));
        rc = s_fail(perr, MINGA_PERR_BAD_FRAME);
        goto done;
    }
    zframe_t *version = zmsg_pop(msg);
    bool version_ok = zframe_streq(version, MINGA_PROTO_VERSION);
    zframe_destroy(&version);
    zframe_t *command = zmsg_pop(msg);
    m->body_frame = zmsg_pop(msg);
    s_printable(m->cmd_text, sizeof m->cmd_text, zframe_data(command), zframe_size(command));
    int cmd = minga_cmd_parse(zframe_data(command), zframe_size(command));
    bool empty_cmd = zframe_size(command) == 0;
    zframe_destroy(&command);
    /* Read the body first (for its rid), then judge version and command. */
    char body_err[200];
    int body_rc = minga_proto_body_decode(zframe_data(m->body_frame), zframe_size(m->body_frame),
                                          &m->up, &m->root, body_err, sizeof body_err);
    if (body_rc == 0)
        s_find_rid(m, m->root);
    if (!version_ok) {
        s_err(err, errcap, "unsupported protocol version (this broker speaks %s)",
              MINGA_PROTO_VERSION);
        rc = s_fail(perr, MINGA_PERR_BAD_VERSION);
    } else if (empty_cmd) {
        s_err(err, errcap, "empty command frame");
        rc = s_fail(perr, MINGA_PERR_BAD_FRAME);
    } else if (cmd < 0) {
        s_err(err, errcap, "unknown command '%s'", m->cmd_text);
        rc = s_fail(perr, MINGA_PERR_UNKNOWN_COMMAND);
    } else if (body_rc != 0) {
        s_err(err, errcap, "%s", body_err);
        rc = s_fail(perr, MINGA_PERR_BAD_BODY);
    } else {
        m->cmd = (minga_cmd_t)cmd;
    }
done:
    zmsg_destroy(&msg);
    return rc;
}

int minga_proto_send(zsock_t *sock, zframe_t *routing, bool delimiter, minga_cmd_t cmd,
                     const void *body, size_t len)
{
    void *h = zsock_resolve(sock);
    static const char empty_map = (char)0x80;
    if (!body || len == 0) {
        body = &empty_map;
        len = 1;
    }
    const char *name = minga_cmd_name(cmd);
    if (routing && zmq_send(h, zframe_data(routing), zframe_size(routing), ZMQ_SNDMORE) < 0)
        return -1;
    if (delimiter && zmq_send(h, "", 0, ZMQ_SNDMORE) < 0)
        return -1;
    if (zmq_send(h, MINGA_PROTO_VERSION, strlen(MINGA_PROTO_VERSION), ZMQ_SNDMORE) < 0)
        return -1;
    if (zmq_send(h, name, strlen(name), ZMQ_SNDMORE) < 0)
        return -1;
    if (zmq_send(h, body, len, 0) < 0)
        return -1;
    return 0;
}

int minga_proto_send_error(zsock_t *sock, zframe_t *routing, bool delimiter, bool has_rid,
                           uint64_t rid, minga_perr_t code, const char *message, uint64_t id)
{
    minga_pbuf_t b;
    minga_pbuf_init(&b);
    msgpack_pack_map(&b.pk, 2 + (has_rid ? 1 : 0) + (id ? 1 : 0));
    if (has_rid)
        minga_pk_kv_uint(&b.pk, "rid", rid);
    minga_pk_kv_str(&b.pk, "code", minga_perr_name(code));
    minga_pk_kv_str(&b.pk, "message", message ? message : "");
    if (id)
        minga_pk_kv_uint(&b.pk, "id", id);
    int rc = minga_proto_send(sock, routing, delimiter, MINGA_CMD_ERROR, b.sbuf.data, b.sbuf.size);
    minga_pbuf_clear(&b);
    return rc;
}

/* ---- building bodies ---- */

void minga_pbuf_init(minga_pbuf_t *b)
{
    msgpack_sbuffer_init(&b->sbuf);
    msgpack_packer_init(&b->pk, &b->sbuf, msgpack_sbuffer_write);
}

void minga_pbuf_reset(minga_pbuf_t *b)
{
    msgpack_sbuffer_clear(&b->sbuf);
}

void minga_pbuf_clear(minga_pbuf_t *b)
{
    msgpack_sbuffer_destroy(&b->sbuf);
    minga_pbuf_init(b);
}

int minga_pk_strn(msgpack_packer *pk, const void *s, size_t len)
{
    if (msgpack_pack_str(pk, len) != 0)
        return -1;
    return msgpack_pack_str_body(pk, s, len);
}

int minga_pk_str(msgpack_packer *pk, const char *s)
{
    return minga_pk_strn(pk, s ? s : "", s ? strlen(s) : 0);
}

int minga_pk_kv_uint(msgpack_packer *pk, const char *key, uint64_t v)
{
    return minga_pk_str(pk, key) || msgpack_pack_uint64(pk, v) ? -1 : 0;
}

int minga_pk_kv_str(msgpack_packer *pk, const char *key, const char *v)
{
    return minga_pk_str(pk, key) || minga_pk_str(pk, v) ? -1 : 0;
}

int minga_pk_kv_bool(msgpack_packer *pk, const char *key, bool v)
{
    if (minga_pk_str(pk, key) != 0)
        return -1;
    return v ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
}

int minga_pk_kv_nil(msgpack_packer *pk, const char *key)
{
    return minga_pk_str(pk, key) || msgpack_pack_nil(pk) ? -1 : 0;
}

int minga_pk_kv_raw(msgpack_packer *pk, const char *key, const void *raw, size_t len)
{
    if (minga_pk_str(pk, key) != 0)
        return -1;
    if (!raw || len == 0)
        return msgpack_pack_nil(pk);
    return pk->callback(pk->data, raw, len);
}

/* ---- the job map ---- */

void minga_job_init(minga_job_t *job)
{
    memset(job, 0, sizeof *job);
    job->priority = MINGA_PROTO_PRIORITY_DEFAULT;
    job->state = MINGA_JOB_QUEUED;
}

void minga_job_clear(minga_job_t *job)
{
    free(job->type);
    free(job->key);
    free(job->parents);
    free(job->body);
    free(job->progress.text);
    free(job->result);
    free(job->error_code);
    free(job->error_message);
    free(job->worker);
    minga_job_init(job);
}

static size_t s_job_count(const minga_job_t *job, unsigned flags)
{
    size_t n = 12; /* v id type state priority not_before attempts max_attempts lease_ms
                      parents created_at updated_at */
    n += job->key != NULL;
    n += job->has_progress;
    n += job->error_code != NULL;
    n += job->worker != NULL;
    n += job->finished_at != 0;
    if (!(flags & MINGA_JOB_PACK_NO_BODY))
        n += (job->body != NULL && !(flags & MINGA_JOB_PACK_NO_INPUT)) + (job->result != NULL);
    return n;
}

/* A job map is packed straight into one buffer and handed to the packer in one write: the
 * broker packs a job map two or three times per job (its record, the JOB message), and
 * msgpack-c's packer calls its writer once per header and once per string (some sixty calls
 * per map). The bytes are the ones msgpack-c makes (smallest integer and string forms, str8
 * for 32-255 bytes): tests/unit/test_proto.c compares the two. */
typedef struct {
    uint8_t *p;
} s_jw_t;

static inline void s_jw_raw(s_jw_t *w, const void *src, size_t n)
{
    memcpy(w->p, src, n);
    w->p += n;
}

static inline void s_jw_be(s_jw_t *w, uint8_t tag, uint64_t v, int bytes)
{
    *w->p++ = tag;
    for (int i = bytes - 1; i >= 0; i--)
        *w->p++ = (uint8_t)(v >> (8 * i));
}

static inline void s_jw_uint(s_jw_t *w, uint64_t v)
{
    if (v < 128)
        *w->p++ = (uint8_t)v;
    else if (v < 256)
        s_jw_be(w, 0xcc, v, 1);
    else if (v < 65536)
        s_jw_be(w, 0xcd, v, 2);
    else if (v <= UINT32_MAX)
        s_jw_be(w, 0xce, v, 4);
    else
        s_jw_be(w, 0xcf, v, 8);
}

static inline void s_jw_strn(s_jw_t *w, const char *s, size_t n)
{
    if (n < 32)
        *w->p++ = (uint8_t)(0xa0 | n);
    else if (n < 256)
        s_jw_be(w, 0xd9, n, 1);
    else if (n < 65536)
        s_jw_be(w, 0xda, n, 2);
    else
        s_jw_be(w, 0xdb, n, 4);
    s_jw_raw(w, s, n);
}

static inline void s_jw_str(s_jw_t *w, const char *s)
{
    s_jw_strn(w, s ? s : "", s ? strlen(s) : 0);
}

static inline void s_jw_container(s_jw_t *w, uint8_t fix, uint8_t t16, size_t n)
{
    if (n < 16)
        *w->p++ = (uint8_t)(fix | n);
    else if (n < 65536)
        s_jw_be(w, t16, n, 2);
    else
        s_jw_be(w, (uint8_t)(t16 + 1), n, 4);
}

/* A key: a constant string shorter than 32 bytes (fixstr). */
#define S_JW_KEY(w, k)                                                                             \
    (*(w)->p++ = (uint8_t)(0xa0 | (sizeof k - 1)), s_jw_raw((w), k, sizeof k - 1))

/* Most bytes of a string packed by s_jw_str. */
static size_t s_jw_strmax(const char *s)
{
    return 5 + (s ? strlen(s) : 0);
}

/* Most bytes the variable parts of job take packed, with their keys and headers: type, key,
 * parents, body (with body), progress, result (with result), error and worker. */
static size_t s_job_var_max(const minga_job_t *job, bool body, bool result)
{
    size_t cap = s_jw_strmax(job->type) + 9 * job->nparents + 5;
    if (job->key)
        cap += s_jw_strmax(job->key);
    if (body)
        cap += job->body_len;
    if (job->has_progress)
        cap += s_jw_strmax(job->progress.text) + 32;
    if (result)
        cap += job->result_len + 1;
    if (job->error_code)
        cap += s_jw_strmax(job->error_code) + s_jw_strmax(job->error_message) + 24;
    if (job->worker)
        cap += s_jw_strmax(job->worker);
    return cap;
}

/* Hands the bytes packed into buf to pk in one write; frees buf unless it is stack. */
static int s_jw_flush(msgpack_packer *pk, uint8_t *buf, const s_jw_t *w, const uint8_t *stack)
{
    int rc = pk->callback(pk->data, (const char *)buf, (size_t)(w->p - buf));
    if (buf != stack)
        free(buf);
    return rc ? -1 : 0;
}

int minga_job_pack(const minga_job_t *job, msgpack_packer *pk, unsigned flags)
{
    bool body = !(flags & (MINGA_JOB_PACK_NO_BODY | MINGA_JOB_PACK_NO_INPUT)) && job->body;
    bool result = !(flags & MINGA_JOB_PACK_NO_BODY) && job->result;
    /* keys and fixed-size values take under 400 bytes; the rest is counted */
    size_t cap = 400 + s_job_var_max(job, body, result);
    uint8_t stack[1024];
    uint8_t *buf = cap <= sizeof stack ? stack : malloc(cap);
    if (!buf)
        return -1;
    s_jw_t w = {buf};
    s_jw_container(&w, 0x80, 0xde, s_job_count(job, flags));
    S_JW_KEY(&w, "v");
    s_jw_uint(&w, MINGA_JOB_VERSION);
    S_JW_KEY(&w, "id");
    s_jw_uint(&w, job->id);
    S_JW_KEY(&w, "type");
    s_jw_str(&w, job->type);
    S_JW_KEY(&w, "state");
    s_jw_str(&w, minga_job_state_name(job->state));
    S_JW_KEY(&w, "priority");
    s_jw_uint(&w, job->priority);
    S_JW_KEY(&w, "not_before");
    s_jw_uint(&w, job->not_before);
    S_JW_KEY(&w, "attempts");
    s_jw_uint(&w, job->attempts);
    S_JW_KEY(&w, "max_attempts");
    s_jw_uint(&w, job->max_attempts);
    S_JW_KEY(&w, "lease_ms");
    s_jw_uint(&w, job->lease_ms);
    if (job->key) {
        S_JW_KEY(&w, "key");
        s_jw_str(&w, job->key);
    }
    S_JW_KEY(&w, "parents");
    s_jw_container(&w, 0x90, 0xdc, job->nparents);
    for (size_t i = 0; i < job->nparents; i++)
        s_jw_uint(&w, job->parents[i]);
    if (body) {
        S_JW_KEY(&w, "body");
        if (job->body_len)
            s_jw_raw(&w, job->body, job->body_len);
        else
            *w.p++ = 0xc0;
    }
    if (job->has_progress) {
        S_JW_KEY(&w, "progress");
        *w.p++ = 0x83;
        S_JW_KEY(&w, "done");
        s_jw_uint(&w, job->progress.done);
        S_JW_KEY(&w, "total");
        s_jw_uint(&w, job->progress.total);
        S_JW_KEY(&w, "text");
        s_jw_str(&w, job->progress.text);
    }
    if (result) {
        S_JW_KEY(&w, "result");
        if (job->result_len)
            s_jw_raw(&w, job->result, job->result_len);
        else
            *w.p++ = 0xc0;
    }
    if (job->error_code) {
        S_JW_KEY(&w, "error");
        *w.p++ = 0x82;
        S_JW_KEY(&w, "code");
        s_jw_str(&w, job->error_code);
        S_JW_KEY(&w, "message");
        s_jw_str(&w, job->error_message);
    }
    if (job->worker) {
        S_JW_KEY(&w, "worker");
        s_jw_str(&w, job->worker);
    }
    S_JW_KEY(&w, "created_at");
    s_jw_uint(&w, job->created_at);
    S_JW_KEY(&w, "updated_at");
    s_jw_uint(&w, job->updated_at);
    if (job->finished_at) {
        S_JW_KEY(&w, "finished_at");
        s_jw_uint(&w, job->finished_at);
    }
    return s_jw_flush(pk, buf, &w, stack);
}

int minga_job_encode(const minga_job_t *job, unsigned flags, char **buf, size_t *len)
{
    minga_pbuf_t b;
    minga_pbuf_init(&b);
    if (minga_job_pack(job, &b.pk, flags) != 0) {
        minga_pbuf_clear(&b);
        *buf = NULL;
        *len = 0;
        return MINGA_ENOMEM;
    }
    *buf = b.sbuf.data;
    *len = b.sbuf.size;
    return 0;
}

enum {
    JF_V,
    JF_ID,
    JF_TYPE,
    JF_STATE,
    JF_PRIORITY,
    JF_NOT_BEFORE,
    JF_ATTEMPTS,
    JF_MAX_ATTEMPTS,
    JF_LEASE_MS,
    JF_KEY,
    JF_PARENTS,
    JF_BODY,
    JF_PROGRESS,
    JF_RESULT,
    JF_ERROR,
    JF_WORKER,
    JF_CREATED_AT,
    JF_UPDATED_AT,
    JF_FINISHED_AT,
    JF_COUNT
};

static const minga_pfield_t s_job_fields[JF_COUNT] = {
    [JF_V] = {"v", MINGA_PF_UINT, false, 0, 0},
    [JF_ID] = {"id", MINGA_PF_UINT, true, 1, 0},
    [JF_TYPE] = {"type", MINGA_PF_STR, true, 1, MINGA_PROTO_MAX_TYPE},
    [JF_STATE] = {"state", MINGA_PF_STR, true, 1, 16},
    [JF_PRIORITY] = {"priority", MINGA_PF_UINT, false, 0, 255},
    [JF_NOT_BEFORE] = {"not_before", MINGA_PF_UINT, false, 0, 0},
    [JF_ATTEMPTS] = {"attempts", MINGA_PF_UINT, false, 0, UINT32_MAX},
    [JF_MAX_ATTEMPTS] = {"max_attempts", MINGA_PF_UINT, false, 0, UINT32_MAX},
    [JF_LEASE_MS] = {"lease_ms", MINGA_PF_UINT, false, 0, UINT32_MAX},
    [JF_KEY] = {"key", MINGA_PF_STR, false, 1, MINGA_PROTO_MAX_KEY},
    [JF_PARENTS] = {"parents", MINGA_PF_UINTS, false, 0, MINGA_PROTO_MAX_PARENTS},
    [JF_BODY] = {"body", MINGA_PF_ANY, false, 0, 0},
    [JF_PROGRESS] = {"progress", MINGA_PF_MAP, false, 0, 0},
    [JF_RESULT] = {"result", MINGA_PF_ANY, false, 0, 0},
    [JF_ERROR] = {"error", MINGA_PF_MAP, false, 0, 0},
    [JF_WORKER] = {"worker", MINGA_PF_STR, false, 0, MINGA_PROTO_MAX_NAME},
    [JF_CREATED_AT] = {"created_at", MINGA_PF_UINT, false, 0, 0},
    [JF_UPDATED_AT] = {"updated_at", MINGA_PF_UINT, false, 0, 0},
    [JF_FINISHED_AT] = {"finished_at", MINGA_PF_UINT, false, 0, 0},
};

enum { PF_DONE, PF_TOTAL, PF_TEXT, PF_COUNT };
static const minga_pfield_t s_progress_fields[PF_COUNT] = {
    [PF_DONE] = {"done", MINGA_PF_UINT, false, 0, UINT32_MAX},
    [PF_TOTAL] = {"total", MINGA_PF_UINT, false, 0, UINT32_MAX},
    [PF_TEXT] = {"text", MINGA_PF_STR, false, 0, MINGA_PROTO_MAX_TEXT},
};

enum { EF_CODE, EF_MESSAGE, EF_COUNT };
static const minga_pfield_t s_error_fields[EF_COUNT] = {
    [EF_CODE] = {"code", MINGA_PF_STR, true, 1, MINGA_PROTO_MAX_CODE},
    [EF_MESSAGE] = {"message", MINGA_PF_STR, false, 0, MINGA_PROTO_MAX_MESSAGE},
};

static int s_uints_copy(const msgpack_object *o, uint64_t **dst, size_t *n)
{
    *dst = NULL;
    *n = 0;
    if (!o || o->via.array.size == 0)
        return 0;
    *dst = malloc(o->via.array.size * sizeof **dst);
    if (!*dst)
        return MINGA_ENOMEM;
    for (uint32_t i = 0; i < o->via.array.size; i++)
        (*dst)[i] = o->via.array.ptr[i].via.u64;
    *n = o->via.array.size;
    return 0;
}

/* Copies the optional string o into *dst; MINGA_ENOMEM when the copy failed. */
static int s_dup(const msgpack_object *o, char **dst)
{
    *dst = minga_pobj_strdup(o);
    return (o && !*dst) ? MINGA_ENOMEM : 0;
}

static int s_job_sub(minga_job_t *job, const msgpack_object **f, char *err, size_t errcap)
{
    const msgpack_object *v[4]; /* PF_COUNT, EF_COUNT */
    int rc;
    if (f[JF_PROGRESS]) {
        rc = minga_pfields(f[JF_PROGRESS], s_progress_fields, PF_COUNT, v, false, err, errcap);
        if (rc != 0)
            return rc;
        job->has_progress = true;
        job->progress.done = (uint32_t)minga_pobj_uint(v[PF_DONE], 0);
        job->progress.total = (uint32_t)minga_pobj_uint(v[PF_TOTAL], 0);
        if (s_dup(v[PF_TEXT], &job->progress.text) != 0)
            return MINGA_ENOMEM;
    }
    if (f[JF_ERROR]) {
        rc = minga_pfields(f[JF_ERROR], s_error_fields, EF_COUNT, v, false, err, errcap);
        if (rc != 0)
            return rc;
        if (s_dup(v[EF_CODE], &job->error_code) != 0 ||
            s_dup(v[EF_MESSAGE], &job->error_message) != 0)
            return MINGA_ENOMEM;
    }
    return 0;
}

int minga_job_from_object(const msgpack_object *o, minga_job_t *job, char *err, size_t errcap)
{
    const msgpack_object *f[JF_COUNT];
    minga_job_clear(job);
    int rc = minga_pfields(o, s_job_fields, JF_COUNT, f, false, err, errcap);
    if (rc != 0)
        goto fail;
    if (minga_pobj_uint(f[JF_V], 1) > MINGA_JOB_VERSION) {
        s_err(err, errcap, "v: job map version %llu is newer than %d",
              (unsigned long long)minga_pobj_uint(f[JF_V], 1), MINGA_JOB_VERSION);
        rc = MINGA_EVERSION;
        goto fail;
    }
    size_t slen;
    const char *s = minga_pobj_str(f[JF_STATE], &slen);
    int state = s_state_parsen(s, slen);
    if (state < 0) {
        s_err(err, errcap, "state: unknown job state");
        rc = MINGA_EFORMAT;
        goto fail;
    }
    job->state = (minga_job_state_t)state;
    job->id = minga_pobj_uint(f[JF_ID], 0);
    job->priority = (uint8_t)minga_pobj_uint(f[JF_PRIORITY], MINGA_PROTO_PRIORITY_DEFAULT);
    job->not_before = minga_pobj_uint(f[JF_NOT_BEFORE], 0);
    job->attempts = (uint32_t)minga_pobj_uint(f[JF_ATTEMPTS], 0);
    job->max_attempts = (uint32_t)minga_pobj_uint(f[JF_MAX_ATTEMPTS], 0);
    job->lease_ms = (uint32_t)minga_pobj_uint(f[JF_LEASE_MS], 0);
    job->created_at = minga_pobj_uint(f[JF_CREATED_AT], 0);
    job->updated_at = minga_pobj_uint(f[JF_UPDATED_AT], 0);
    job->finished_at = minga_pobj_uint(f[JF_FINISHED_AT], 0);
    rc = MINGA_ENOMEM;
    if (s_dup(f[JF_TYPE], &job->type) || s_dup(f[JF_KEY], &job->key) ||
        s_dup(f[JF_WORKER], &job->worker) ||
        s_uints_copy(f[JF_PARENTS], &job->parents, &job->nparents) ||
        minga_pobj_pack(f[JF_BODY], &job->body, &job->body_len) ||
        minga_pobj_pack(f[JF_RESULT], &job->result, &job->result_len))
        goto fail;
    rc = s_job_sub(job, f, err, errcap);
    if (rc != 0)
        goto fail;
    return 0;
fail:
    if (rc == MINGA_ENOMEM)
        s_err(err, errcap, "out of memory");
    minga_job_clear(job);
    return rc;
}

int minga_job_decode(const void *buf, size_t len, minga_job_t *job, char *err, size_t errcap)
{
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    msgpack_object *root = NULL;
    minga_job_clear(job);
    int rc = minga_proto_body_decode(buf, len, &up, &root, err, errcap);
    if (rc == 0)
        rc = minga_job_from_object(root, job, err, errcap);
    msgpack_unpacked_destroy(&up);
    return rc;
}

/* ---- the stored job record (the broker's job database) ----
 *
 * An array instead of the map, for the broker's store only: the record is written at enqueue
 * and rewritten at each state change, so its size sets how many jobs share a page (the pages a
 * commit writes and syncs) and its keys are most of the map's bytes:
 *   [2, id, type, state (number), priority, not_before, attempts, max_attempts, lease_ms,
 *    key | nil, [parents], [done, total, text] | nil, [result] | nil, [code, message] | nil,
 *    worker | nil, created_at, updated_at, finished_at]
 * No body (kept under its own key). A record written by an older broker (the job map) is read
 * as a job map. */

#define S_REC_VERSION 2
#define S_REC_FIELDS 18

int minga_job_record_pack(const minga_job_t *job, msgpack_packer *pk)
{
    size_t cap = 200 + s_job_var_max(job, false, job->result != NULL);
    uint8_t stack[1024];
    uint8_t *buf = cap <= sizeof stack ? stack : malloc(cap);
    if (!buf)
        return -1;
    s_jw_t w = {buf};
    s_jw_container(&w, 0x90, 0xdc, S_REC_FIELDS);
    s_jw_uint(&w, S_REC_VERSION);
    s_jw_uint(&w, job->id);
    s_jw_str(&w, job->type);
    s_jw_uint(&w, (uint64_t)job->state);
    s_jw_uint(&w, job->priority);
    s_jw_uint(&w, job->not_before);
    s_jw_uint(&w, job->attempts);
    s_jw_uint(&w, job->max_attempts);
    s_jw_uint(&w, job->lease_ms);
    if (job->key)
        s_jw_str(&w, job->key);
    else
        *w.p++ = 0xc0;
    s_jw_container(&w, 0x90, 0xdc, job->nparents);
    for (size_t i = 0; i < job->nparents; i++)
        s_jw_uint(&w, job->parents[i]);
    if (job->has_progress) {
        *w.p++ = 0x93;
        s_jw_uint(&w, job->progress.done);
        s_jw_uint(&w, job->progress.total);
        s_jw_str(&w, job->progress.text);
    } else {
        *w.p++ = 0xc0;
    }
    if (job->result) {
        *w.p++ = 0x91;
        if (job->result_len)
            s_jw_raw(&w, job->result, job->result_len);
        else
            *w.p++ = 0xc0;
    } else {
        *w.p++ = 0xc0;
    }
    if (job->error_code) {
        *w.p++ = 0x92;
        s_jw_str(&w, job->error_code);
        s_jw_str(&w, job->error_message);
    } else {
        *w.p++ = 0xc0;
    }
    if (job->worker)
        s_jw_str(&w, job->worker);
    else
        *w.p++ = 0xc0;
    s_jw_uint(&w, job->created_at);
    s_jw_uint(&w, job->updated_at);
    s_jw_uint(&w, job->finished_at);
    return s_jw_flush(pk, buf, &w, stack);
}

/* A reader of the record: each function consumes one value or fails (false). */
typedef struct {
    const uint8_t *p, *end;
} s_jr_t;

static bool s_jr_nil(s_jr_t *r)
{
    if (r->p < r->end && *r->p == 0xc0) {
        r->p++;
        return true;
    }
    return false;
}

static bool s_jr_be(s_jr_t *r, int bytes, uint64_t *v)
{
    if (r->end - r->p < bytes)
        return false;
    *v = s_be(r->p, (unsigned)bytes);
    r->p += bytes;
    return true;
}

static bool s_jr_uint(s_jr_t *r, uint64_t max, uint64_t *v)
{
    if (r->p >= r->end)
        return false;
    uint8_t b = *r->p++;
    bool ok = true;
    if (b <= 0x7f)
        *v = b;
    else if (b >= 0xcc && b <= 0xcf)
        ok = s_jr_be(r, 1 << (b - 0xcc), v);
    else
        return false;
    return ok && *v <= max;
}

static bool s_jr_count(s_jr_t *r, uint8_t fix, uint8_t t16, uint64_t *n)
{
    if (r->p >= r->end)
        return false;
    uint8_t b = *r->p++;
    if ((b & 0xf0) == fix) {
        *n = b & 0x0f;
        return true;
    }
    if (b == t16)
        return s_jr_be(r, 2, n);
    if (b == t16 + 1)
        return s_jr_be(r, 4, n);
    return false;
}

/* A string of at most max bytes (0: no limit), copied into *dst (NUL-terminated). */
static bool s_jr_str(s_jr_t *r, size_t max, char **dst)
{
    if (r->p >= r->end)
        return false;
    uint8_t b = *r->p++;
    uint64_t n;
    if ((b & 0xe0) == 0xa0)
        n = b & 0x1f;
    else if (b >= 0xd9 && b <= 0xdb) {
        if (!s_jr_be(r, 1 << (b - 0xd9), &n))
            return false;
    } else
        return false;
    if (n > (uint64_t)(r->end - r->p) || (max && n > max))
        return false;
    *dst = malloc(n + 1);
    if (!*dst)
        return false;
    memcpy(*dst, r->p, n);
    (*dst)[n] = '\0';
    r->p += n;
    return true;
}

static bool s_jr_opt_str(s_jr_t *r, size_t max, char **dst)
{
    return s_jr_nil(r) || s_jr_str(r, max, dst);
}

/* One whole value, copied as its bytes. */
static bool s_jr_value(s_jr_t *r, uint8_t **dst, size_t *len)
{
    const uint8_t *start = r->p;
    if (s_mp_skip(&r->p, r->end, 1, MINGA_PROTO_MAX_DEPTH) != 0)
        return false;
    *len = (size_t)(r->p - start);
    *dst = malloc(*len);
    if (!*dst)
        return false;
    memcpy(*dst, start, *len);
    return true;
}

static bool s_jr_record(s_jr_t *r, minga_job_t *job, const char **what)
{
    uint64_t n, v;
#define S_WHAT(w, cond)                                                                            \
    do {                                                                                           \
        *what = (w);                                                                               \
        if (!(cond))                                                                               \
            return false;                                                                          \
    } while (0)
    S_WHAT("the record", s_jr_count(r, 0x90, 0xdc, &n) && n == S_REC_FIELDS);
    S_WHAT("version", s_jr_uint(r, UINT64_MAX, &v) && v == S_REC_VERSION);
    S_WHAT("id", s_jr_uint(r, UINT64_MAX, &job->id) && job->id > 0);
    S_WHAT("type", s_jr_str(r, MINGA_PROTO_MAX_TYPE, &job->type) && job->type[0]);
    S_WHAT("state", s_jr_uint(r, MINGA_JOB_STATE_COUNT - 1, &v));
    job->state = (minga_job_state_t)v;
    S_WHAT("priority", s_jr_uint(r, 255, &v));
    job->priority = (uint8_t)v;
    S_WHAT("not_before", s_jr_uint(r, UINT64_MAX, &job->not_before));
    S_WHAT("attempts", s_jr_uint(r, UINT32_MAX, &v));
    job->attempts = (uint32_t)v;
    S_WHAT("max_attempts", s_jr_uint(r, UINT32_MAX, &v));
    job->max_attempts = (uint32_t)v;
    S_WHAT("lease_ms", s_jr_uint(r, UINT32_MAX, &v));
    job->lease_ms = (uint32_t)v;
    S_WHAT("key", s_jr_opt_str(r, MINGA_PROTO_MAX_KEY, &job->key));
    S_WHAT("parents", s_jr_count(r, 0x90, 0xdc, &n) && n <= MINGA_PROTO_MAX_PARENTS &&
                          (job->parents = calloc(n + 1, sizeof *job->parents)));
    job->nparents = (size_t)n;
    for (size_t i = 0; i < job->nparents; i++)
        S_WHAT("parents", s_jr_uint(r, UINT64_MAX, &job->parents[i]));
    if (!s_jr_nil(r)) {
        S_WHAT("progress", s_jr_count(r, 0x90, 0xdc, &n) && n == 3);
        job->has_progress = true;
        S_WHAT("progress", s_jr_uint(r, UINT32_MAX, &v));
        job->progress.done = (uint32_t)v;
        S_WHAT("progress", s_jr_uint(r, UINT32_MAX, &v));
        job->progress.total = (uint32_t)v;
        S_WHAT("progress", s_jr_str(r, MINGA_PROTO_MAX_TEXT, &job->progress.text));
    }
    if (!s_jr_nil(r))
        S_WHAT("result", s_jr_count(r, 0x90, 0xdc, &n) && n == 1 &&
                             s_jr_value(r, &job->result, &job->result_len));
    if (!s_jr_nil(r)) {
        S_WHAT("error", s_jr_count(r, 0x90, 0xdc, &n) && n == 2);
        S_WHAT("error", s_jr_str(r, MINGA_PROTO_MAX_CODE, &job->error_code) &&
                            s_jr_str(r, MINGA_PROTO_MAX_MESSAGE, &job->error_message));
    }
    /* a worker without a name is named by its routing id in hex: up to 510 characters */
    S_WHAT("worker", s_jr_opt_str(r, 1024, &job->worker));
    S_WHAT("created_at", s_jr_uint(r, UINT64_MAX, &job->created_at));
    S_WHAT("updated_at", s_jr_uint(r, UINT64_MAX, &job->updated_at));
    S_WHAT("finished_at", s_jr_uint(r, UINT64_MAX, &job->finished_at));
    S_WHAT("the record's end", r->p == r->end);
#undef S_WHAT
    return true;
}

int minga_job_record_decode(const void *buf, size_t len, minga_job_t *job, char *err, size_t errcap)
{
    const uint8_t *p = buf;
    minga_job_clear(job);
    if (len > 0 && ((p[0] & 0xf0) == 0x80 || p[0] == 0xde || p[0] == 0xdf))
        return minga_job_decode(buf, len, job, err, errcap); /* a job map: an older record */
    s_jr_t r = {p, p + len};
    /* the version first, so that a newer record is told apart from a broken one */
    s_jr_t head = r;
    uint64_t n, v;
    if (len > 0 && s_jr_count(&head, 0x90, 0xdc, &n) && n > 0 && s_jr_uint(&head, UINT64_MAX, &v) &&
        v != S_REC_VERSION) {
        s_err(err, errcap, "job record version %llu (this broker reads %d)", (unsigned long long)v,
              S_REC_VERSION);
        return MINGA_EVERSION;
    }
    const char *what = "the record";
    if (len == 0 || !s_jr_record(&r, job, &what)) {
        s_err(err, errcap, "job record: bad %s (offset %zu of %zu bytes)", what, (size_t)(r.p - p),
              len);
        minga_job_clear(job);
        return MINGA_EFORMAT;
    }
    return 0;
}

/* ---- the job spec ---- */

void minga_jobspec_init(minga_jobspec_t *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->priority = -1;
}

void minga_jobspec_clear(minga_jobspec_t *spec)
{
    free(spec->type);
    free(spec->body);
    free(spec->key);
    free(spec->parents);
    free(spec->after);
    minga_jobspec_init(spec);
}

size_t minga_jobspec_count(const minga_jobspec_t *spec)
{
    return 1 + (spec->body != NULL) + (spec->priority >= 0) + (spec->not_before != 0) +
           (spec->delay_ms != 0) + (spec->max_attempts != 0) + (spec->lease_ms != 0) +
           (spec->key != NULL) + (spec->nparents != 0) + (spec->nafter != 0);
}

int minga_jobspec_pack_fields(const minga_jobspec_t *spec, msgpack_packer *pk)
{
    int rc = minga_pk_kv_str(pk, "type", spec->type);
    if (spec->body)
        rc |= minga_pk_kv_raw(pk, "body", spec->body, spec->body_len);
    if (spec->priority >= 0)
        rc |= minga_pk_kv_uint(pk, "priority", (uint64_t)spec->priority);
    if (spec->not_before)
        rc |= minga_pk_kv_uint(pk, "not_before", spec->not_before);
    if (spec->delay_ms)
        rc |= minga_pk_kv_uint(pk, "delay_ms", spec->delay_ms);
    if (spec->max_attempts)
        rc |= minga_pk_kv_uint(pk, "max_attempts", spec->max_attempts);
    if (spec->lease_ms)
        rc |= minga_pk_kv_uint(pk, "lease_ms", spec->lease_ms);
    if (spec->key)
        rc |= minga_pk_kv_str(pk, "key", spec->key);
    if (spec->nparents) {
        rc |= minga_pk_str(pk, "parents");
        rc |= msgpack_pack_array(pk, spec->nparents);
        for (size_t i = 0; i < spec->nparents; i++)
            rc |= msgpack_pack_uint64(pk, spec->parents[i]);
    }
    if (spec->nafter) {
        rc |= minga_pk_str(pk, "after");
        rc |= msgpack_pack_array(pk, spec->nafter);
        for (size_t i = 0; i < spec->nafter; i++)
            rc |= msgpack_pack_uint32(pk, spec->after[i]);
    }
    return rc ? -1 : 0;
}

enum {
    SF_TYPE,
    SF_BODY,
    SF_PRIORITY,
    SF_NOT_BEFORE,
    SF_DELAY_MS,
    SF_MAX_ATTEMPTS,
    SF_LEASE_MS,
    SF_KEY,
    SF_PARENTS,
    SF_AFTER,
    SF_RID,
    SF_COUNT
};

static const minga_pfield_t s_spec_fields[SF_COUNT] = {
    [SF_TYPE] = {"type", MINGA_PF_STR, true, 1, MINGA_PROTO_MAX_TYPE},
    [SF_BODY] = {"body", MINGA_PF_ANY, false, 0, 0},
    [SF_PRIORITY] = {"priority", MINGA_PF_UINT, false, 0, 255},
    [SF_NOT_BEFORE] = {"not_before", MINGA_PF_UINT, false, 0, 0},
    [SF_DELAY_MS] = {"delay_ms", MINGA_PF_UINT, false, 0, MINGA_PROTO_MAX_DELAY_MS},
    [SF_MAX_ATTEMPTS] = {"max_attempts", MINGA_PF_UINT, false, 1, MINGA_PROTO_MAX_ATTEMPTS},
    [SF_LEASE_MS] = {"lease_ms", MINGA_PF_UINT, false, MINGA_PROTO_MIN_LEASE_MS,
                     MINGA_PROTO_MAX_LEASE_MS},
    [SF_KEY] = {"key", MINGA_PF_STR, false, 1, MINGA_PROTO_MAX_KEY},
    [SF_PARENTS] = {"parents", MINGA_PF_UINTS, false, 0, MINGA_PROTO_MAX_PARENTS},
    [SF_AFTER] = {"after", MINGA_PF_ARRAY, false, 0, MINGA_PROTO_MAX_PARENTS},
    [SF_RID] = {"rid", MINGA_PF_UINT, false, 0, 0},
};

static int s_spec_after(const msgpack_object *o, minga_jobspec_t *spec, char *err, size_t errcap)
{
    if (!o || o->via.array.size == 0)
        return 0;
    spec->after = malloc(o->via.array.size * sizeof *spec->after);
    if (!spec->after)
        return MINGA_ENOMEM;
    for (uint32_t i = 0; i < o->via.array.size; i++) {
        const msgpack_object *e = &o->via.array.ptr[i];
        if (!s_is_uint(e) || e->via.u64 >= MINGA_PROTO_MAX_BATCH) {
            s_err(err, errcap, "after[%u]: must be the index of an earlier job of the batch", i);
            return MINGA_EFORMAT;
        }
        spec->after[spec->nafter++] = (uint32_t)e->via.u64;
    }
    return 0;
}

int minga_jobspec_decode(const msgpack_object *o, bool in_batch, bool allow_rid,
                         minga_jobspec_t *spec, char *err, size_t errcap)
{
    const msgpack_object *f[SF_COUNT];
    minga_jobspec_clear(spec);
    size_t n = SF_COUNT - (allow_rid ? 0 : 1);
    int rc = minga_pfields(o, s_spec_fields, n, f, true, err, errcap);
    if (rc != 0)
        goto fail;
    rc = MINGA_EFORMAT;
    if (f[SF_AFTER] && !in_batch) {
        s_err(err, errcap, "unknown field 'after' (only in BATCH)");
        goto fail;
    }
    if (f[SF_NOT_BEFORE] && f[SF_DELAY_MS]) {
        s_err(err, errcap, "delay_ms: not together with not_before");
        goto fail;
    }
    size_t tlen;
    const char *t = minga_pobj_str(f[SF_TYPE], &tlen);
    if (!minga_job_type_valid(t, tlen)) {
        s_err(err, errcap, "type: must be 1..64 of [a-z0-9._-], the first a letter or digit");
        goto fail;
    }
    spec->priority = (int)minga_pobj_uint(f[SF_PRIORITY], (uint64_t)-1);
    if (!f[SF_PRIORITY])
        spec->priority = -1;
    spec->not_before = minga_pobj_uint(f[SF_NOT_BEFORE], 0);
    spec->delay_ms = minga_pobj_uint(f[SF_DELAY_MS], 0);
    spec->max_attempts = (uint32_t)minga_pobj_uint(f[SF_MAX_ATTEMPTS], 0);
    spec->lease_ms = (uint32_t)minga_pobj_uint(f[SF_LEASE_MS], 0);
    rc = MINGA_ENOMEM;
    if (s_dup(f[SF_TYPE], &spec->type) || s_dup(f[SF_KEY], &spec->key) ||
        s_uints_copy(f[SF_PARENTS], &spec->parents, &spec->nparents) ||
        minga_pobj_pack(f[SF_BODY], &spec->body, &spec->body_len))
        goto fail;
    rc = s_spec_after(f[SF_AFTER], spec, err, errcap);
    if (rc != 0)
        goto fail;
    return 0;
fail:
    if (rc == MINGA_ENOMEM)
        s_err(err, errcap, "out of memory");
    minga_jobspec_clear(spec);
    return rc;
}

/* ---- endpoints ---- */

int minga_proto_ipc_endpoint(const char *store_dir, const char *name, char *dst, size_t cap,
                             char *err, size_t errcap)
{
    char *real = realpath(store_dir, NULL);
    if (!real) {
        int e = errno;
        s_err(err, errcap, "store %s: %s", store_dir, strerror(e));
        return -e;
    }
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/run/%s", real, name);
    free(real);
    size_t len = strlen(path);
    if (len > MINGA_PROTO_IPC_PATH_MAX || len + 7 >= cap) {
        s_err(err, errcap,
              "socket path %s is %zu bytes, longer than the limit of %d bytes for a socket; "
              "use a shorter store directory",
              path, len, MINGA_PROTO_IPC_PATH_MAX);
        return MINGA_ETOOBIG;
    }
    snprintf(dst, cap, "ipc://%s", path);
    return 0;
}
