/*
 * cmd_outbox.c: `minga outbox --event E [--state S] [--party ID] [--json]`, the agenda e-mails
 * of an event as the outbox records them: one line per (party, version) with its state,
 * attempts, recipient and Message-ID; --json prints one object per line (party, version,
 * state, attempts, message_id and the rest, DESIGN.md §8).
 */
#include "cli.h"

#include "minga/client.h"
#include "minga/error.h"
#include "minga/jobview.h"
#include "minga/outbox.h"
#include "minga/record.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *event, *party;
    int state; /* -1: all */
    bool json;
    size_t shown;
    size_t count[3];
    int werr;
} s_outbox_t;

static json_t *s_str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static int s_row(const minga_outbox_t *r, void *arg)
{
    s_outbox_t *o = arg;
    if (o->party && strcmp(o->party, r->party) != 0)
        return 0;
    if (o->state >= 0 && (int)r->state != o->state)
        return 0;
    o->shown++;
    if ((unsigned)r->state < 3)
        o->count[r->state]++;
    if (o->json) {
        json_t *j = json_object();
        json_object_set_new(j, "event", json_string(r->event));
        json_object_set_new(j, "party", json_string(r->party));
        json_object_set_new(j, "kind", json_string(minga_outbox_kind_name(r->kind)));
        json_object_set_new(j, "version", json_integer(r->version));
        json_object_set_new(j, "state", json_string(minga_outbox_state_name(r->state)));
        json_object_set_new(j, "attempts", json_integer(r->attempts));
        json_object_set_new(j, "message_id", s_str_or_null(r->message_id));
        json_object_set_new(j, "to", s_str_or_null(r->to));
        json_object_set_new(j, "reply", s_str_or_null(r->reply));
        json_object_set_new(j, "error", s_str_or_null(r->error));
        json_object_set_new(j, "created_at", json_integer((json_int_t)r->created_at));
        json_object_set_new(j, "updated_at", json_integer((json_int_t)r->updated_at));
        json_object_set_new(j, "sent_at",
                            r->sent_at ? json_integer((json_int_t)r->sent_at) : json_null());
        int rc = minga_jobview_json_line(stdout, j);
        json_decref(j);
        return rc;
    }
    const char *state = r->state == MINGA_OUTBOX_SENT     ? "enviado"
                        : r->state == MINGA_OUTBOX_FAILED ? "fallido"
                                                          : "pendiente";
    printf("%-12s v%-3u %-9s %8u  %-34s %s%s%s\n", r->party, r->version, state, r->attempts,
           r->to ? r->to : "-", r->message_id ? r->message_id : "-",
           r->error && r->state != MINGA_OUTBOX_SENT ? "  — " : "",
           r->error && r->state != MINGA_OUTBOX_SENT ? r->error : "");
    return 0;
}

static int s_outbox(minga_cli_t *cli, int argc, char **argv)
{
    s_outbox_t o = {NULL, NULL, -1, false, 0, {0, 0, 0}, 0};
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (strcmp(argv[i], "--json") == 0) {
            o.json = true;
        } else if ((r = minga_cli_opt("outbox", argc, argv, &i, "--event", &v)) != 0) {
            if (r < 0)
                return MINGA_EXIT_USAGE;
            o.event = v;
        } else if ((r = minga_cli_opt("outbox", argc, argv, &i, "--party", &v)) != 0) {
            if (r < 0)
                return MINGA_EXIT_USAGE;
            o.party = v;
        } else if ((r = minga_cli_opt("outbox", argc, argv, &i, "--state", &v)) != 0) {
            if (r < 0)
                return MINGA_EXIT_USAGE;
            if ((o.state = minga_outbox_state_parse(v)) < 0)
                return minga_cli_usage("outbox", "--state takes pending, sent or failed, not '%s'",
                                       v);
        } else {
            return minga_cli_usage("outbox", "unexpected '%s'", argv[i]);
        }
    }
    if (!o.event)
        return minga_cli_usage("outbox", "which event? (minga outbox --event EVENT)");
    if (!minga_id_valid(o.event))
        return minga_cli_usage("outbox", "'%s' is not an event id", o.event);
    minga_store_t *store;
    if (minga_cli_open_store(cli, MINGA_STORE_RDONLY, &store))
        return MINGA_EXIT_FAIL;
    if (!o.json)
        printf("%-12s %-4s %-9s %8s  %-34s %s\n", "participante", "ver.", "estado", "intentos",
               "destinatario", "Message-ID");
    int rc = minga_outbox_each(store, o.event, s_row, &o);
    minga_store_destroy(&store);
    if (rc) {
        fprintf(stderr, "minga outbox: %s: %s\n", o.event, minga_strerror(rc));
        return MINGA_EXIT_FAIL;
    }
    if (!o.json)
        fprintf(stderr, "%zu mensajes: %zu enviados, %zu pendientes, %zu fallidos\n", o.shown,
                o.count[MINGA_OUTBOX_SENT], o.count[MINGA_OUTBOX_PENDING],
                o.count[MINGA_OUTBOX_FAILED]);
    return MINGA_EXIT_OK;
}

MINGA_COMMAND(outbox, "outbox", 71, s_outbox, "muestra los correos de agenda de un evento",
              "Uso: minga outbox --event EVENTO [--state pending|sent|failed] [--party ID]\n"
              "                    [--json]\n"
              "\n"
              "Lista los correos de agenda del EVENTO tal como los registra la bandeja de\n"
              "salida: una línea por participante y versión, con su estado (pendiente, enviado,\n"
              "fallido), los intentos, el destinatario y el Message-ID; para los fallidos, el\n"
              "motivo. --state y --party filtran. Con --json escribe un objeto por línea con\n"
              "los campos event, party, kind, version, state (pending, sent, failed), attempts,\n"
              "message_id, to, reply (la respuesta del servidor), error, created_at,\n"
              "updated_at y sent_at (ms desde 1970).\n"
              "\n"
              "Estado de salida: 0 listado; 1 el almacén no se pudo leer; 2 error de uso.\n")
