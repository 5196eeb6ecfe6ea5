/*
 * cmd_meeting.c: `minga meeting cancel|noshow|held --event E --slot N --table T` — what
 * happened at the venue. held and noshow set the meeting's status; cancel removes it from the
 * timetable (its slot and table are free again; `minga rueda reschedule` may fill them) and
 * keeps it in the event's meeting history, so that the next agenda shows it as cancelled.
 */
#include "cli.h"

#include "minga/error.h"
#include "minga/meeting.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *action;
    int status; /* -1: cancel */
    const char *done;
} s_actions[] = {
    {"cancel", -1, "cancelada (queda en el historial; el turno y la mesa quedan libres)"},
    {"noshow", MINGA_MEETING_NOSHOW, "marcada como «no asistió»"},
    {"held", MINGA_MEETING_HELD, "marcada como realizada"},
    {"scheduled", MINGA_MEETING_SCHEDULED, "marcada de nuevo como programada"},
};

static int s_number(const char *what, const char *text, unsigned *out)
{
    char *end;
    long v = text ? strtol(text, &end, 10) : 0;
    if (!text || !*text || *end || v < 1 || v > 65535)
        return minga_cli_usage("meeting", "%s takes a number from 1 to 65535, not '%s'", what,
                               text ? text : "");
    *out = (unsigned)v;
    return 0;
}

static int s_meeting(minga_cli_t *cli, int argc, char **argv)
{
    const char *event = NULL, *slot_s = NULL, *table_s = NULL;
    if (argc < 2)
        return minga_cli_usage("meeting", "which action? (cancel, noshow, held)");
    size_t a = 0, na = sizeof s_actions / sizeof s_actions[0];
    while (a < na && strcmp(argv[1], s_actions[a].action) != 0)
        a++;
    if (a == na)
        return minga_cli_usage("meeting", "unknown action '%s' (cancel, noshow, held, scheduled)",
                               argv[1]);
    for (int i = 2; i < argc; i++) {
        int r;
        if ((r = minga_cli_opt("meeting", argc, argv, &i, "--event", &event)) ||
            (r = minga_cli_opt("meeting", argc, argv, &i, "--slot", &slot_s)) ||
            (r = minga_cli_opt("meeting", argc, argv, &i, "--table", &table_s))) {
            if (r < 0)
                return MINGA_EXIT_USAGE;
        } else {
            return minga_cli_usage("meeting", "unexpected argument '%s'", argv[i]);
        }
    }
    unsigned slot = 0, table = 0; /* set by s_number() when it returns 0 */
    if (!event || !minga_id_valid(event))
        return minga_cli_usage("meeting", "give --event E with a valid event id");
    int u = s_number("--slot", slot_s, &slot);
    if (u || (u = s_number("--table", table_s, &table)))
        return u;
    minga_store_t *store;
    if (minga_cli_open_store(cli, 0, &store))
        return MINGA_EXIT_FAIL;
    minga_meeting_t m;
    memset(&m, 0, sizeof m);
    int rc = minga_meeting_get(store, event, slot, table, &m);
    if (rc == 0)
        rc = s_actions[a].status < 0
                 ? minga_meeting_cancel(store, event, slot, table, &m)
                 : minga_meeting_set_status(store, event, slot, table, s_actions[a].status);
    minga_store_destroy(&store);
    if (rc == MINGA_ENOTFOUND) {
        fprintf(stderr, "minga meeting %s: event %s has no meeting in slot %u at table %u\n",
                argv[1], event, slot, table);
        return MINGA_EXIT_FAIL;
    }
    if (rc) {
        fprintf(stderr, "minga meeting %s: event %s, slot %u, table %u: %s\n", argv[1], event, slot,
                table, minga_strerror(rc));
        return MINGA_EXIT_FAIL;
    }
    printf("Reunión del turno %u, mesa %u (GAD %s con %s): %s.\n", slot, table, m.gad, m.cooperante,
           s_actions[a].done);
    return MINGA_EXIT_OK;
}

MINGA_COMMAND(meeting, "meeting", 62, s_meeting,
              "registra lo que pasó con una reunión (cancel, noshow, held)",
              "Uso: minga meeting cancel|noshow|held --event E --slot N --table T\n\n"
              "Registra lo que pasó con la reunión del turno N en la mesa T del evento E:\n"
              "  held       se realizó\n"
              "  noshow     una de las partes no asistió\n"
              "  cancel     se cancela: sale del cronograma (el turno y la mesa quedan libres\n"
              "             para «minga rueda reschedule») y queda en el historial, de modo que\n"
              "             la próxima agenda la muestra como cancelada\n"
              "  scheduled  vuelve a dejarla como programada\n\n"
              "Estado de salida: 0 hecho; 1 no hay reunión en ese turno y mesa; 2 error de uso.\n")
