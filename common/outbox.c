/*
 * outbox.c: the outbox record's codec and its reads and writes in the store (outbox.h). The
 * state machine's transitions are made by notify.c; this file only keeps the records.
 */
#include "minga/outbox.h"

#include "minga/error.h"
#include "minga/proto.h"

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

static const char *const s_states[] = {"pending", "sent", "failed"};

const char *minga_outbox_state_name(minga_outbox_state_t s)
{
    return (unsigned)s < 3 ? s_states[s] : "?";
}

int minga_outbox_state_parse(const char *name)
{
    for (int i = 0; name && i < 3; i++)
        if (strcmp(name, s_states[i]) == 0)
            return i;
    return -1;
}

const char *minga_outbox_kind_name(uint8_t kind)
{
    return kind == MINGA_OUTBOX_AGENDA ? "agenda" : "?";
}

int minga_outbox_key(uint8_t key[MINGA_OUTBOX_KEY], const char *event, const char *party,
                     uint8_t kind, uint32_t version)
{
    if (minga_key_id(key, event) || minga_key_id(key + MINGA_KEY_ID, party))
        return MINGA_EINVAL;
    key[MINGA_KEY_ID * 2] = kind;
    minga_key_u32(key + MINGA_KEY_ID * 2 + 1, version);
    return 0;
}

void minga_outbox_clear(minga_outbox_t *r)
{
    if (!r)
        return;
    free(r->message_id);
    free(r->to);
    free(r->reply);
    free(r->error);
    free(r->message);
    free(r->items);
    memset(r, 0, sizeof *r);
}

static void s_kv_opt(msgpack_packer *pk, const char *k, const char *v)
{
    if (v)
        minga_pk_kv_str(pk, k, v);
    else
        minga_pk_kv_nil(pk, k);
}

int minga_outbox_encode(const minga_outbox_t *r, uint8_t **buf, size_t *len)
{
    minga_pbuf_t b;
    minga_pbuf_init(&b);
    msgpack_packer *pk = &b.pk;
    msgpack_pack_map(pk, 17);
    minga_pk_kv_uint(pk, "v", MINGA_OUTBOX_VERSION);
    minga_pk_kv_str(pk, "event", r->event);
    minga_pk_kv_str(pk, "party", r->party);
    minga_pk_kv_str(pk, "kind", minga_outbox_kind_name(r->kind));
    minga_pk_kv_uint(pk, "version", r->version);
    minga_pk_kv_str(pk, "state", minga_outbox_state_name(r->state));
    minga_pk_kv_uint(pk, "attempts", r->attempts);
    minga_pk_kv_uint(pk, "hash", r->hash);
    minga_pk_kv_uint(pk, "created_at", r->created_at);
    minga_pk_kv_uint(pk, "updated_at", r->updated_at);
    minga_pk_kv_uint(pk, "sent_at", r->sent_at);
    s_kv_opt(pk, "message_id", r->message_id);
    s_kv_opt(pk, "to", r->to);
    s_kv_opt(pk, "reply", r->reply);
    s_kv_opt(pk, "error", r->error);
    minga_pk_str(pk, "message");
    msgpack_pack_bin(pk, r->message_len);
    msgpack_pack_bin_body(pk, r->message, r->message_len);
    minga_pk_str(pk, "items");
    if (r->items && r->items_len)
        msgpack_pack_bin_with_body(pk, r->items, r->items_len);
    else
        msgpack_pack_nil(pk);
    *buf = malloc(b.sbuf.size ? b.sbuf.size : 1);
    int rc = *buf ? 0 : MINGA_ENOMEM;
    if (*buf) {
        memcpy(*buf, b.sbuf.data, b.sbuf.size);
        *len = b.sbuf.size;
    }
    minga_pbuf_clear(&b);
    return rc;
}

enum {
    F_V,
    F_EVENT,
    F_PARTY,
    F_KIND,
    F_VERSION,
    F_STATE,
    F_ATTEMPTS,
    F_HASH,
    F_CREATED,
    F_UPDATED,
    F_SENT,
    F_MSGID,
    F_TO,
    F_REPLY,
    F_ERROR,
    F_MESSAGE,
    F_ITEMS,
    F_N
};

static const minga_pfield_t s_fields[F_N] = {
    {"v", MINGA_PF_UINT, true, 1, UINT32_MAX},
    {"event", MINGA_PF_STR, true, 1, MINGA_KEY_ID},
    {"party", MINGA_PF_STR, true, 1, MINGA_KEY_ID},
    {"kind", MINGA_PF_STR, true, 1, 32},
    {"version", MINGA_PF_UINT, true, 1, UINT32_MAX},
    {"state", MINGA_PF_STR, true, 1, 16},
    {"attempts", MINGA_PF_UINT, false, 0, UINT32_MAX},
    {"hash", MINGA_PF_UINT, false, 0, UINT64_MAX},
    {"created_at", MINGA_PF_UINT, false, 0, UINT64_MAX},
    {"updated_at", MINGA_PF_UINT, false, 0, UINT64_MAX},
    {"sent_at", MINGA_PF_UINT, false, 0, UINT64_MAX},
    {"message_id", MINGA_PF_STR, false, 0, 1024},
    {"to", MINGA_PF_STR, false, 0, 1024},
    {"reply", MINGA_PF_STR, false, 0, 4096},
    {"error", MINGA_PF_STR, false, 0, 4096},
    {"message", MINGA_PF_ANY, false, 0, 0},
    {"items", MINGA_PF_ANY, false, 0, 0},
};

static int s_copy_bytes(const msgpack_object *o, uint8_t **dst, size_t *len)
{
    size_t n = 0;
    const char *p = minga_pobj_str(o, &n);
    if (!o || o->type == MSGPACK_OBJECT_NIL)
        return 0;
    if (!p)
        return MINGA_EFORMAT;
    *dst = malloc(n ? n : 1);
    if (!*dst)
        return MINGA_ENOMEM;
    memcpy(*dst, p, n);
    *len = n;
    return 0;
}

int minga_outbox_decode(const void *buf, size_t len, minga_outbox_t *r)
{
    /* untrusted: declared lengths are checked against the bytes before msgpack-c allocates */
    memset(r, 0, sizeof *r);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    const msgpack_object *f[F_N];
    char err[256];
    int rc = MINGA_EFORMAT;
    if (minga_mp_validate(buf, len, 8) != 0 ||
        msgpack_unpack_next(&up, buf, len, &off) != MSGPACK_UNPACK_SUCCESS || off != len ||
        minga_pfields(&up.data, s_fields, F_N, f, false, err, sizeof err) != 0)
        goto done;
    if (minga_pobj_uint(f[F_V], 0) > MINGA_OUTBOX_VERSION) {
        rc = MINGA_EVERSION;
        goto done;
    }
    size_t n;
    const char *s = minga_pobj_str(f[F_EVENT], &n);
    memcpy(r->event, s, n);
    s = minga_pobj_str(f[F_PARTY], &n);
    memcpy(r->party, s, n);
    if (!minga_pobj_str_eq(f[F_KIND], "agenda"))
        goto done;
    r->kind = MINGA_OUTBOX_AGENDA;
    r->version = (uint32_t)minga_pobj_uint(f[F_VERSION], 0);
    char state[17] = "";
    s = minga_pobj_str(f[F_STATE], &n);
    memcpy(state, s, n);
    int st = minga_outbox_state_parse(state);
    if (st < 0)
        goto done;
    r->state = (minga_outbox_state_t)st;
    r->attempts = (uint32_t)minga_pobj_uint(f[F_ATTEMPTS], 0);
    r->hash = minga_pobj_uint(f[F_HASH], 0);
    r->created_at = minga_pobj_uint(f[F_CREATED], 0);
    r->updated_at = minga_pobj_uint(f[F_UPDATED], 0);
    r->sent_at = minga_pobj_uint(f[F_SENT], 0);
    r->message_id = minga_pobj_strdup(f[F_MSGID]);
    r->to = minga_pobj_strdup(f[F_TO]);
    r->reply = minga_pobj_strdup(f[F_REPLY]);
    r->error = minga_pobj_strdup(f[F_ERROR]);
    if ((rc = s_copy_bytes(f[F_MESSAGE], &r->message, &r->message_len)) != 0 ||
        (rc = s_copy_bytes(f[F_ITEMS], &r->items, &r->items_len)) != 0)
        goto done;
    rc = 0;
done:
    msgpack_unpacked_destroy(&up);
    if (rc)
        minga_outbox_clear(r);
    return rc;
}

int minga_outbox_get(minga_store_t *store, MDB_txn *txn, const char *event, const char *party,
                     uint8_t kind, uint32_t version, minga_outbox_t *r)
{
    uint8_t key[MINGA_OUTBOX_KEY];
    if (minga_outbox_key(key, event, party, kind, version))
        return MINGA_EINVAL;
    MDB_val k = {sizeof key, key}, v;
    int rc = mdb_get(txn, minga_store_dbi(store, MINGA_DB_OUTBOX), &k, &v);
    if (rc == MDB_NOTFOUND)
        return MINGA_ENOTFOUND;
    return rc ? rc : minga_outbox_decode(v.mv_data, v.mv_size, r);
}

int minga_outbox_latest(minga_store_t *store, MDB_txn *txn, const char *event, const char *party,
                        uint8_t kind, minga_outbox_t *r)
{
    uint8_t key[MINGA_OUTBOX_KEY];
    if (minga_outbox_key(key, event, party, kind, UINT32_MAX))
        return MINGA_EINVAL;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, minga_store_dbi(store, MINGA_DB_OUTBOX), &cur);
    if (rc)
        return rc;
    MDB_val k = {sizeof key, key}, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (rc == 0 && k.mv_size == sizeof key && memcmp(k.mv_data, key, sizeof key) == 0)
        rc = 0; /* version UINT32_MAX itself */
    else if (rc == 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
    else if (rc == MDB_NOTFOUND)
        rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    if (rc == 0 && (k.mv_size != sizeof key || memcmp(k.mv_data, key, MINGA_KEY_ID * 2 + 1) != 0))
        rc = MDB_NOTFOUND;
    if (rc == 0)
        rc = minga_outbox_decode(v.mv_data, v.mv_size, r);
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? MINGA_ENOTFOUND : rc;
}

int minga_outbox_put(minga_store_t *store, MDB_txn *txn, const minga_outbox_t *r)
{
    uint8_t key[MINGA_OUTBOX_KEY], *buf = NULL;
    size_t len = 0;
    if (minga_outbox_key(key, r->event, r->party, r->kind, r->version))
        return MINGA_EINVAL;
    int rc = minga_outbox_encode(r, &buf, &len);
    if (rc)
        return rc;
    MDB_val k = {sizeof key, key}, v = {len, buf};
    rc = mdb_put(txn, minga_store_dbi(store, MINGA_DB_OUTBOX), &k, &v, 0);
    free(buf);
    return rc;
}

int minga_outbox_each(minga_store_t *store, const char *event, minga_outbox_fn *fn, void *arg)
{
    uint8_t prefix[MINGA_KEY_ID];
    if (minga_key_id(prefix, event))
        return MINGA_EINVAL;
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    int rc = minga_store_read_begin(store, &txn);
    if (rc == 0)
        rc = mdb_cursor_open(txn, minga_store_dbi(store, MINGA_DB_OUTBOX), &cur);
    MDB_val k = {sizeof prefix, prefix}, v;
    int c = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    for (; rc == 0 && c == 0; c = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < MINGA_KEY_ID || memcmp(k.mv_data, prefix, MINGA_KEY_ID) != 0)
            break;
        minga_outbox_t r;
        if ((rc = minga_outbox_decode(v.mv_data, v.mv_size, &r)) != 0)
            break;
        rc = fn(&r, arg);
        minga_outbox_clear(&r);
    }
    if (rc == 0 && c != 0 && c != MDB_NOTFOUND)
        rc = c;
    if (cur)
        mdb_cursor_close(cur);
    if (txn)
        mdb_txn_abort(txn);
    return rc;
}
