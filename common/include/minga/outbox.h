/*
 * outbox.h: the outbox record, one per (event, party, kind, version), and its state machine.
 *
 * The outbox is what makes an agenda e-mail go out exactly once per version (DESIGN.md §8).
 * Key: event[32] + party[32] + kind u8 + version u32, big-endian, so that a cursor walks an
 * event party by party and, within a party, version by version (the latest last). Value: a
 * msgpack map (schemas/records/outbox.json): v, event, party, kind, version, state, attempts,
 * message_id, to, hash, created_at, updated_at, sent_at, reply, error, message (the rendered
 * RFC 5322 bytes, sent as they are on every try), items (what the agenda held, for the next
 * version's cancellations; opaque here).
 *
 * States and transitions (the notify module performs them, each in one write transaction):
 *
 *   (none)  --prepare: new content hash-->          pending   message_id and message stored
 *                                                             before the first try
 *   pending --server accepted (250)-->               sent      reply, sent_at
 *   pending --refused for good (5xx, bad address)--> failed    error
 *   pending --temporary error (4xx, no connection)-> pending   error = the last one; tried
 *                                                             again by the next run
 *   pending --a newer version prepared-->            failed    error "superseded by vN"
 *
 * Invariants:
 *  1. A version's message_id and message never change once stored: every try of a version,
 *     in any process, sends the same bytes with the same Message-ID.
 *  2. sent and failed are final: nothing moves a record out of them, so nothing sent is sent
 *     again; only a pending record is ever sent, so a message whose fate is unknown (killed
 *     between the server's 250 and the commit) is sent again with its Message-ID.
 *  3. A new version is made only when the content hash differs from the latest version's.
 */
#ifndef MINGA_OUTBOX_H
#define MINGA_OUTBOX_H

#include "minga/store.h"

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MINGA_OUTBOX_VERSION 1 /* schema version of the stored value */
#define MINGA_OUTBOX_KEY (MINGA_KEY_ID * 2 + 1 + 4)

typedef enum {
    MINGA_OUTBOX_PENDING,
    MINGA_OUTBOX_SENT,
    MINGA_OUTBOX_FAILED,
} minga_outbox_state_t;

typedef enum {
    MINGA_OUTBOX_AGENDA = 1, /* the participant's agenda */
} minga_outbox_kind_t;

typedef struct {
    char event[MINGA_KEY_ID + 1], party[MINGA_KEY_ID + 1];
    uint8_t kind;
    uint32_t version;
    minga_outbox_state_t state;
    uint32_t attempts;
    uint64_t hash;                            /* content hash of the agenda */
    uint64_t created_at, updated_at, sent_at; /* ms since the epoch; sent_at 0 until sent */
    char *message_id;                         /* "<minga.E.P.vN@domain>" */
    char *to;                                 /* recipient address */
    char *reply;                              /* the server's reply (sent), or NULL */
    char *error;                              /* why failed, or the last temporary error */
    uint8_t *message;                         /* the rendered message */
    size_t message_len;
    uint8_t *items; /* opaque msgpack of the agenda's items */
    size_t items_len;
} minga_outbox_t;

/* Names of states ("pending", "sent", "failed") and kinds ("agenda"); parse returns -1 for an
 * unknown name. */
const char *minga_outbox_state_name(minga_outbox_state_t s);
int minga_outbox_state_parse(const char *name);
const char *minga_outbox_kind_name(uint8_t kind);

/* Builds the key of (event, party, kind, version) into key. Returns 0, or MINGA_EINVAL when
 * an id is longer than MINGA_KEY_ID. */
int minga_outbox_key(uint8_t key[MINGA_OUTBOX_KEY], const char *event, const char *party,
                     uint8_t kind, uint32_t version);

/* Frees the owned fields of r and zeroes it. Accepts NULL. */
void minga_outbox_clear(minga_outbox_t *r);

/* Encodes r into *buf (the caller's: free()). Returns 0 or MINGA_ENOMEM. */
int minga_outbox_encode(const minga_outbox_t *r, uint8_t **buf, size_t *len);

/* Decodes a stored value (untrusted) into *r (cleared first; the caller's to clear). Returns
 * 0, MINGA_EFORMAT (wrong types, a required field missing, truncated) or MINGA_EVERSION. */
int minga_outbox_decode(const void *buf, size_t len, minga_outbox_t *r);

/* Reads the latest version of (event, party, kind) in txn into *r. Returns 0,
 * MINGA_ENOTFOUND when there is none, or an error. */
int minga_outbox_latest(minga_store_t *store, MDB_txn *txn, const char *event, const char *party,
                        uint8_t kind, minga_outbox_t *r);

/* Reads (event, party, kind, version) into *r. Returns 0, MINGA_ENOTFOUND or an error. */
int minga_outbox_get(minga_store_t *store, MDB_txn *txn, const char *event, const char *party,
                     uint8_t kind, uint32_t version, minga_outbox_t *r);

/* Writes r under its key in the write transaction txn. Returns 0 or an LMDB / MINGA code. */
int minga_outbox_put(minga_store_t *store, MDB_txn *txn, const minga_outbox_t *r);

/* Calls fn for every record of event in key order (party, kind, version) in a read
 * transaction of its own; r is valid during the call only. fn returns 0 to go on, else that
 * value stops the walk and is returned. Returns 0 or an error. */
typedef int(minga_outbox_fn)(const minga_outbox_t *r, void *arg);
int minga_outbox_each(minga_store_t *store, const char *event, minga_outbox_fn *fn, void *arg);

#endif
