/*
 * cmd_candidates.c: `minga candidates --event E --gad CODE|--cooperante ID [--json]`: the
 * stored candidates of one GAD (its demands, each with its ranked offers) or of one
 * cooperante (the demands its offers matched), in Spanish for a person, with the titles of
 * the demands and offers and the reasons of each match; --json prints one object per line.
 */
#include "cli.h"

#include "minga/error.h"
#include "minga/match_store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    minga_store_t *store;
    MDB_txn *txn;
    const char *gad, *coop;
    bool json;
    size_t shown;
    char last_demand[MINGA_KEY_ID + 1];
} s_show_t;

/* The title of a demand or an offer (the caller's to free), or NULL. */
static char *s_title(s_show_t *s, const minga_rtype_t *t, const char *id)
{
    uint8_t key[MINGA_KEY_ID];
    if (minga_key_id(key, id) != 0)
        return NULL;
    MDB_val k = {MINGA_KEY_ID, key}, v;
    if (mdb_get(s->txn, minga_store_dbi(s->store, t->db), &k, &v) != 0)
        return NULL;
    void *rec = minga_record_new(t);
    char err[128], *title = NULL;
    if (rec && minga_record_decode(t, v.mv_data, v.mv_size, rec, err, sizeof err) == 0) {
        const char *tt = t == &minga_rtype_offer ? ((minga_offer_t *)rec)->title
                                                 : ((minga_demand_t *)rec)->title;
        title = tt ? strdup(tt) : NULL;
    }
    minga_record_free(t, rec);
    return title;
}

static void s_print_json(const minga_match_candidate_t *c)
{
    char score[32], text[512];
    json_t *o = json_object(), *r = json_array();
    json_object_set_new(o, "demand_id", json_string(c->demand));
    json_object_set_new(o, "gad", json_string(c->gad));
    json_object_set_new(o, "offer_id", json_string(c->offer));
    json_object_set_new(o, "cooperante", json_string(c->cooperante));
    json_object_set_new(o, "rank", json_integer(c->rank));
    json_object_set_new(o, "score", json_real(c->score / 100.0));
    json_object_set_new(o, "score_text",
                        json_string(minga_match_score_text(c->score, score, sizeof score)));
    for (size_t i = 0; i < c->nreasons; i++)
        json_array_append_new(
            r, json_string(minga_match_reason_text(c->reasons[i], text, sizeof text)));
    json_object_set_new(o, "reasons", r);
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (line)
        puts(line);
    free(line);
    json_decref(o);
}

static int s_show(const minga_match_candidate_t *c, void *arg)
{
    s_show_t *s = arg;
    if ((s->gad && strcmp(c->gad, s->gad) != 0) || (s->coop && strcmp(c->cooperante, s->coop) != 0))
        return 0;
    s->shown++;
    if (s->json) {
        s_print_json(c);
        return 0;
    }
    char score[32], text[512];
    if (strcmp(s->last_demand, c->demand) != 0) {
        char *dt = s_title(s, &minga_rtype_demand, c->demand);
        const minga_canton_t *ct = minga_canton_find(c->gad);
        printf("%sDemanda %s — GAD %s %s\n  %s\n", s->last_demand[0] ? "\n" : "", c->demand, c->gad,
               ct ? ct->name : "", dt ? dt : "");
        free(dt);
        snprintf(s->last_demand, sizeof s->last_demand, "%s", c->demand);
    }
    char *ot = s_title(s, &minga_rtype_offer, c->offer);
    printf("  %2u. %s (%s), puntaje %s\n      %s\n", c->rank, c->offer, c->cooperante,
           minga_match_score_text(c->score, score, sizeof score), ot ? ot : "");
    free(ot);
    for (size_t i = 0; i < c->nreasons; i++)
        printf("      · %s\n", minga_match_reason_text(c->reasons[i], text, sizeof text));
    return 0;
}

static int s_run_candidates(minga_cli_t *cli, int argc, char **argv)
{
    const char *event = NULL;
    s_show_t s;
    memset(&s, 0, sizeof s);
    for (int i = 1; i < argc; i++) {
        int r;
        if ((r = minga_cli_opt("candidates", argc, argv, &i, "--event", &event)) ||
            (r = minga_cli_opt("candidates", argc, argv, &i, "--gad", &s.gad)) ||
            (r = minga_cli_opt("candidates", argc, argv, &i, "--cooperante", &s.coop))) {
            if (r < 0)
                return MINGA_EXIT_USAGE;
        } else if (strcmp(argv[i], "--json") == 0) {
            s.json = true;
        } else {
            return minga_cli_usage("candidates", "unexpected '%s'", argv[i]);
        }
    }
    if (!event || !minga_id_valid(event))
        return minga_cli_usage("candidates", "give the event: --event E");
    if (!s.gad == !s.coop)
        return minga_cli_usage("candidates", "give one of --gad CODE or --cooperante ID");
    if (s.gad && !minga_canton_find(s.gad))
        return minga_cli_usage("candidates", "'%s' is not a canton's DPA code", s.gad);
    if (minga_cli_open_store(cli, MINGA_STORE_RDONLY, &s.store))
        return MINGA_EXIT_FAIL;
    minga_match_summary_t sum;
    int rc = minga_match_summary(s.store, event, &sum);
    if (rc == MINGA_ENOTFOUND) {
        fprintf(stderr, "minga candidates: %s has no candidates yet (minga rueda score %s)\n",
                event, event);
    } else if (rc == 0 && (rc = minga_store_read_begin(s.store, &s.txn)) == 0) {
        rc = minga_match_candidates_each(s.store, event, s_show, &s);
        mdb_txn_abort(s.txn);
        if (rc)
            fprintf(stderr, "minga candidates: %s\n", minga_strerror(rc));
        else if (!s.json)
            printf("%s%zu candidatos %s %s en %s\n", s.shown ? "\n" : "", s.shown,
                   s.gad ? "del GAD" : "de la cooperante", s.gad ? s.gad : s.coop, event);
    }
    minga_store_destroy(&s.store);
    return rc ? MINGA_EXIT_FAIL : MINGA_EXIT_OK;
}

MINGA_COMMAND(candidates, "candidates", 61, s_run_candidates,
              "muestra los candidatos de un GAD o de una cooperante",
              "Uso: minga candidates --event E (--gad CÓDIGO | --cooperante ID) [--json]\n"
              "\n"
              "Muestra los candidatos guardados por «minga rueda score» para el GAD (sus\n"
              "demandas, cada una con sus ofertas en orden) o para la cooperante (las demandas\n"
              "que encontraron sus ofertas): puesto, oferta, puntaje de 0 a 100 y los motivos\n"
              "de cada coincidencia. Con --json, un objeto por línea.\n"
              "\n"
              "Estado de salida: 0 bien; 1 el evento aún no tiene candidatos o el almacén no\n"
              "se pudo leer; 2 error de uso.\n")
