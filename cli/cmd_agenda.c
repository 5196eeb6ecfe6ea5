/*
 * cmd_agenda.c: `minga agenda --event E --party ID` — a participant's agenda in Spanish, for
 * a person: each meeting with its day, time, table, counterpart, the demand and offer that
 * justify it and why they match; then its cancelled meetings. `--json` gives the same data
 * for tools. Built on the agenda model (agenda.h) that the e-mails and PDFs use too.
 */
#include "cli.h"

#include "minga/agenda.h"
#include "minga/error.h"
#include "minga/match_store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "jueves 12 de noviembre de 2026" for "2026-11-12". */
static void s_long_date(const char *iso, char *out, size_t cap)
{
    static const char *const months[] = {"enero",      "febrero", "marzo",     "abril",
                                         "mayo",       "junio",   "julio",     "agosto",
                                         "septiembre", "octubre", "noviembre", "diciembre"};
    static const char *const days[] = {"domingo", "lunes",   "martes", "miércoles",
                                       "jueves",  "viernes", "sábado"};
    int y = atoi(iso), m = atoi(iso + 5), d = atoi(iso + 8);
    if (m < 1 || m > 12) {
        snprintf(out, cap, "%s", iso);
        return;
    }
    static const int t[] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4}; /* Sakamoto's weekday */
    int yy = m < 3 ? y - 1 : y;
    int wd = (yy + yy / 4 - yy / 100 + yy / 400 + t[m - 1] + d) % 7;
    snprintf(out, cap, "%s %d de %s de %d", days[wd], d, months[m - 1], y);
}

static void s_score(int32_t score, char *buf, size_t cap)
{
    minga_match_score_text(score, buf, cap);
    char *dot = strchr(buf, '.');
    if (dot)
        *dot = ',';
}

static void s_print_item(const minga_agenda_item_t *it, bool cancelled)
{
    char score[32];
    s_score(it->score, score, sizeof score);
    bool with_gad = strcmp(it->counterpart_kind, "gad") == 0;
    printf("  %s–%s  mesa %-4u %s%s (%s %s%s%s)%s\n", it->time.start_hm, it->time.end_hm, it->table,
           with_gad ? "GAD de " : "", it->counterpart_name, with_gad ? "código" : "cooperante",
           it->counterpart, it->counterpart_detail ? ", " : "",
           it->counterpart_detail ? it->counterpart_detail : "",
           cancelled ? "  [CANCELADA]"
           : it->status == MINGA_MEETING_SCHEDULED
               ? ""
               : (it->status == MINGA_MEETING_HELD ? "  [realizada]" : "  [no asistió]"));
    printf("               Demanda %s: «%s»\n", it->demand, it->demand_title);
    printf("               Oferta %s: «%s»\n", it->offer, it->offer_title);
    printf("               Por qué se reúnen (afinidad %s de 100):\n", score);
    for (size_t r = 0; r < it->nreasons; r++)
        printf("                 – %s\n", it->reasons[r]);
}

static void s_print(const minga_agenda_t *a)
{
    bool gad = strcmp(a->kind, "gad") == 0;
    printf("Agenda de %s%s (%s %s%s%s)\n", gad ? "GAD municipal de " : "", a->name,
           gad ? "código" : "cooperante", a->party, gad ? ", provincia de " : "",
           gad ? a->province_name : "");
    printf("%s%s%s\n", a->event.name, a->event.venue ? ", " : "",
           a->event.venue ? a->event.venue : "");
    if (a->email)
        printf("Correo: %s\n", a->email);
    if (a->n == 0) {
        printf("\n%s no tiene reuniones programadas en este evento.\n", a->name);
    } else {
        printf("%zu %s", a->n, a->n == 1 ? "reunión" : "reuniones");
        if (a->tables > 1)
            printf(" con %u representantes (una mesa cada uno)", a->tables);
        printf(":\n");
        const char *day = "";
        for (size_t i = 0; i < a->n; i++) {
            if (strcmp(day, a->items[i].time.date) != 0) {
                char date[96];
                s_long_date(a->items[i].time.date, date, sizeof date);
                printf("\n%s\n", date);
                day = a->items[i].time.date;
            }
            s_print_item(&a->items[i], false);
        }
    }
    if (a->ncancelled) {
        printf("\nReuniones canceladas:\n");
        for (size_t i = 0; i < a->ncancelled; i++) {
            char date[96];
            s_long_date(a->cancelled[i].time.date, date, sizeof date);
            printf("  %s\n", date);
            s_print_item(&a->cancelled[i], true);
        }
    }
}

static json_t *s_item_json(const minga_agenda_item_t *it)
{
    json_t *reasons = json_array();
    for (size_t r = 0; r < it->nreasons; r++)
        json_array_append_new(reasons, json_string(it->reasons[r]));
    char score[32];
    minga_match_score_text(it->score, score, sizeof score);
    return json_pack("{s:i, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:o}",
                     "slot", (int)it->slot, "table", (int)it->table, "start", it->time.start, "end",
                     it->time.end, "status", minga_meeting_status_name(it->status), "counterpart",
                     it->counterpart, "counterpart_kind", it->counterpart_kind, "counterpart_name",
                     it->counterpart_name, "demand_id", it->demand, "demand_title",
                     it->demand_title, "offer_id", it->offer, "offer_title", it->offer_title,
                     "date", it->time.date, "score", atof(score), "reasons", reasons);
}

static int s_print_json(const minga_agenda_t *a)
{
    json_t *items = json_array(), *cancelled = json_array();
    for (size_t i = 0; i < a->n; i++)
        json_array_append_new(items, s_item_json(&a->items[i]));
    for (size_t i = 0; i < a->ncancelled; i++)
        json_array_append_new(cancelled, s_item_json(&a->cancelled[i]));
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s, s:s?, s:I, s:o, s:o}", "event", a->event.id, "party",
                  a->party, "kind", a->kind, "name", a->name, "email", a->email, "revision",
                  (json_int_t)a->revision, "meetings", items, "cancelled", cancelled);
    char *text = o ? json_dumps(o, JSON_PRESERVE_ORDER | JSON_INDENT(2)) : NULL;
    if (text)
        printf("%s\n", text);
    free(text);
    json_decref(o);
    return text ? 0 : MINGA_ENOMEM;
}

static int s_agenda(minga_cli_t *cli, int argc, char **argv)
{
    const char *event = NULL, *party = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        int r;
        if ((r = minga_cli_opt("agenda", argc, argv, &i, "--event", &event)) ||
            (r = minga_cli_opt("agenda", argc, argv, &i, "--party", &party))) {
            if (r < 0)
                return MINGA_EXIT_USAGE;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else {
            return minga_cli_usage("agenda", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!event || !party)
        return minga_cli_usage("agenda", "give --event E and --party ID");
    minga_store_t *store;
    if (minga_cli_open_store(cli, MINGA_STORE_RDONLY, &store))
        return MINGA_EXIT_FAIL;
    minga_agenda_t a;
    int rc = minga_agenda_load(store, event, party, &a);
    minga_store_destroy(&store);
    if (rc == MINGA_EINVAL)
        return minga_cli_usage("agenda", "'%s' or '%s' is not a valid id", event, party);
    if (rc == MINGA_ENOTFOUND) {
        fprintf(stderr, "minga agenda: event %s does not exist, or %s is not one of its parties\n",
                event, party);
        return MINGA_EXIT_FAIL;
    }
    if (rc) {
        fprintf(stderr, "minga agenda: event %s, party %s: %s\n", event, party, minga_strerror(rc));
        return MINGA_EXIT_FAIL;
    }
    if (json)
        rc = s_print_json(&a);
    else
        s_print(&a);
    minga_agenda_free(&a);
    return rc ? MINGA_EXIT_FAIL : MINGA_EXIT_OK;
}

MINGA_COMMAND(agenda, "agenda", 63, s_agenda, "muestra la agenda de un participante",
              "Uso: minga agenda --event E --party ID [--json]\n\n"
              "Muestra la agenda del participante ID (el código DPA de un GAD o el id de un\n"
              "cooperante) en el evento E: cada reunión con su día, hora, mesa, contraparte,\n"
              "la demanda y la oferta que la justifican y por qué se reúnen; después, las\n"
              "reuniones canceladas. Un participante sin reuniones lo dice. Con --json, los\n"
              "mismos datos en JSON.\n\n"
              "Estado de salida: 0 mostrada; 1 el evento no existe o ID no participa; 2 error\n"
              "de uso.\n")
