/*
 * io.c: records out of the store into files — the CSV and JSON writers, `minga export`, and
 * the reader of the change log. The formats are described in io.h.
 */
#include "minga/io.h"

#include "minga/error.h"
#include "minga/log.h"
#include "minga/mpguard.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct minga_writer_t {
    FILE *out;
    const minga_rtype_t *type;
    minga_format_t fmt;
    size_t count;
};

void minga_csv_put_field(FILE *out, const char *text)
{
    if (!strpbrk(text, ";\"\n\r")) {
        fputs(text, out);
        return;
    }
    fputc('"', out);
    for (const char *p = text; *p; p++) {
        if (*p == '"')
            fputc('"', out);
        fputc(*p, out);
    }
    fputc('"', out);
}

int minga_writer_new(minga_writer_t **self_p, FILE *out, const minga_rtype_t *t, minga_format_t fmt)
{
    minga_writer_t *self = calloc(1, sizeof *self);
    *self_p = NULL;
    if (!self)
        return MINGA_ENOMEM;
    self->out = out;
    self->type = t;
    self->fmt = fmt;
    if (fmt == MINGA_FORMAT_CSV) {
        fputs("\xEF\xBB\xBF", out);
        for (size_t i = 0; i < t->nfields; i++) {
            if (i)
                fputc(';', out);
            minga_csv_put_field(out, t->fields[i].header);
        }
        fputc('\n', out);
    } else {
        fputs("[", out);
    }
    *self_p = self;
    return ferror(out) ? -EIO : 0;
}

/* The record as a JSON object with the file headers as keys (the caller decrefs). */
static json_t *s_to_json(const minga_rtype_t *t, const void *rec)
{
    json_t *obj = json_object();
    for (size_t i = 0; obj && i < t->nfields; i++) {
        const minga_field_t *f = &t->fields[i];
        const void *p = MINGA_FIELD_PTR(rec, f);
        json_t *v = NULL;
        if (f->type == MINGA_FT_UINT) {
            if (f->required || *(const uint64_t *)p)
                v = json_integer((json_int_t) * (const uint64_t *)p);
        } else if (f->type == MINGA_FT_BOOL) {
            v = json_boolean(*(const bool *)p);
        } else if (f->type == MINGA_FT_CODES || f->type == MINGA_FT_STRS) {
            const minga_strv_t *sv = p;
            if (sv->n) {
                v = json_array();
                for (size_t j = 0; j < sv->n; j++)
                    json_array_append_new(v, json_string(sv->v[j]));
            }
        } else if (*(char *const *)p) {
            v = json_string(*(char *const *)p);
        }
        if (v)
            json_object_set_new(obj, f->header, v);
    }
    return obj;
}

int minga_writer_put(minga_writer_t *self, const void *rec)
{
    const minga_rtype_t *t = self->type;
    if (self->fmt == MINGA_FORMAT_CSV) {
        for (size_t i = 0; i < t->nfields; i++) {
            char *text = minga_field_format(&t->fields[i], rec);
            if (!text)
                return MINGA_ENOMEM;
            if (i)
                fputc(';', self->out);
            minga_csv_put_field(self->out, text);
            free(text);
        }
        fputc('\n', self->out);
    } else {
        json_t *obj = s_to_json(t, rec);
        char *text = obj ? json_dumps(obj, JSON_PRESERVE_ORDER | JSON_COMPACT) : NULL;
        json_decref(obj);
        if (!text)
            return MINGA_ENOMEM;
        fprintf(self->out, "%s\n  %s", self->count ? "," : "", text);
        free(text);
    }
    self->count++;
    return ferror(self->out) ? -EIO : 0;
}

int minga_writer_finish(minga_writer_t *self)
{
    if (self->fmt == MINGA_FORMAT_JSON)
        fputs(self->count ? "\n]\n" : "]\n", self->out);
    if (fflush(self->out) != 0 || ferror(self->out))
        return errno ? -errno : -EIO;
    return 0;
}

void minga_writer_destroy(minga_writer_t **self_p)
{
    if (self_p && *self_p) {
        free(*self_p);
        *self_p = NULL;
    }
}

/* ---- export ---- */

int minga_export(minga_store_t *store, const minga_rtype_t *t, const char *event,
                 minga_format_t fmt, FILE *out, size_t *count)
{
    uint8_t prefix[MINGA_KEY_ID];
    size_t plen = 0;
    if (t->per_event) {
        if (!event || minga_key_id(prefix, event) < 0)
            return MINGA_EINVAL;
        plen = MINGA_KEY_ID;
    }
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    minga_writer_t *w = NULL;
    void *rec = minga_record_new(t);
    int rc = rec ? minga_store_read_begin(store, &txn) : MINGA_ENOMEM;
    if (rc || (rc = mdb_cursor_open(txn, minga_store_dbi(store, t->db), &cur)) != 0 ||
        (rc = minga_writer_new(&w, out, t, fmt)) != 0)
        goto done;
    MDB_val k = {plen, prefix}, v;
    *count = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (plen && (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0))
            break;
        char err[256];
        rc = minga_record_decode(t, v.mv_data, v.mv_size, rec, err, sizeof err);
        if (rc) {
            minga_error("store %s: %s record of %zu-byte key cannot be read: %s",
                        minga_store_path(store), t->record, k.mv_size, err);
            goto done;
        }
        if ((rc = minga_writer_put(w, rec)) != 0)
            goto done;
        (*count)++;
    }
    rc = (rc == MDB_NOTFOUND) ? minga_writer_finish(w) : rc;
done:
    minga_writer_destroy(&w);
    if (cur)
        mdb_cursor_close(cur);
    if (txn)
        mdb_txn_abort(txn);
    minga_record_free(t, rec);
    return rc;
}

/* ---- the change log ---- */

static char *s_obj_str(const msgpack_object *o)
{
    if (o->type != MSGPACK_OBJECT_STR)
        return strdup("");
    char *s = malloc(o->via.str.size + 1);
    if (s) {
        memcpy(s, o->via.str.ptr, o->via.str.size);
        s[o->via.str.size] = '\0';
    }
    return s;
}

static void s_change_clear(minga_change_t *c)
{
    free(c->at);
    free(c->who);
    free(c->kind);
    free(c->id);
    free(c->field);
    free(c->old_value);
    free(c->new_value);
    free(c->source);
    memset(c, 0, sizeof *c);
}

/* Decodes a stored change; 0 or MINGA_EFORMAT. */
static int s_change_decode(const MDB_val *v, minga_change_t *c)
{
    if (minga_mpguard_check(v->mv_data, v->mv_size, 2) != 0)
        return MINGA_EFORMAT;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    int rc = MINGA_EFORMAT;
    if (msgpack_unpack_next(&up, v->mv_data, v->mv_size, &off) == MSGPACK_UNPACK_SUCCESS &&
        up.data.type == MSGPACK_OBJECT_MAP) {
        struct {
            const char *name;
            char **dst;
        } map[] = {{"at", &c->at},         {"who", &c->who},      {"kind", &c->kind},
                   {"id", &c->id},         {"field", &c->field},  {"old", &c->old_value},
                   {"new", &c->new_value}, {"source", &c->source}};
        for (uint32_t i = 0; i < up.data.via.map.size; i++) {
            const msgpack_object *k = &up.data.via.map.ptr[i].key;
            for (size_t j = 0; j < sizeof map / sizeof map[0]; j++)
                if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(map[j].name) &&
                    memcmp(k->via.str.ptr, map[j].name, k->via.str.size) == 0 && !*map[j].dst)
                    *map[j].dst = s_obj_str(&up.data.via.map.ptr[i].val);
        }
        for (size_t j = 0; j < sizeof map / sizeof map[0]; j++)
            if (!*map[j].dst)
                *map[j].dst = strdup("");
        rc = 0;
    }
    msgpack_unpacked_destroy(&up);
    return rc;
}

int minga_changes_each(minga_store_t *store, const char *kind, const char *id, minga_change_fn *fn,
                       void *arg)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    int rc = minga_store_read_begin(store, &txn);
    if (rc)
        return rc;
    if ((rc = mdb_cursor_open(txn, minga_store_dbi(store, MINGA_DB_CHANGE), &cur)) != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    MDB_val k, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        minga_change_t c = {0};
        if (k.mv_size != 8 || s_change_decode(&v, &c) != 0) {
            minga_warn("store %s: unreadable change log entry skipped", minga_store_path(store));
            s_change_clear(&c);
            continue;
        }
        c.seq = minga_key_get_u64(k.mv_data);
        int stop = 0;
        if ((!kind || strcmp(kind, c.kind) == 0) && (!id || strcmp(id, c.id) == 0))
            stop = fn(&c, arg);
        s_change_clear(&c);
        if (stop) {
            rc = stop;
            break;
        }
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return rc == MDB_NOTFOUND ? 0 : rc;
}
