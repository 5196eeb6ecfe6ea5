/*
 * record.c: the table-driven codec of the registry records (see record.h). One walk over a
 * record's descriptor table serves every format: msgpack for the store, text for CSV and JSON
 * files. Text parsing validates each value against its type and code list and writes the
 * canonical form, so that export → import → export is the identity.
 */
#include "minga/record.h"

#include "minga/error.h"
#include "minga/mpguard.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_DEFAULT_MAX_LEN 1024
#define S_MAX_LIST 4096

/* ---- small helpers ---- */

int minga_strv_push(minga_strv_t *v, const char *s)
{
    char *copy = strdup(s);
    char **grown = copy ? realloc(v->v, (v->n + 1) * sizeof *grown) : NULL;
    if (!grown) {
        free(copy);
        return MINGA_ENOMEM;
    }
    grown[v->n++] = copy;
    v->v = grown;
    return 0;
}

void minga_strv_clear(minga_strv_t *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->v[i]);
    free(v->v);
    v->v = NULL;
    v->n = 0;
}

bool minga_id_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n < 1 || n > 32 || !isalpha((unsigned char)id[0]))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)id[i];
        if (!(isalnum(ch) || ch == '.' || ch == '_' || ch == '-') || ch > 0x7f)
            return false;
    }
    return true;
}

static bool s_is_text(minga_ftype_t t)
{
    return t != MINGA_FT_UINT && t != MINGA_FT_BOOL && t != MINGA_FT_CODES && t != MINGA_FT_STRS;
}

static size_t s_max_len(const minga_field_t *f)
{
    return f->max_len ? f->max_len : S_DEFAULT_MAX_LEN;
}

/* ---- new / clear / free ---- */

void *minga_record_new(const minga_rtype_t *t)
{
    return calloc(1, t->size);
}

void minga_record_clear(const minga_rtype_t *t, void *rec)
{
    for (size_t i = 0; i < t->nfields; i++) {
        const minga_field_t *f = &t->fields[i];
        void *p = MINGA_FIELD_PTR(rec, f);
        if (s_is_text(f->type))
            free(*(char **)p);
        else if (f->type == MINGA_FT_CODES || f->type == MINGA_FT_STRS)
            minga_strv_clear(p);
    }
    /* event of per-event records is not in the field table */
    if (t->per_event)
        free(*(char **)rec);
    memset(rec, 0, t->size);
}

void minga_record_free(const minga_rtype_t *t, void *rec)
{
    if (!rec)
        return;
    minga_record_clear(t, rec);
    free(rec);
}

int minga_record_key(const minga_rtype_t *t, const void *rec, uint8_t *key)
{
    return t->key(rec, key);
}

/* ---- msgpack ---- */

static void s_pack_str(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

/* Whether field f of rec holds a value worth storing. */
static bool s_present(const minga_field_t *f, const void *rec)
{
    const void *p = MINGA_FIELD_PTR(rec, f);
    switch (f->type) {
    case MINGA_FT_UINT:
        return f->required || *(const uint64_t *)p != 0;
    case MINGA_FT_BOOL:
        return f->required || *(const bool *)p;
    case MINGA_FT_CODES:
    case MINGA_FT_STRS:
        return ((const minga_strv_t *)p)->n > 0;
    default:
        return *(char *const *)p != NULL;
    }
}

int minga_record_pack(const minga_rtype_t *t, const void *rec, msgpack_packer *pk)
{
    size_t n = 1 + (t->per_event ? 1 : 0);
    for (size_t i = 0; i < t->nfields; i++)
        n += s_present(&t->fields[i], rec);
    msgpack_pack_map(pk, n);
    s_pack_str(pk, "v");
    msgpack_pack_uint32(pk, t->version);
    if (t->per_event) {
        s_pack_str(pk, "event");
        s_pack_str(pk, *(char *const *)rec ? *(char *const *)rec : "");
    }
    for (size_t i = 0; i < t->nfields; i++) {
        const minga_field_t *f = &t->fields[i];
        if (!s_present(f, rec))
            continue;
        const void *p = MINGA_FIELD_PTR(rec, f);
        s_pack_str(pk, f->name);
        if (f->type == MINGA_FT_UINT) {
            msgpack_pack_uint64(pk, *(const uint64_t *)p);
        } else if (f->type == MINGA_FT_BOOL) {
            if (*(const bool *)p)
                msgpack_pack_true(pk);
            else
                msgpack_pack_false(pk);
        } else if (f->type == MINGA_FT_CODES || f->type == MINGA_FT_STRS) {
            const minga_strv_t *v = p;
            msgpack_pack_array(pk, v->n);
            for (size_t j = 0; j < v->n; j++)
                s_pack_str(pk, v->v[j]);
        } else {
            s_pack_str(pk, *(char *const *)p);
        }
    }
    return 0;
}

/* ---- the direct encoder: msgpack's smallest forms, as msgpack-c chooses them ---- */

static size_t s_len_str(size_t n)
{
    return n + (n < 32 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5);
}

static size_t s_len_uint(uint64_t v)
{
    return v < 128 ? 1 : v < 256 ? 2 : v < 65536 ? 3 : v <= 0xffffffffu ? 5 : 9;
}

static size_t s_len_count(size_t n) /* map or array header */
{
    return n < 16 ? 1 : n < 65536 ? 3 : 5;
}

static uint8_t *s_put_be(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
    return p + bytes;
}

static uint8_t *s_put_str(uint8_t *p, const char *s, size_t n)
{
    if (n < 32)
        *p++ = (uint8_t)(0xa0 | n);
    else if (n < 256)
        *p++ = 0xd9, *p++ = (uint8_t)n;
    else if (n < 65536)
        *p++ = 0xda, p = s_put_be(p, n, 2);
    else
        *p++ = 0xdb, p = s_put_be(p, n, 4);
    memcpy(p, s, n);
    return p + n;
}

static uint8_t *s_put_uint(uint8_t *p, uint64_t v)
{
    if (v < 128)
        *p++ = (uint8_t)v;
    else if (v < 256)
        *p++ = 0xcc, *p++ = (uint8_t)v;
    else if (v < 65536)
        *p++ = 0xcd, p = s_put_be(p, v, 2);
    else if (v <= 0xffffffffu)
        *p++ = 0xce, p = s_put_be(p, v, 4);
    else
        *p++ = 0xcf, p = s_put_be(p, v, 8);
    return p;
}

static uint8_t *s_put_count(uint8_t *p, size_t n, uint8_t fix, uint8_t c16, uint8_t c32)
{
    if (n < 16)
        *p++ = (uint8_t)(fix | n);
    else if (n < 65536)
        *p++ = c16, p = s_put_be(p, n, 2);
    else
        *p++ = c32, p = s_put_be(p, n, 4);
    return p;
}

/* Bytes of field f's value (its key not included). */
static size_t s_len_value(const minga_field_t *f, const void *p)
{
    if (f->type == MINGA_FT_UINT)
        return s_len_uint(*(const uint64_t *)p);
    if (f->type == MINGA_FT_BOOL)
        return 1;
    if (f->type == MINGA_FT_CODES || f->type == MINGA_FT_STRS) {
        const minga_strv_t *v = p;
        size_t n = s_len_count(v->n);
        for (size_t j = 0; j < v->n; j++)
            n += s_len_str(strlen(v->v[j]));
        return n;
    }
    return s_len_str(strlen(*(char *const *)p));
}

int minga_record_append(const minga_rtype_t *t, const void *rec, msgpack_sbuffer *sb)
{
    size_t n = 1 + (t->per_event ? 1 : 0), need = s_len_str(1) + s_len_uint(t->version);
    const char *event = t->per_event && *(char *const *)rec ? *(char *const *)rec : "";
    if (t->per_event)
        need += s_len_str(5) + s_len_str(strlen(event));
    for (size_t i = 0; i < t->nfields; i++) {
        const minga_field_t *f = &t->fields[i];
        if (!s_present(f, rec))
            continue;
        n++;
        need += s_len_str(strlen(f->name)) + s_len_value(f, MINGA_FIELD_PTR(rec, f));
    }
    need += s_len_count(n);
    if (sb->alloc - sb->size < need) {
        size_t cap = sb->alloc ? sb->alloc : 4096;
        while (cap - sb->size < need)
            cap *= 2;
        char *grown = realloc(sb->data, cap);
        if (!grown)
            return MINGA_ENOMEM;
        sb->data = grown;
        sb->alloc = cap;
    }
    uint8_t *p = (uint8_t *)sb->data + sb->size;
    p = s_put_count(p, n, 0x80, 0xde, 0xdf);
    p = s_put_str(p, "v", 1);
    p = s_put_uint(p, t->version);
    if (t->per_event) {
        p = s_put_str(p, "event", 5);
        p = s_put_str(p, event, strlen(event));
    }
    for (size_t i = 0; i < t->nfields; i++) {
        const minga_field_t *f = &t->fields[i];
        if (!s_present(f, rec))
            continue;
        const void *v = MINGA_FIELD_PTR(rec, f);
        p = s_put_str(p, f->name, strlen(f->name));
        if (f->type == MINGA_FT_UINT) {
            p = s_put_uint(p, *(const uint64_t *)v);
        } else if (f->type == MINGA_FT_BOOL) {
            *p++ = *(const bool *)v ? 0xc3 : 0xc2;
        } else if (f->type == MINGA_FT_CODES || f->type == MINGA_FT_STRS) {
            const minga_strv_t *sv = v;
            p = s_put_count(p, sv->n, 0x90, 0xdc, 0xdd);
            for (size_t j = 0; j < sv->n; j++)
                p = s_put_str(p, sv->v[j], strlen(sv->v[j]));
        } else {
            const char *s = *(char *const *)v;
            p = s_put_str(p, s, strlen(s));
        }
    }
    sb->size = (size_t)((char *)p - sb->data);
    return 0;
}

int minga_record_encode(const minga_rtype_t *t, const void *rec, char **buf, size_t *len)
{
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    int rc = minga_record_pack(t, rec, &pk);
    if (rc || !sbuf.data) {
        msgpack_sbuffer_destroy(&sbuf);
        return rc ? rc : MINGA_ENOMEM;
    }
    *len = sbuf.size;
    *buf = msgpack_sbuffer_release(&sbuf);
    return 0;
}

static char *s_dup_obj_str(const msgpack_object *o)
{
    char *s = malloc(o->via.str.size + 1);
    if (s) {
        memcpy(s, o->via.str.ptr, o->via.str.size);
        s[o->via.str.size] = '\0';
    }
    return s;
}

static bool s_key_is(const msgpack_object *k, const char *name)
{
    size_t n = strlen(name);
    return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
           memcmp(k->via.str.ptr, name, n) == 0;
}

/* A stored string: msgpack str, no NUL inside, at most max bytes. */
static bool s_str_ok(const msgpack_object *o, size_t max)
{
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size <= max &&
           !memchr(o->via.str.ptr, '\0', o->via.str.size);
}

static int s_decode_field(const minga_field_t *f, const msgpack_object *o, void *rec, char *err,
                          size_t cap)
{
    void *p = MINGA_FIELD_PTR(rec, f);
    switch (f->type) {
    case MINGA_FT_UINT:
        if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
            goto type;
        *(uint64_t *)p = o->via.u64;
        return 0;
    case MINGA_FT_BOOL:
        if (o->type != MSGPACK_OBJECT_BOOLEAN)
            goto type;
        *(bool *)p = o->via.boolean;
        return 0;
    case MINGA_FT_CODES:
    case MINGA_FT_STRS: {
        if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size > S_MAX_LIST)
            goto type;
        minga_strv_t *v = p;
        minga_strv_clear(v);
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            const msgpack_object *e = &o->via.array.ptr[i];
            if (!s_str_ok(e, 64))
                goto type;
            char *s = s_dup_obj_str(e);
            int rc = s ? minga_strv_push(v, s) : MINGA_ENOMEM;
            free(s);
            if (rc)
                return rc;
        }
        return 0;
    }
    default:
        if (!s_str_ok(o, s_max_len(f) * 4))
            goto type;
        free(*(char **)p);
        if (!(*(char **)p = s_dup_obj_str(o)))
            return MINGA_ENOMEM;
        return 0;
    }
type:
    snprintf(err, cap, "field '%s' has the wrong msgpack type or size", f->name);
    return MINGA_EFORMAT;
}

int minga_record_decode(const minga_rtype_t *t, const void *buf, size_t len, void *rec, char *err,
                        size_t errcap)
{
    int rc = MINGA_EFORMAT;
    bool seen[64] = {false};
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    minga_record_clear(t, rec);
    if (minga_mpguard_check(buf, len, 4) != 0) {
        snprintf(err, errcap, "%s record: malformed or truncated msgpack (%zu bytes)", t->record,
                 len);
        goto done;
    }
    size_t off = 0;
    if (msgpack_unpack_next(&up, buf, len, &off) != MSGPACK_UNPACK_SUCCESS ||
        up.data.type != MSGPACK_OBJECT_MAP) {
        snprintf(err, errcap, "%s record: not a msgpack map", t->record);
        goto done;
    }
    const msgpack_object_map *m = &up.data.via.map;
    uint64_t version = 0;
    bool have_event = false;
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *k = &m->ptr[i].key, *v = &m->ptr[i].val;
        if (s_key_is(k, "v")) {
            if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
                goto bad_version;
            version = v->via.u64;
            continue;
        }
        if (t->per_event && s_key_is(k, "event")) {
            if (!s_str_ok(v, 32))
                goto bad_event;
            free(*(char **)rec);
            if (!(*(char **)rec = s_dup_obj_str(v))) {
                rc = MINGA_ENOMEM;
                goto done;
            }
            have_event = true;
            continue;
        }
        for (size_t j = 0; j < t->nfields; j++) {
            if (s_key_is(k, t->fields[j].name)) {
                if ((rc = s_decode_field(&t->fields[j], v, rec, err, errcap)) != 0)
                    goto done;
                seen[j] = true;
                break;
            }
        }
        /* unknown keys: ignored, for records written by a newer minor version */
    }
    if (version < 1 || version > t->version) {
    bad_version:
        snprintf(err, errcap, "%s record: schema version %llu is not supported (1..%u)", t->record,
                 (unsigned long long)version, t->version);
        rc = MINGA_EVERSION;
        goto done;
    }
    if (t->per_event && !have_event) {
        snprintf(err, errcap, "%s record: required field 'event' is missing", t->record);
        rc = MINGA_EFORMAT;
        goto done;
    }
    for (size_t j = 0; j < t->nfields; j++) {
        if (t->fields[j].required && !seen[j]) {
            snprintf(err, errcap, "%s record: required field '%s' is missing", t->record,
                     t->fields[j].name);
            rc = MINGA_EFORMAT;
            goto done;
        }
    }
    rc = 0;
    goto done;
bad_event:
    snprintf(err, errcap, "%s record: field 'event' is not a short string", t->record);
    rc = MINGA_EFORMAT;
done:
    msgpack_unpacked_destroy(&up);
    if (rc)
        minga_record_clear(t, rec);
    return rc;
}
