/*
 * report_csv.c: the CSV reports of an event (report.h) — reuniones.csv, candidatos.csv,
 * agendas.csv and brecha.csv — for Excel in Spanish locales: UTF-8 BOM, ';' between fields,
 * Spanish headers, decimal commas, dates dd/mm/aaaa and times HH:MM. reuniones.csv and
 * candidatos.csv hold the rows of `minga export meetings|candidates`, in the same order.
 */
#include "minga/report_data.h"

#include "minga/codes.h"
#include "minga/error.h"
#include "minga/io.h"
#include "minga/match_store.h"
#include "minga/svg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_BOM "\xEF\xBB\xBF"

int minga_report_tmp_path(const char *path, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s.tmp-%ld-%ld", path, (long)getpid(), (long)gettid());
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int minga_report_file_open(const char *path, FILE **out)
{
    char tmp[4200];
    int rc = minga_report_tmp_path(path, tmp, sizeof tmp);
    if (rc)
        return rc;
    *out = fopen(tmp, "w");
    return *out ? 0 : -errno;
}

int minga_report_file_close(FILE *out, const char *path, int ok)
{
    char tmp[4200];
    minga_report_tmp_path(path, tmp, sizeof tmp);
    int rc = ok;
    if (fflush(out) != 0 || ferror(out))
        rc = rc ? rc : -(errno ? errno : EIO);
    if (fclose(out) != 0)
        rc = rc ? rc : -errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc)
        unlink(tmp);
    return rc;
}

/* Writes the fields, ';' between them, and a newline. A field that a spreadsheet would take
 * for a formula (it begins with =, +, -, @, a tab or a carriage return: a name or a title
 * typed that way) gets a leading apostrophe, which Excel and LibreOffice show as text. */
static void s_row(FILE *out, const char *const *fields, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *f = fields[i] ? fields[i] : "";
        if (i)
            fputc(';', out);
        if (*f && strchr("=+-@\t\r", *f)) {
            char *quoted = malloc(strlen(f) + 2);
            if (quoted) {
                quoted[0] = '\'';
                strcpy(quoted + 1, f);
                minga_csv_put_field(out, quoted);
                free(quoted);
                continue;
            }
        }
        minga_csv_put_field(out, f);
    }
    fputc('\n', out);
}

static char *s_score(int32_t score, char *buf, size_t cap)
{
    return minga_num_es(buf, cap, score / 100.0, 2, 0);
}

static char *s_uint(uint64_t v, char *buf, size_t cap)
{
    snprintf(buf, cap, "%" PRIu64, v);
    return buf;
}

static const char *s_province_name(const char *gad)
{
    char code[3] = {gad && gad[0] ? gad[0] : 0, gad && gad[0] ? gad[1] : 0, 0};
    const minga_province_t *p = minga_province_find(code);
    return p ? p->name : "";
}

static const char *s_label(minga_codelist_t list, const char *code)
{
    const minga_code_t *c = code ? minga_code_find(list, code) : NULL;
    return c ? c->label : code ? code : "";
}

int minga_report_write_meetings_csv(const minga_report_data_t *d, const char *path)
{
    FILE *out;
    int rc = minga_report_file_open(path, &out);
    if (rc)
        return rc;
    static const char *const head[] = {"Franja",     "Fecha",
                                       "Inicio",     "Fin",
                                       "Mesa",       "Código DPA",
                                       "GAD",        "Provincia",
                                       "Cooperante", "Nombre del cooperante",
                                       "Demanda",    "Proyecto de la demanda",
                                       "Oferta",     "Título de la oferta",
                                       "Puntaje",    "Estado",
                                       "Motivos"};
    fputs(S_BOM, out);
    s_row(out, head, sizeof head / sizeof head[0]);
    for (size_t i = 0; i < d->nmeetings; i++) {
        const minga_report_meeting_t *m = &d->meetings[i];
        const minga_demand_t *dm = minga_report_demand(d, m->demand);
        const minga_offer_t *of = minga_report_offer(d, m->offer);
        char slot[16], table[16], score[32], reasons[2048];
        const char *f[] = {s_uint(m->slot, slot, sizeof slot),
                           m->date,
                           m->hhmm,
                           m->end_hhmm,
                           s_uint(m->table, table, sizeof table),
                           m->gad,
                           minga_report_party_name(d, m->gad),
                           s_province_name(m->gad),
                           m->cooperante,
                           minga_report_party_name(d, m->cooperante),
                           m->demand,
                           dm ? dm->title : "",
                           m->offer,
                           of ? of->title : "",
                           s_score(m->score, score, sizeof score),
                           minga_report_status_es(m->status),
                           minga_report_reasons(m, " | ", reasons, sizeof reasons)};
        s_row(out, f, sizeof f / sizeof f[0]);
    }
    return minga_report_file_close(out, path, 0);
}

typedef struct {
    const minga_report_data_t *d;
    FILE *out;
} s_cand_t;

static int s_cand_row(const minga_match_candidate_t *c, void *arg)
{
    s_cand_t *x = arg;
    char rank[16], score[32], reasons[2048] = "";
    size_t o = 0;
    for (size_t i = 0; i < c->nreasons && o + 1 < sizeof reasons; i++) {
        char text[256];
        minga_match_reason_text(c->reasons[i], text, sizeof text);
        o += (size_t)snprintf(reasons + o, sizeof reasons - o, "%s%s", i ? " | " : "", text);
    }
    const char *f[] = {c->demand,
                       c->gad,
                       minga_report_party_name(x->d, c->gad),
                       c->offer,
                       c->cooperante,
                       minga_report_party_name(x->d, c->cooperante),
                       s_uint(c->rank, rank, sizeof rank),
                       s_score(c->score, score, sizeof score),
                       reasons};
    s_row(x->out, f, sizeof f / sizeof f[0]);
    return ferror(x->out) ? MINGA_EIO : 0;
}

int minga_report_write_candidates_csv(minga_store_t *store, const minga_report_data_t *d,
                                      const char *path)
{
    FILE *out;
    int rc = minga_report_file_open(path, &out);
    if (rc)
        return rc;
    static const char *const head[] = {"Demanda", "Código DPA", "GAD",
                                       "Oferta",  "Cooperante", "Nombre del cooperante",
                                       "Rango",   "Puntaje",    "Motivos"};
    fputs(S_BOM, out);
    s_row(out, head, sizeof head / sizeof head[0]);
    s_cand_t x = {d, out};
    rc = minga_match_candidates_each(store, d->event_id, s_cand_row, &x);
    return minga_report_file_close(out, path, rc);
}

/* One row of agendas.csv: participant pt's meeting m (standing or cancelled). */
static void s_agenda_row(FILE *out, const minga_report_data_t *d, const minga_participant_t *pt,
                         const char *kind, const char *name, const minga_report_meeting_t *m)
{
    bool gad = strcmp(m->gad, pt->party) == 0;
    const char *other = gad ? m->cooperante : m->gad;
    char slot[16], table[16], score[32], reasons[2048];
    const char *f[] = {pt->party,
                       kind,
                       name,
                       s_uint(m->slot, slot, sizeof slot),
                       m->date,
                       m->hhmm,
                       m->end_hhmm,
                       s_uint(m->table, table, sizeof table),
                       other,
                       minga_report_party_name(d, other),
                       m->demand,
                       m->offer,
                       s_score(m->score, score, sizeof score),
                       minga_report_status_es(m->status),
                       minga_report_reasons(m, " | ", reasons, sizeof reasons)};
    s_row(out, f, sizeof f / sizeof f[0]);
}

int minga_report_write_agendas_csv(const minga_report_data_t *d, const char *path)
{
    FILE *out;
    int rc = minga_report_file_open(path, &out);
    if (rc)
        return rc;
    static const char *const head[] = {
        "Participante", "Tipo",   "Nombre",  "Franja",      "Fecha",
        "Inicio",       "Fin",    "Mesa",    "Contraparte", "Nombre de la contraparte",
        "Demanda",      "Oferta", "Puntaje", "Estado",      "Motivos"};
    fputs(S_BOM, out);
    s_row(out, head, sizeof head / sizeof head[0]);
    for (size_t p = 0; p < d->nparts; p++) {
        const minga_participant_t *pt = d->parts[p];
        const char *kind = pt->kind && strcmp(pt->kind, "gad") == 0 ? "GAD" : "Cooperante";
        const char *name = minga_report_party_name(d, pt->party);
        const size_t *ix;
        size_t n = minga_report_party_meetings(d, pt->party, &ix);
        if (n == 0) {
            const char *f[] = {pt->party, kind, name, "", "", "", "",
                               "",        "",   "",   "", "", "", "sin reuniones asignadas",
                               ""};
            s_row(out, f, sizeof f / sizeof f[0]);
        }
        for (size_t k = 0; k < n; k++)
            s_agenda_row(out, d, pt, kind, name, &d->meetings[ix[k]]);
        for (size_t k = 0; k < d->ncancelled; k++)
            if (strcmp(d->cancelled[k].gad, pt->party) == 0 ||
                strcmp(d->cancelled[k].cooperante, pt->party) == 0)
                s_agenda_row(out, d, pt, kind, name, &d->cancelled[k]);
    }
    return minga_report_file_close(out, path, 0);
}

int minga_report_write_gap_csv(const minga_report_data_t *d, const minga_report_figures_t *f,
                               const char *path)
{
    FILE *out;
    int rc = minga_report_file_open(path, &out);
    if (rc)
        return rc;
    static const char *const head[] = {"Competencia COOTAD",
                                       "Descripción de la competencia",
                                       "Provincia",
                                       "Código DPA",
                                       "Cantón",
                                       "Demanda",
                                       "Proyecto",
                                       "Sectores CAD",
                                       "Modalidad solicitada",
                                       "Monto requerido (USD)",
                                       "Cofinanciamiento (USD)",
                                       "Prioridad"};
    fputs(S_BOM, out);
    s_row(out, head, sizeof head / sizeof head[0]);
    for (size_t k = 0; k < f->gap.uncovered; k++) {
        const minga_demand_t *dm = d->demands[f->gap.list[k]];
        char amount[32], cofin[32], prio[16], dac[512] = "";
        size_t o = 0;
        for (size_t i = 0; i < dm->dac.n && o + 1 < sizeof dac; i++)
            o += (size_t)snprintf(dac + o, sizeof dac - o, "%s%s %s", i ? " | " : "", dm->dac.v[i],
                                  s_label(MINGA_CL_DAC, dm->dac.v[i]));
        const char *row[] = {dm->competency,
                             s_label(MINGA_CL_COMPETENCY, dm->competency),
                             s_province_name(dm->gad),
                             dm->gad,
                             minga_report_party_name(d, dm->gad),
                             dm->id,
                             dm->title,
                             dac,
                             s_label(MINGA_CL_MODALITY, dm->modality),
                             s_uint(dm->amount, amount, sizeof amount),
                             s_uint(dm->cofinancing, cofin, sizeof cofin),
                             s_uint(dm->priority, prio, sizeof prio)};
        s_row(out, row, sizeof row / sizeof row[0]);
    }
    return minga_report_file_close(out, path, 0);
}
