/*
 * cmd_demo.c: `minga demo` — creates a store, loads the embedded Jornada data set into it
 * through the ordinary importer, prints a summary in Spanish (counts by province,
 * cooperation kind, competency and modality), then runs the rueda through a local broker
 * (`minga rueda run`: candidates, then the timetable) and ends with the schedule summary.
 */
#include "cli.h"

#include "minga/demo.h"
#include "minga/error.h"
#include "minga/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

/* A tally of codes: counts per entry of a code list. */
typedef struct {
    minga_codelist_t list;
    size_t n;
    const minga_code_t *codes;
    size_t *counts;
} s_tally_t;

static int s_tally_init(s_tally_t *t, minga_codelist_t list)
{
    t->list = list;
    t->codes = minga_codes(list, &t->n);
    t->counts = calloc(t->n ? t->n : 1, sizeof *t->counts);
    return t->counts ? 0 : MINGA_ENOMEM;
}

static void s_tally_add(s_tally_t *t, const char *code)
{
    for (size_t i = 0; code && i < t->n; i++)
        if (strcmp(t->codes[i].code, code) == 0) {
            t->counts[i]++;
            return;
        }
}

/* Characters (not bytes) of a UTF-8 string. */
static int s_chars(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* Prints the entries with a count, largest first, labels padded by characters. */
static void s_tally_print(const s_tally_t *t, const char *title, size_t total)
{
    printf("\n%s\n", title);
    size_t *order = malloc(t->n * sizeof *order);
    if (!order)
        return;
    for (size_t i = 0; i < t->n; i++)
        order[i] = i;
    for (size_t i = 1; i < t->n; i++) /* insertion sort, stable: ties stay in code order */
        for (size_t j = i; j > 0 && t->counts[order[j]] > t->counts[order[j - 1]]; j--) {
            size_t x = order[j];
            order[j] = order[j - 1];
            order[j - 1] = x;
        }
    char labels[128][96];
    int width = 0;
    for (size_t i = 0; i < t->n && i < 128; i++) {
        const char *l = t->codes[i].label;
        if (t->list == MINGA_CL_COMPETENCY) { /* "d) Prestar los servicios públicos de agua…" */
            int cut = strlen(l) > 44 ? 44 : (int)strlen(l);
            while (cut > 0 && ((unsigned char)l[cut] & 0xC0) == 0x80)
                cut--; /* never in the middle of a UTF-8 character */
            snprintf(labels[i], sizeof labels[i], "%s) %.*s%s", t->codes[i].code, cut, l,
                     l[cut] ? "…" : "");
        } else
            snprintf(labels[i], sizeof labels[i], "%s", l);
        if (t->counts[i] && s_chars(labels[i]) > width)
            width = s_chars(labels[i]);
    }
    for (size_t k = 0; k < t->n && k < 128; k++) {
        size_t i = order[k];
        if (!t->counts[i])
            continue;
        char pct[16]; /* Spanish decimal comma */
        snprintf(pct, sizeof pct, "%5.1f",
                 total ? 100.0 * (double)t->counts[i] / (double)total : 0.0);
        char *dot = strchr(pct, '.');
        if (dot)
            *dot = ',';
        printf("  %s%*s %6zu  %s %%\n", labels[i], width - s_chars(labels[i]), "", t->counts[i],
               pct);
    }
    free(order);
}

typedef struct {
    s_tally_t provinces, kinds, competencies, modalities;
    size_t gads, cooperantes, offers, demands, participants_gad, participants_coop;
    minga_event_t event;
    bool have_event;
} s_summary_t;

/* Calls fn for every stored record of type t (decoded). */
static int s_each(minga_store_t *store, const minga_rtype_t *t,
                  void (*fn)(s_summary_t *, const void *), s_summary_t *sum)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    int rc = minga_store_read_begin(store, &txn);
    if (rc)
        return rc;
    if ((rc = mdb_cursor_open(txn, minga_store_dbi(store, t->db), &cur)) != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    void *rec = minga_record_new(t);
    MDB_val k, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && rec;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        char err[256];
        if ((rc = minga_record_decode(t, v.mv_data, v.mv_size, rec, err, sizeof err)) != 0) {
            fprintf(stderr, "minga demo: store %s: %s\n", minga_store_path(store), err);
            break;
        }
        fn(sum, rec);
    }
    minga_record_free(t, rec);
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static void s_on_gad(s_summary_t *s, const void *rec)
{
    (void)rec;
    s->gads++;
}

static void s_on_coop(s_summary_t *s, const void *rec)
{
    s->cooperantes++;
    s_tally_add(&s->kinds, ((const minga_cooperante_t *)rec)->kind);
}

static void s_on_offer(s_summary_t *s, const void *rec)
{
    s->offers++;
    s_tally_add(&s->modalities, ((const minga_offer_t *)rec)->modality);
}

static void s_on_demand(s_summary_t *s, const void *rec)
{
    const minga_demand_t *d = rec;
    s->demands++;
    char prov[3] = {d->gad[0], d->gad[1], 0};
    s_tally_add(&s->provinces, prov);
    s_tally_add(&s->competencies, d->competency);
}

static void s_on_event(s_summary_t *s, const void *rec)
{
    if (s->have_event)
        return;
    const minga_event_t *e = rec;
    s->have_event = true;
    s->event = (minga_event_t){.id = strdup(e->id),
                               .name = strdup(e->name),
                               .venue = e->venue ? strdup(e->venue) : NULL,
                               .date_start = strdup(e->date_start),
                               .date_end = strdup(e->date_end),
                               .day_start = strdup(e->day_start),
                               .day_end = strdup(e->day_end),
                               .slot_minutes = e->slot_minutes,
                               .tables = e->tables};
}

static void s_on_participant(s_summary_t *s, const void *rec)
{
    const minga_participant_t *p = rec;
    if (strcmp(p->kind, "gad") == 0)
        s->participants_gad++;
    else
        s->participants_coop++;
}

/* "2026-11-12" as "12 de noviembre de 2026". */
static void s_fecha(const char *iso, char *out, size_t cap)
{
    static const char *meses[] = {"enero",      "febrero", "marzo",     "abril",
                                  "mayo",       "junio",   "julio",     "agosto",
                                  "septiembre", "octubre", "noviembre", "diciembre"};
    int y = atoi(iso), m = atoi(iso + 5), d = atoi(iso + 8);
    snprintf(out, cap, "%d de %s de %d", d, (m >= 1 && m <= 12) ? meses[m - 1] : "?", y);
}

static int s_print_summary(minga_store_t *store)
{
    s_summary_t s = {0};
    int rc = s_tally_init(&s.provinces, MINGA_CL_PROVINCE);
    rc = rc ? rc : s_tally_init(&s.kinds, MINGA_CL_KIND);
    rc = rc ? rc : s_tally_init(&s.competencies, MINGA_CL_COMPETENCY);
    rc = rc ? rc : s_tally_init(&s.modalities, MINGA_CL_MODALITY);
    rc = rc ? rc : s_each(store, &minga_rtype_gad, s_on_gad, &s);
    rc = rc ? rc : s_each(store, &minga_rtype_cooperante, s_on_coop, &s);
    rc = rc ? rc : s_each(store, &minga_rtype_offer, s_on_offer, &s);
    rc = rc ? rc : s_each(store, &minga_rtype_demand, s_on_demand, &s);
    rc = rc ? rc : s_each(store, &minga_rtype_event, s_on_event, &s);
    rc = rc ? rc : s_each(store, &minga_rtype_participant, s_on_participant, &s);
    if (rc == 0) {
        printf("\nResumen del registro en %s\n", minga_store_realpath(store));
        printf("  GAD municipales:  %zu\n  Cooperantes:      %zu\n  Ofertas:          %zu\n"
               "  Demandas:         %zu\n",
               s.gads, s.cooperantes, s.offers, s.demands);
        if (s.have_event) {
            char a[64], b[64];
            s_fecha(s.event.date_start, a, sizeof a);
            s_fecha(s.event.date_end, b, sizeof b);
            printf("\nEvento %s: %s\n  del %s al %s%s%s\n  de %s a %s, turnos de %llu minutos, "
                   "%llu mesas; participan %zu GAD y %zu cooperantes\n",
                   s.event.id, s.event.name, a, b, s.event.venue ? ", en " : "",
                   s.event.venue ? s.event.venue : "", s.event.day_start, s.event.day_end,
                   (unsigned long long)s.event.slot_minutes, (unsigned long long)s.event.tables,
                   s.participants_gad, s.participants_coop);
        }
        s_tally_print(&s.provinces, "Demandas por provincia:", s.demands);
        s_tally_print(&s.kinds, "Cooperantes por tipo de cooperación:", s.cooperantes);
        s_tally_print(&s.competencies, "Demandas por competencia (COOTAD, art. 55):", s.demands);
        s_tally_print(&s.modalities, "Ofertas por modalidad:", s.offers);
    }
    free(s.provinces.counts);
    free(s.kinds.counts);
    free(s.competencies.counts);
    free(s.modalities.counts);
    free(s.event.id);
    free(s.event.name);
    free(s.event.venue);
    free(s.event.date_start);
    free(s.event.date_end);
    free(s.event.day_start);
    free(s.event.day_end);
    return rc;
}

/* Loads DIR/KIND.csv of the seven kinds, in order, into the store. */
static int s_load(minga_store_t *store, const char *dir)
{
    size_t n;
    const minga_rtype_t *const *all = minga_rtypes(&n);
    for (size_t i = 0; i < n; i++) {
        char path[4096 + 64];
        snprintf(path, sizeof path, "%s/%s.csv", dir, all[i]->kind);
        minga_import_opts_t opts = {.event = all[i]->per_event ? MINGA_DEMO_EVENT : NULL};
        minga_import_report_t rep;
        int rc = minga_import_file(store, all[i], path, &opts, &rep);
        if (rc == MINGA_EREJECTED) {
            for (size_t e = 0; e < rep.nerrors && e < 20; e++)
                fprintf(stderr, "%s:%ld: field '%s': %s\n", rep.errors[e].file, rep.errors[e].line,
                        rep.errors[e].field, rep.errors[e].message);
        }
        if (rc) {
            fprintf(stderr, "minga demo: %s: %s\n", path, minga_strerror(rc));
            minga_import_report_clear(&rep);
            return rc;
        }
        printf("  %-18s %7zu registros (%zu nuevos, %zu modificados, %zu sin cambios)\n",
               all[i]->kind, rep.rows, rep.created, rep.updated, rep.unchanged);
        minga_import_report_clear(&rep);
    }
    return 0;
}

/* Runs the command argv with its standard output discarded (its errors still show). */
static int s_run_quiet(minga_cli_t *cli, int argc, char **argv)
{
    fflush(stdout);
    int saved = dup(1), null = open("/dev/null", O_WRONLY);
    if (saved >= 0 && null >= 0)
        dup2(null, 1);
    int rc = minga_cli_run(cli, argc, argv);
    fflush(stdout);
    if (saved >= 0 && null >= 0)
        dup2(saved, 1);
    if (saved >= 0)
        close(saved);
    if (null >= 0)
        close(null);
    return rc;
}

/* Runs the rueda's steps on the loaded event through a local broker and workers (`minga up`,
 * `minga rueda run`: candidates, then the timetable), then stops them unless keep. Each step
 * is the operator's own command; the output ends with the schedule summary. */
static int s_rueda(minga_cli_t *cli, const char *store, bool keep)
{
    if (!minga_cli_has("up") || !minga_cli_has("rueda"))
        return MINGA_EXIT_OK;
    const char *m = cli->argv0;
    printf("\nLos resultados quedarán en el almacén %s:\n"
           "  candidatos:  %s --store %s export candidates --event %s --out candidatos.csv\n"
           "               %s --store %s candidates --event %s --gad 0101\n"
           "  reuniones:   %s --store %s export meetings --event %s --out reuniones.csv\n"
           "  agendas:     %s --store %s agenda --event %s --party 0101\n"
           "  registros:   %s/demo-data/*.csv\n",
           store, m, store, MINGA_DEMO_EVENT, m, store, MINGA_DEMO_EVENT, m, store,
           MINGA_DEMO_EVENT, m, store, MINGA_DEMO_EVENT, store);
    if (keep)
        printf("  el broker y los trabajadores seguirán en marcha: %s --store %s down\n", m, store);
    printf("\nRueda de negocios del evento %s, con un broker y trabajadores locales:\n",
           MINGA_DEMO_EVENT);
    fflush(stdout);
    char *up[] = {"up", "--match-workers", "2", NULL};
    char *run[] = {"rueda", "run", MINGA_DEMO_EVENT, NULL};
    char *down[] = {"down", NULL};
    int rc = minga_cli_run(cli, 3, up);
    if (rc == MINGA_EXIT_OK)
        rc = minga_cli_run(cli, 3, run);
    fflush(stdout);
    if (!keep)
        s_run_quiet(cli, 1, down);
    if (rc != MINGA_EXIT_OK) {
        fprintf(stderr, "minga demo: the rueda did not finish; the logs are in %s/log/\n", store);
        return MINGA_EXIT_FAIL;
    }
    return MINGA_EXIT_OK;
}

static int s_demo(minga_cli_t *cli, int argc, char **argv)
{
    const char *seed_s = NULL, *scale_s = NULL;
    bool keep = false;
    for (int i = 1; i < argc; i++) {
        int r;
        if (strcmp(argv[i], "--keep-running") == 0) {
            keep = true;
            continue;
        }
        if ((r = minga_cli_opt("demo", argc, argv, &i, "--seed", &seed_s)) ||
            (r = minga_cli_opt("demo", argc, argv, &i, "--scale", &scale_s))) {
            if (r < 0)
                return MINGA_EXIT_USAGE;
        } else {
            return minga_cli_usage("demo", "unexpected argument '%s'", argv[i]);
        }
    }
    uint64_t seed = MINGA_DEMO_SEED;
    double scale = 1.0;
    char *end;
    if (seed_s && (seed = strtoull(seed_s, &end, 10), *end || !*seed_s))
        return minga_cli_usage("demo", "--seed takes a whole number, not '%s'", seed_s);
    if (scale_s && (scale = strtod(scale_s, &end),
                    *end || !(scale >= MINGA_DEMO_SCALE_MIN) || scale > MINGA_DEMO_SCALE_MAX))
        return minga_cli_usage("demo", "--scale takes a number from %g to %g, not '%s'",
                               MINGA_DEMO_SCALE_MIN, MINGA_DEMO_SCALE_MAX, scale_s);
    minga_store_t *store;
    if (minga_cli_open_store(cli, MINGA_STORE_CREATE, &store))
        return MINGA_EXIT_FAIL;
    char dir[4096], err[512];
    snprintf(dir, sizeof dir, "%s/demo-data", minga_store_realpath(store));
    printf("Jornada de Cooperación Internacional: datos de demostración (semilla %llu, escala "
           "%g)\n",
           (unsigned long long)seed, scale);
    int rc = minga_demo_write(dir, seed, scale, NULL, err, sizeof err);
    if (rc) {
        fprintf(stderr, "minga demo: %s\n", err);
        minga_store_destroy(&store);
        return MINGA_EXIT_FAIL;
    }
    printf("Archivos CSV en %s; carga en el almacén:\n", dir);
    rc = s_load(store, dir);
    if (rc == 0)
        rc = s_print_summary(store);
    char real[4096];
    snprintf(real, sizeof real, "%s", minga_store_realpath(store));
    minga_store_destroy(&store);
    if (rc)
        return MINGA_EXIT_FAIL;
    return s_rueda(cli, real, keep);
}

MINGA_COMMAND(demo, "demo", 1, s_demo, "carga los datos de la Jornada de demostración y los resume",
              "Uso: minga [--store DIR] demo [--seed N] [--scale S]\n\n"
              "Crea el almacén si no existe, escribe el conjunto de datos de la Jornada de\n"
              "Cooperación Internacional (los 221 GAD municipales reales y un SIOC sintético:\n"
              "unos 500 cooperantes, 1500 ofertas y 1100 demandas) en DIR/demo-data/, lo importa\n"
              "con las mismas validaciones que «minga import» e imprime un resumen: demandas por\n"
              "provincia y por competencia, cooperantes por tipo y ofertas por modalidad.\n"
              "Volver a ejecutarlo no duplica nada: los registros iguales quedan sin cambios.\n\n"
              "Después ejecuta la rueda del evento jornada-2026 como lo haría un operador:\n"
              "arranca un broker y dos trabajadores de emparejamiento («minga up»), calcula los\n"
              "candidatos y arma el cronograma de reuniones en un solo lote («minga rueda\n"
              "run»), los detiene («minga down»), muestra el resumen del cronograma y dice\n"
              "dónde están los resultados.\n\n"
              "  --seed N         semilla del generador (2026 por omisión)\n"
              "  --scale S        multiplica cooperantes, ofertas y demandas (1 por omisión)\n"
              "  --keep-running   deja el broker y los trabajadores en marcha al terminar\n")
