/*
 * import.c: `minga import` — a CSV or JSON file of registry records into the store, all or
 * nothing.
 *
 * Steps, each over the whole file before the next:
 *   1. read the file and tell CSV (';' or ',', BOM or not) from JSON (an array of objects);
 *   2. map the header row (or each object's keys) onto the record's descriptor table;
 *   3. parse every row into a record, validating each field and the cross-field rules, and
 *      collect every error with file, line, column and field;
 *   4. check the references (a demand's GAD, an offer's cooperante, a participant's event and
 *      party...) against the store and ids duplicated within the file;
 *   5. only when no row is bad: encode every record and write them in one transaction, with
 *      the change log of every field that changed. LMDB's transaction makes step 5 all or
 *      nothing, a full map or disk included.
 */
#include "minga/io.h"

#include "minga/error.h"
#include "minga/log.h"

#include <csv.h>
#include <errno.h>
#include <jansson.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define S_MAX_COLUMNS 64
#define S_MAX_FILE (1ull << 31)

typedef struct {
    long line;
    uint8_t key[3 * MINGA_KEY_ID];
    int keylen;        /* -1 for a bad row */
    size_t voff, vlen; /* the encoded value in the arena */
    bool bad;          /* an error was reported for this row */
} s_row_t;

typedef struct {
    minga_store_t *store;
    const minga_rtype_t *type;
    const char *name; /* file name for messages */
    const minga_import_opts_t *opts;
    minga_import_report_t *report;
    size_t max_errors;
    /* rows */
    s_row_t *rows;
    size_t nrows, caprows;
    /* CSV state */
    int colmap[S_MAX_COLUMNS]; /* column -> field index, -1 unknown */
    int ncols;
    bool header_done;
    bool abort;
    long line;         /* line being fed */
    int col;           /* current column in the row */
    int newlines;      /* line breaks inside the current row's fields */
    void *cur;         /* record being filled */
    size_t row_errors; /* report->nerrors when the current row began */
    char errbuf[320];
    MDB_txn *rtxn;         /* read snapshot for reference checks, closed before writing */
    uint8_t *gads;         /* GADs in that snapshot by DPA code, filled on first use */
    bool event_ok;         /* per-event kinds: the event exists */
    uint64_t slots;        /* the event's slot count, for participants */
    msgpack_sbuffer arena; /* every row's encoded value, one after the other */
} s_import_t;

static void s_error(s_import_t *im, long line, int column, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void s_error(s_import_t *im, long line, int column, const char *field, const char *fmt, ...)
{
    minga_import_report_t *r = im->report;
    size_t i = r->nerrors++;
    if (i >= im->max_errors)
        return;
    if (!r->errors && !(r->errors = calloc(im->max_errors, sizeof *r->errors)))
        return;
    minga_import_error_t *e = &r->errors[i];
    snprintf(e->file, sizeof e->file, "%s", im->name);
    e->line = line;
    e->column = column;
    snprintf(e->field, sizeof e->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

void minga_import_report_clear(minga_import_report_t *report)
{
    free(report->errors);
    memset(report, 0, sizeof *report);
}

static void s_check_row_refs(s_import_t *im, const void *rec, long line);
static void s_check_record(s_import_t *im, void *rec, long line);
static int s_set_event(s_import_t *im, void *rec);
static void s_key_text(const s_import_t *im, const s_row_t *row, bool full, char *out, size_t cap);

/* Ends a parsed record: cross-field rules and references (when its fields were good), its
 * key and its encoding into the arena; the row joins the list, the record is left for reuse. */
static int s_finish_row(s_import_t *im, void *rec, long line, bool bad)
{
    s_row_t row = {.line = line, .bad = bad, .keylen = -1};
    int rc = s_set_event(im, rec);
    if (rc)
        return rc;
    if (!bad) {
        size_t before = im->report->nerrors;
        s_check_record(im, rec, line);
        if (im->report->nerrors == before)
            s_check_row_refs(im, rec, line);
        row.bad = im->report->nerrors > before;
    }
    if (!row.bad) {
        row.keylen = minga_record_key(im->type, rec, row.key);
        row.voff = im->arena.size;
        if (minga_record_append(im->type, rec, &im->arena) != 0)
            return MINGA_ENOMEM;
        row.vlen = im->arena.size - row.voff;
    }
    if (im->nrows == im->caprows) {
        size_t cap = im->caprows ? im->caprows * 2 : 1024;
        s_row_t *grown = realloc(im->rows, cap * sizeof *grown);
        if (!grown)
            return MINGA_ENOMEM;
        im->rows = grown;
        im->caprows = cap;
    }
    im->rows[im->nrows++] = row;
    return 0;
}

/* Cross-field rules of a complete record; errors are attributed to the field the check names. */
static void s_check_record(s_import_t *im, void *rec, long line)
{
    const char *field = NULL;
    char err[320];
    if (im->type->check && im->type->check(rec, &field, err, sizeof err) != 0) {
        int column = 0;
        for (int c = 0; c < im->ncols; c++)
            if (im->colmap[c] >= 0 && field &&
                strcmp(im->type->fields[im->colmap[c]].header, field) == 0)
                column = c + 1;
        s_error(im, line, column, field, "%s", err);
    }
}

/* Sets the event of a per-event record from the options. */
static int s_set_event(s_import_t *im, void *rec)
{
    if (!im->type->per_event)
        return 0;
    char **ev = rec;
    free(*ev);
    *ev = strdup(im->opts->event);
    return *ev ? 0 : MINGA_ENOMEM;
}

/* ---- CSV ---- */

static int s_field_by_header(const minga_rtype_t *t, const char *header)
{
    char a[128], b[128];
    minga_fold(a, sizeof a, header);
    for (size_t i = 0; i < t->nfields; i++) {
        if (strcmp(a, minga_fold(b, sizeof b, t->fields[i].header)) == 0 ||
            strcmp(a, t->fields[i].name) == 0)
            return (int)i;
    }
    return -1;
}

static void s_csv_header_field(s_import_t *im, const char *text)
{
    int c = im->ncols++;
    if (c >= S_MAX_COLUMNS) {
        if (c == S_MAX_COLUMNS)
            s_error(im, 1, c + 1, NULL, "more than %d columns", S_MAX_COLUMNS);
        return;
    }
    char name[128];
    snprintf(name, sizeof name, "%s", text);
    /* a BOM before the first header */
    char *h = name;
    if (c == 0 && strncmp(h, "\xEF\xBB\xBF", 3) == 0)
        h += 3;
    while (*h == ' ')
        h++;
    for (size_t n = strlen(h); n && h[n - 1] == ' '; n--)
        h[n - 1] = '\0';
    im->colmap[c] = s_field_by_header(im->type, h);
    if (im->colmap[c] < 0)
        s_error(im, 1, c + 1, h, "unknown column '%s' for %s", h, im->type->kind);
    for (int o = 0; o < c; o++)
        if (im->colmap[c] >= 0 && im->colmap[o] == im->colmap[c])
            s_error(im, 1, c + 1, h, "column '%s' appears twice", h);
}

static void s_csv_header_done(s_import_t *im)
{
    im->header_done = true;
    for (size_t i = 0; i < im->type->nfields; i++) {
        if (!im->type->fields[i].required)
            continue;
        bool found = false;
        for (int c = 0; c < im->ncols && c < S_MAX_COLUMNS; c++)
            found |= im->colmap[c] == (int)i;
        if (!found)
            s_error(im, 1, 0, im->type->fields[i].header, "required column '%s' is missing",
                    im->type->fields[i].header);
    }
    if (im->report->nerrors)
        im->abort = true; /* rows cannot be read against a broken header */
}

static void s_csv_field(void *s, size_t len, void *data)
{
    s_import_t *im = data;
    const char *text = s ? s : "";
    for (size_t i = 0; i < len; i++)
        im->newlines += text[i] == '\n';
    if (len && memchr(text, '\0', len)) {
        s_error(im, im->line - im->newlines, im->header_done ? im->col + 1 : im->ncols + 1, NULL,
                "field holds a NUL byte");
        if (!im->header_done)
            im->abort = true;
        im->col++;
        return;
    }
    if (!im->header_done) {
        s_csv_header_field(im, text);
        return;
    }
    if (im->abort)
        return;
    int c = im->col++;
    if (!im->cur && !(im->cur = minga_record_new(im->type))) {
        im->abort = true;
        return;
    }
    if (c >= im->ncols || c >= S_MAX_COLUMNS || im->colmap[c] < 0)
        return; /* the row's field count is checked at its end */
    const minga_field_t *f = &im->type->fields[im->colmap[c]];
    if (minga_field_parse(f, im->cur, text, im->errbuf, sizeof im->errbuf) != 0)
        s_error(im, im->line - im->newlines, c + 1, f->header, "%s", im->errbuf);
}

static void s_csv_row(int term, void *data)
{
    (void)term;
    s_import_t *im = data;
    long start = im->line - im->newlines;
    im->newlines = 0;
    if (!im->header_done) {
        s_csv_header_done(im);
        im->row_errors = im->report->nerrors;
        return;
    }
    if (im->abort)
        return;
    int cols = im->col;
    im->col = 0;
    if (!im->cur && !(im->cur = minga_record_new(im->type))) {
        im->abort = true;
        return;
    }
    if (cols != im->ncols)
        s_error(im, start, 0, NULL, "row has %d fields, the header has %d", cols, im->ncols);
    bool bad = im->report->nerrors > im->row_errors;
    if (s_finish_row(im, im->cur, start, bad) != 0)
        im->abort = true;
    minga_record_clear(im->type, im->cur);
    im->row_errors = im->report->nerrors;
}

/* The delimiter of the header line: ';' unless ',' is more frequent outside quotes. */
static char s_detect_delim(const char *data, size_t len)
{
    size_t semi = 0, comma = 0;
    bool quoted = false;
    for (size_t i = 0; i < len && (quoted || data[i] != '\n'); i++) {
        if (data[i] == '"')
            quoted = !quoted;
        else if (!quoted && data[i] == ';')
            semi++;
        else if (!quoted && data[i] == ',')
            comma++;
    }
    return comma > semi ? ',' : ';';
}

static int s_parse_csv(s_import_t *im, const char *data, size_t len)
{
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
        return MINGA_ENOMEM;
    csv_set_delim(&p, (unsigned char)s_detect_delim(data, len));
    const char *pos = data, *end = data + len;
    int rc = 0;
    im->line = 0;
    while (pos < end && !im->abort) {
        const char *nl = memchr(pos, '\n', (size_t)(end - pos));
        size_t n = nl ? (size_t)(nl - pos) + 1 : (size_t)(end - pos);
        im->line++;
        if (csv_parse(&p, pos, n, s_csv_field, s_csv_row, im) != n) {
            s_error(im, im->line, 0, NULL, "malformed CSV: %s", csv_strerror(csv_error(&p)));
            im->abort = true;
            break;
        }
        pos += n;
    }
    if (!im->abort && csv_fini(&p, s_csv_field, s_csv_row, im) != 0)
        s_error(im, im->line, 0, NULL, "malformed CSV: %s (a quoted field is never closed)",
                csv_strerror(csv_error(&p)));
    if (!im->header_done && !im->report->nerrors)
        s_error(im, 1, 0, NULL, "the file is empty: no header row");
    csv_free(&p);
    if (im->cur) {
        minga_record_free(im->type, im->cur);
        im->cur = NULL;
    }
    return rc;
}

/* ---- JSON ---- */

/* The text form of a JSON value, as CSV would hold it (the caller frees). */
static char *s_json_text(json_t *v, bool *ok)
{
    *ok = true;
    if (json_is_string(v))
        return strdup(json_string_value(v));
    if (json_is_integer(v)) {
        char buf[32];
        snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return strdup(buf);
    }
    if (json_is_boolean(v))
        return strdup(json_is_true(v) ? "sí" : "no");
    if (json_is_null(v))
        return strdup("");
    if (json_is_array(v)) {
        size_t cap = 16, len = 0, i;
        char *s = malloc(cap);
        json_t *e;
        if (!s)
            return NULL;
        s[0] = '\0';
        json_array_foreach(v, i, e)
        {
            if (!json_is_string(e) && !json_is_integer(e)) {
                *ok = false;
                free(s);
                return NULL;
            }
            char num[32];
            const char *t = json_is_string(e) ? json_string_value(e) : num;
            if (!json_is_string(e))
                snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(e));
            size_t need = len + strlen(t) + 2;
            if (need > cap) {
                char *g = realloc(s, cap = need * 2);
                if (!g) {
                    free(s);
                    return NULL;
                }
                s = g;
            }
            len += (size_t)sprintf(s + len, i ? ",%s" : "%s", t);
        }
        return s;
    }
    *ok = false;
    return NULL;
}

static int s_parse_json(s_import_t *im, const char *data, size_t len)
{
    json_error_t jerr;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        s_error(im, jerr.line, jerr.column, NULL, "malformed JSON: %s", jerr.text);
        return 0;
    }
    if (!json_is_array(root)) {
        s_error(im, 1, 0, NULL, "the JSON file must hold an array of objects");
        json_decref(root);
        return 0;
    }
    size_t i;
    json_t *obj;
    json_array_foreach(root, i, obj)
    {
        long el = (long)i + 1;
        if (!json_is_object(obj)) {
            s_error(im, el, 0, NULL, "element %ld is not an object", el);
            continue;
        }
        void *rec = minga_record_new(im->type);
        if (!rec)
            goto nomem;
        bool bad = false;
        size_t errors_before = im->report->nerrors;
        const char *key;
        json_t *v;
        json_object_foreach(obj, key, v)
        {
            int fi = s_field_by_header(im->type, key);
            if (fi < 0) {
                s_error(im, el, 0, key, "unknown field '%s' for %s", key, im->type->kind);
                bad = true;
                continue;
            }
            bool ok;
            char *text = s_json_text(v, &ok);
            if (!ok) {
                s_error(im, el, 0, key, "value of the wrong JSON type");
                bad = true;
            } else if (!text) {
                minga_record_free(im->type, rec);
                goto nomem;
            } else if (minga_field_parse(&im->type->fields[fi], rec, text, im->errbuf,
                                         sizeof im->errbuf) != 0) {
                s_error(im, el, 0, key, "%s", im->errbuf);
                bad = true;
            }
            free(text);
        }
        for (size_t f = 0; f < im->type->nfields; f++) {
            const minga_field_t *fd = &im->type->fields[f];
            if (fd->required && !json_object_get(obj, fd->header)) {
                bool alias = false;
                json_object_foreach(obj, key, v) alias |=
                    s_field_by_header(im->type, key) == (int)f;
                if (!alias) {
                    s_error(im, el, 0, fd->header, "required field '%s' is missing", fd->header);
                    bad = true;
                }
            }
        }
        bad = im->report->nerrors > errors_before;
        int rc = s_finish_row(im, rec, el, bad);
        minga_record_free(im->type, rec);
        if (rc)
            goto nomem;
    }
    json_decref(root);
    return 0;
nomem:
    json_decref(root);
    return MINGA_ENOMEM;
}

/* ---- references and duplicates ---- */

static bool s_exists(MDB_txn *txn, minga_store_t *store, minga_db_t db, const void *key,
                     size_t klen)
{
    MDB_val k = {klen, (void *)key}, v;
    return mdb_get(txn, minga_store_dbi(store, db), &k, &v) == 0;
}

static bool s_id_exists(MDB_txn *txn, minga_store_t *store, minga_db_t db, const char *id)
{
    uint8_t key[MINGA_KEY_ID];
    return minga_key_id(key, id) == 0 && s_exists(txn, store, db, key, sizeof key);
}

static bool s_gad_exists_in_store(MDB_txn *txn, minga_store_t *store, const char *code)
{
    minga_gad_t g = {.code = (char *)code};
    uint8_t key[2];
    return minga_rtype_gad.key(&g, key) == 2 && s_exists(txn, store, MINGA_DB_GAD, key, 2);
}

/* The GADs of the snapshot, as one byte per DPA code, read once per import (a demand file
 * names a GAD on every row). */
static bool s_gad_exists(s_import_t *im, const char *code)
{
    if (!im->gads) {
        if (!(im->gads = calloc(10000, 1)))
            return s_gad_exists_in_store(im->rtxn, im->store, code);
        MDB_cursor *cur;
        MDB_val k, v;
        if (mdb_cursor_open(im->rtxn, minga_store_dbi(im->store, MINGA_DB_GAD), &cur) == 0) {
            for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
                 rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
                if (k.mv_size == 2 && minga_key_get_u16(k.mv_data) < 10000)
                    im->gads[minga_key_get_u16(k.mv_data)] = 1;
            mdb_cursor_close(cur);
        }
    }
    const minga_canton_t *c = minga_canton_find(code);
    return c && im->gads[atoi(c->code)];
}

static bool s_party_exists(s_import_t *im, const char *party)
{
    if (minga_canton_find(party))
        return s_gad_exists(im, party);
    return s_id_exists(im->rtxn, im->store, MINGA_DB_COOPERANTE, party);
}

/* Number of slots of a stored event, 0 when it cannot be read. */
static uint64_t s_event_slots(MDB_txn *txn, minga_store_t *store, const char *event)
{
    uint8_t key[MINGA_KEY_ID];
    MDB_val k = {sizeof key, key}, v;
    if (minga_key_id(key, event) != 0 ||
        mdb_get(txn, minga_store_dbi(store, MINGA_DB_EVENT), &k, &v) != 0)
        return 0;
    minga_event_t e = {0};
    char err[256];
    if (minga_record_decode(&minga_rtype_event, v.mv_data, v.mv_size, &e, err, sizeof err) != 0)
        return 0;
    if (strlen(e.date_start) != 10 || strlen(e.date_end) != 10 || strlen(e.day_start) != 5 ||
        strlen(e.day_end) != 5) { /* a damaged record: no slot is known */
        minga_record_clear(&minga_rtype_event, &e);
        return 0;
    }
    struct tm a = {0}, b = {0};
    sscanf(e.date_start, "%d-%d-%d", &a.tm_year, &a.tm_mon, &a.tm_mday);
    sscanf(e.date_end, "%d-%d-%d", &b.tm_year, &b.tm_mon, &b.tm_mday);
    a.tm_year -= 1900, b.tm_year -= 1900, a.tm_mon--, b.tm_mon--;
    long days = (long)((timegm(&b) - timegm(&a)) / 86400) + 1;
    int m0 = atoi(e.day_start) * 60 + atoi(e.day_start + 3);
    int m1 = atoi(e.day_end) * 60 + atoi(e.day_end + 3);
    uint64_t per_day = (e.slot_minutes && m1 > m0) ? (uint64_t)(m1 - m0) / e.slot_minutes : 0;
    if (days < 1 || days > 366)
        days = 0;
    minga_record_clear(&minga_rtype_event, &e);
    return (uint64_t)days * per_day;
}

/* The highest slot number in canonical ranges "1-8,11-14". */
static uint64_t s_last_slot(const char *ranges)
{
    const char *p = ranges ? strrchr(ranges, ',') : NULL;
    p = p ? p + 1 : ranges;
    if (!p)
        return 0;
    const char *dash = strchr(p, '-');
    return strtoull(dash ? dash + 1 : p, NULL, 10);
}

/* Opens the read snapshot for reference checks and checks the event of per-event kinds. */
static int s_refs_begin(s_import_t *im)
{
    int rc = minga_store_read_begin(im->store, &im->rtxn);
    if (rc)
        return rc;
    if (im->type->per_event) {
        im->event_ok = s_id_exists(im->rtxn, im->store, MINGA_DB_EVENT, im->opts->event);
        if (!im->event_ok)
            s_error(im, 0, 0, "event", "unknown event '%s' (import events first)", im->opts->event);
        else
            im->slots = s_event_slots(im->rtxn, im->store, im->opts->event);
    }
    return 0;
}

static void s_check_row_refs(s_import_t *im, const void *rec, long line)
{
    const minga_rtype_t *t = im->type;
    MDB_txn *txn = im->rtxn;
    if (t == &minga_rtype_offer) {
        const minga_offer_t *o = rec;
        if (o->cooperante && !s_id_exists(txn, im->store, MINGA_DB_COOPERANTE, o->cooperante))
            s_error(im, line, 0, "cooperante", "reference to an unknown cooperante '%s'",
                    o->cooperante);
    } else if (t == &minga_rtype_demand) {
        const minga_demand_t *d = rec;
        if (d->gad && !s_gad_exists(im, d->gad))
            s_error(im, line, 0, "gad", "reference to a GAD '%s' not in the registry", d->gad);
    } else if (t == &minga_rtype_participant) {
        const minga_participant_t *p = rec;
        if (p->party && !s_party_exists(im, p->party))
            s_error(im, line, 0, "party", "reference to an unknown party '%s'", p->party);
        if (im->event_ok && p->available_slots && s_last_slot(p->available_slots) > im->slots)
            s_error(im, line, 0, "available_slots", "slot %llu is past the event's last slot %llu",
                    (unsigned long long)s_last_slot(p->available_slots),
                    (unsigned long long)im->slots);
    } else if (t == &minga_rtype_preference) {
        const minga_preference_t *p = rec;
        if (p->from && !s_party_exists(im, p->from))
            s_error(im, line, 0, "de", "reference to an unknown party '%s'", p->from);
        if (p->to && !s_party_exists(im, p->to))
            s_error(im, line, 0, "para", "reference to an unknown party '%s'", p->to);
    }
}

/* The id a row's key stands for ("0101", "of-7"); with full, per-event keys include the event
 * ("jornada-2026/0101") and preferences both parties. Made from the key only when a message
 * or the change log needs it. */
static void s_key_text(const s_import_t *im, const s_row_t *row, bool full, char *out, size_t cap)
{
    char part[3][MINGA_KEY_ID + 1];
    if (row->keylen == 2) {
        snprintf(out, cap, "%04u", (unsigned)minga_key_get_u16(row->key));
        return;
    }
    int n = row->keylen / MINGA_KEY_ID;
    for (int i = 0; i < n && i < 3; i++) {
        memcpy(part[i], row->key + i * MINGA_KEY_ID, MINGA_KEY_ID);
        part[i][MINGA_KEY_ID] = '\0';
    }
    if (im->type == &minga_rtype_preference)
        snprintf(out, cap, full ? "%s/%s/%s" : "%.0s%s/%s", part[0], part[1], part[2]);
    else if (n == 2)
        snprintf(out, cap, full ? "%s/%s" : "%.0s%s", part[0], part[1]);
    else
        snprintf(out, cap, "%s", part[0]);
}

static int s_cmp_rowkey(const void *a, const void *b)
{
    const s_row_t *x = *(const s_row_t *const *)a, *y = *(const s_row_t *const *)b;
    if (x->keylen != y->keylen)
        return x->keylen - y->keylen;
    int c = memcmp(x->key, y->key, (size_t)x->keylen);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* Builds every key and reports ids that appear twice in the file. */
static int s_keys_and_duplicates(s_import_t *im)
{
    s_row_t **idx = malloc((im->nrows ? im->nrows : 1) * sizeof *idx);
    if (!idx)
        return MINGA_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < im->nrows; i++) {
        if (im->rows[i].keylen > 0)
            idx[n++] = &im->rows[i];
    }
    qsort(idx, n, sizeof *idx, s_cmp_rowkey);
    const minga_field_t *idf = &im->type->fields[im->type->id_field];
    for (size_t i = 1; i < n; i++) {
        if (idx[i]->keylen == idx[i - 1]->keylen &&
            memcmp(idx[i]->key, idx[i - 1]->key, (size_t)idx[i]->keylen) == 0) {
            char id[120];
            s_key_text(im, idx[i], false, id, sizeof id);
            s_error(im, idx[i]->line, 0, idf->header, "duplicate id '%s' (also on line %ld)", id,
                    idx[i - 1]->line);
        }
    }
    free(idx);
    return 0;
}

/* ---- writing ---- */

typedef struct {
    s_import_t *im;
    char at[40];
    char who[160];
    size_t created, updated, unchanged;
    uint64_t seq;
} s_write_t;

static int s_put_change(MDB_txn *txn, s_write_t *w, const char *id, const char *field,
                        const char *old_value, const char *new_value, long line)
{
    char source[300];
    if (line > 0)
        snprintf(source, sizeof source, "%s:%ld", w->im->name, line);
    else
        snprintf(source, sizeof source, "%s", w->im->name);
    const char *pairs[][2] = {{"at", w->at},      {"who", w->who},   {"kind", w->im->type->kind},
                              {"id", id},         {"field", field},  {"old", old_value},
                              {"new", new_value}, {"source", source}};
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    size_t n = sizeof pairs / sizeof pairs[0];
    msgpack_pack_map(&pk, n + 1);
    msgpack_pack_str(&pk, 1);
    msgpack_pack_str_body(&pk, "v", 1);
    msgpack_pack_uint32(&pk, 1);
    for (size_t i = 0; i < n; i++) {
        for (int j = 0; j < 2; j++) {
            size_t len = strlen(pairs[i][j]);
            msgpack_pack_str(&pk, len);
            msgpack_pack_str_body(&pk, pairs[i][j], len);
        }
    }
    uint8_t key[8];
    minga_key_u64(key, ++w->seq);
    MDB_val k = {8, key}, v = {sb.size, sb.data};
    int rc = mdb_put(txn, minga_store_dbi(w->im->store, MINGA_DB_CHANGE), &k, &v, 0);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

/* Logs each field of old_rec that differs in new_rec. */
static int s_log_diff(MDB_txn *txn, s_write_t *w, const void *old_rec, const void *new_rec,
                      const s_row_t *row)
{
    const minga_rtype_t *t = w->im->type;
    char id[120];
    s_key_text(w->im, row, true, id, sizeof id);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < t->nfields; i++) {
        char *a = minga_field_format(&t->fields[i], old_rec);
        char *b = minga_field_format(&t->fields[i], new_rec);
        if (!a || !b)
            rc = MINGA_ENOMEM;
        else if (strcmp(a, b) != 0)
            rc = s_put_change(txn, w, id, t->fields[i].header, a, b, row->line);
        free(a);
        free(b);
    }
    return rc;
}

static int s_write_fn(MDB_txn *txn, void *arg)
{
    s_write_t *w = arg;
    s_import_t *im = w->im;
    MDB_dbi dbi = minga_store_dbi(im->store, im->type->db);
    w->created = w->updated = w->unchanged = 0;
    w->seq = 0;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, minga_store_dbi(im->store, MINGA_DB_CHANGE), &cur);
    if (rc)
        return rc;
    MDB_val k, v;
    if (mdb_cursor_get(cur, &k, &v, MDB_LAST) == 0 && k.mv_size == 8)
        w->seq = minga_key_get_u64(k.mv_data);
    mdb_cursor_close(cur);
    void *old = minga_record_new(im->type), *new = minga_record_new(im->type);
    if (!old || !new) {
        minga_record_free(im->type, old);
        minga_record_free(im->type, new);
        return MINGA_ENOMEM;
    }
    for (size_t i = 0; rc == 0 && i < im->nrows; i++) {
        s_row_t *r = &im->rows[i];
        const char *value = im->arena.data + r->voff;
        k = (MDB_val){(size_t)r->keylen, r->key};
        /* a new record takes one descent of the tree; an existing one comes back in v */
        v = (MDB_val){r->vlen, (void *)value};
        /* rows in key order past the last stored key (a first load) append: no search */
        rc = mdb_put(txn, dbi, &k, &v, MDB_APPEND);
        if (rc == MDB_KEYEXIST) {
            v = (MDB_val){r->vlen, (void *)value};
            rc = mdb_put(txn, dbi, &k, &v, MDB_NOOVERWRITE);
        }
        if (rc == 0) {
            w->created++;
            continue;
        }
        if (rc == MDB_KEYEXIST)
            rc = 0;
        if (rc == 0 && v.mv_size == r->vlen && memcmp(v.mv_data, value, r->vlen) == 0) {
            w->unchanged++;
            continue;
        }
        if (rc == 0) {
            char err[256];
            if (minga_record_decode(im->type, v.mv_data, v.mv_size, old, err, sizeof err) == 0 &&
                minga_record_decode(im->type, value, r->vlen, new, err, sizeof err) == 0)
                rc = s_log_diff(txn, w, old, new, r);
            else
                rc = s_put_change(txn, w, "?", "*", "(unreadable record)", "", r->line);
            if (rc)
                break;
            w->updated++;
        } else {
            break;
        }
        MDB_val nv = {r->vlen, (void *)value};
        rc = mdb_put(txn, dbi, &k, &nv, 0);
    }
    minga_record_free(im->type, old);
    minga_record_free(im->type, new);
    if (rc == 0 && (w->created || w->updated)) {
        char summary[128];
        snprintf(summary, sizeof summary, "%zu nuevos, %zu modificados, %zu sin cambios",
                 w->created, w->updated, w->unchanged);
        rc = s_put_change(txn, w, "*", "import", "", summary, 0);
    }
    return rc;
}

static void s_fill_who_at(s_write_t *w, const char *who)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    char off[8];
    strftime(off, sizeof off, "%z", &tm);
    char date[32];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(w->at, sizeof w->at, "%s%.3s:%.2s", date, off, off + 3);
    if (who) {
        snprintf(w->who, sizeof w->who, "%s", who);
        return;
    }
    const char *user = getenv("USER");
    struct passwd *pw = user ? NULL : getpwuid(getuid());
    char host[64] = "localhost";
    gethostname(host, sizeof host - 1);
    snprintf(w->who, sizeof w->who, "%s@%s", user ? user : pw ? pw->pw_name : "?", host);
}

/* ---- entry points ---- */

int minga_import_buffer(minga_store_t *store, const minga_rtype_t *t, const char *name,
                        const char *data, size_t len, const minga_import_opts_t *opts,
                        minga_import_report_t *report)
{
    memset(report, 0, sizeof *report);
    if (t->per_event && (!opts->event || !minga_id_valid(opts->event)))
        return MINGA_EINVAL;
    s_import_t im = {.store = store,
                     .type = t,
                     .name = name,
                     .opts = opts,
                     .report = report,
                     .max_errors = opts->max_errors ? opts->max_errors : 50};
    msgpack_sbuffer_init(&im.arena);
    /* the encoded rows take about as many bytes as their text: one allocation up front */
    if ((im.arena.data = malloc(len + 4096)) != NULL)
        im.arena.alloc = len + 4096;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        data += 3, len -= 3;
    size_t lead = 0;
    while (lead < len &&
           (data[lead] == ' ' || data[lead] == '\n' || data[lead] == '\r' || data[lead] == '\t'))
        lead++;
    int rc = s_refs_begin(&im);
    if (rc == 0)
        rc = (lead < len && (data[lead] == '[' || data[lead] == '{')) ? s_parse_json(&im, data, len)
                                                                      : s_parse_csv(&im, data, len);
    if (im.rtxn)
        mdb_txn_abort(im.rtxn); /* before writing: invariant 7 of store.h */
    if (rc == 0 && im.abort && !report->nerrors)
        rc = MINGA_ENOMEM;
    report->rows = im.nrows;
    if (rc == 0)
        rc = s_keys_and_duplicates(&im);
    if (rc == 0 && report->nerrors)
        rc = MINGA_EREJECTED;
    if (rc == 0 && !opts->dry_run) {
        s_write_t w = {.im = &im};
        s_fill_who_at(&w, opts->who);
        rc = minga_store_write(store, s_write_fn, &w);
        if (rc == 0) {
            report->created = w.created;
            report->updated = w.updated;
            report->unchanged = w.unchanged;
        }
    }
    free(im.rows);
    free(im.gads);
    msgpack_sbuffer_destroy(&im.arena);
    return rc;
}

int minga_import_file(minga_store_t *store, const minga_rtype_t *t, const char *path,
                      const minga_import_opts_t *opts, minga_import_report_t *report)
{
    memset(report, 0, sizeof *report);
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || (uint64_t)st.st_size > S_MAX_FILE) {
        fclose(f);
        return MINGA_ETOOBIG;
    }
    char *data = malloc((size_t)st.st_size + 1);
    size_t got = data ? fread(data, 1, (size_t)st.st_size, f) : 0;
    int err = ferror(f);
    fclose(f);
    if (!data || err || got != (size_t)st.st_size) {
        free(data);
        return data ? MINGA_EIO : MINGA_ENOMEM;
    }
    data[got] = '\0';
    const char *base = strrchr(path, '/');
    int rc = minga_import_buffer(store, t, base ? base + 1 : path, data, got, opts, report);
    free(data);
    return rc;
}
