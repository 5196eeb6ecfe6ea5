/*
 * proto.h: the wire protocol MINGA01 (schemas/PROTOCOL.md), shared by the broker, the worker
 * runtime and the client API.
 *
 * A message is [routing id (ROUTER side only)] [""] ["MINGA01"] [COMMAND] [msgpack map]. This
 * module names the commands, error codes and job states, receives and decodes messages
 * defensively (every byte from a socket is untrusted: a bad frame count, a wrong version, an
 * unknown command, hostile or truncated msgpack and oversized bodies are error values, never a
 * crash), sends them, and encodes and decodes the two structured bodies: the job map
 * (minga_job_t, also the value stored in the store's "job" database) and the job spec of
 * ENQUEUE/BATCH (minga_jobspec_t). Other bodies are read with a field table (minga_pfields)
 * and written with msgpack-c's packer through minga_pbuf_t.
 *
 * Typical receive loop (broker side, router = true; a DEALER peer passes false):
 *
 *     zmsg_t *zm = zmsg_recv(sock);
 *     minga_pmsg_t m;
 *     minga_pmsg_init(&m);
 *     minga_perr_t perr;
 *     char err[256];
 *     if (minga_pmsg_decode(&m, &zm, true, max_body, &perr, err, sizeof err) != 0)
 *         ... reply minga_proto_send_error(sock, m.routing, m.delimiter, m.rid, perr, err, 0)
 *     else
 *         ... dispatch on m.cmd, read m.root with minga_pfields()
 *     minga_pmsg_clear(&m);
 */
#ifndef MINGA_PROTO_H
#define MINGA_PROTO_H

#include <czmq.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- constants (PROTOCOL.md §11) ---- */

#define MINGA_PROTO_VERSION "MINGA01"

#define MINGA_PROTO_MAX_DEPTH 32      /* nesting of a body */
#define MINGA_PROTO_MAX_TYPE 64       /* job type, bytes */
#define MINGA_PROTO_MAX_KEY 256       /* idempotency key */
#define MINGA_PROTO_MAX_NAME 128      /* worker name */
#define MINGA_PROTO_MAX_CODE 64       /* error code */
#define MINGA_PROTO_MAX_MESSAGE 4096  /* error message */
#define MINGA_PROTO_MAX_TEXT 1024     /* progress text */
#define MINGA_PROTO_MAX_PARENTS 1000  /* parents of one job */
#define MINGA_PROTO_MAX_BATCH 10000   /* jobs in one BATCH */
#define MINGA_PROTO_MAX_TYPES 64      /* types in one READY */
#define MINGA_PROTO_MAX_CAPACITY 1000 /* a worker's capacity */
#define MINGA_PROTO_MAX_ATTEMPTS 1000 /* max_attempts */
#define MINGA_PROTO_MIN_LEASE_MS 100  /* lease_ms range */
#define MINGA_PROTO_MAX_LEASE_MS 86400000u
#define MINGA_PROTO_MAX_DELAY_MS 31536000000ull
#define MINGA_PROTO_MAX_WAIT_MS 3600000u
#define MINGA_PROTO_LIST_MAX 1000
#define MINGA_PROTO_MAX_ITEMS 1000 /* jobs in one JOBS, results in one DONE {items} */

/* Defaults of the broker's configuration, for peers that need one before WELCOME. */
#define MINGA_PROTO_HEARTBEAT_MS 1000
#define MINGA_PROTO_LIVENESS 3
#define MINGA_PROTO_MAX_BODY (1u << 20)
#define MINGA_PROTO_MAX_RESULT (64u << 20) /* a DONE's message (broker/max_result) */
#define MINGA_PROTO_PRIORITY_DEFAULT 128
#define MINGA_PROTO_WAIT_MS_DEFAULT 30000

/* Longest path of an ipc:// endpoint (sun_path is 108 bytes with its NUL). */
#define MINGA_PROTO_IPC_PATH_MAX 107

/* ---- commands ---- */

typedef enum {
    /* client -> broker; the broker's reply carries the same name */
    MINGA_CMD_ENQUEUE,
    MINGA_CMD_BATCH,
    MINGA_CMD_STATUS,
    MINGA_CMD_WAIT,
    MINGA_CMD_CANCEL, /* also broker -> worker */
    MINGA_CMD_RETRY,
    MINGA_CMD_LIST,
    MINGA_CMD_STATS,
    MINGA_CMD_WORKERS,
    MINGA_CMD_PING,
    /* worker <-> broker */
    MINGA_CMD_READY,
    MINGA_CMD_WELCOME,
    MINGA_CMD_JOB,
    MINGA_CMD_PROGRESS, /* worker -> broker; also broker -> client during WAIT */
    MINGA_CMD_DONE,
    MINGA_CMD_FAIL,
    MINGA_CMD_RELEASE,
    MINGA_CMD_HEARTBEAT,
    MINGA_CMD_DISCONNECT,
    MINGA_CMD_FETCH,   /* worker -> broker: a parent's result */
    MINGA_CMD_FETCHED, /* broker -> worker: its answer */
    MINGA_CMD_JOBS,    /* broker -> worker: several jobs in one message (READY batch > 1) */
    /* broker -> anyone */
    MINGA_CMD_ERROR,
    MINGA_CMD_COUNT
} minga_cmd_t;

/* The command's wire name ("ENQUEUE"), static; "?" for an invalid value. */
const char *minga_cmd_name(minga_cmd_t cmd);

/* The command whose wire name is the len bytes at data, or -1. */
int minga_cmd_parse(const void *data, size_t len);

/* ---- error codes (PROTOCOL.md §9) ---- */

typedef enum {
    MINGA_PERR_NONE = 0,
    MINGA_PERR_BAD_FRAME,
    MINGA_PERR_BAD_VERSION,
    MINGA_PERR_UNKNOWN_COMMAND,
    MINGA_PERR_BAD_BODY,
    MINGA_PERR_TOO_BIG,
    MINGA_PERR_UNKNOWN_JOB_TYPE,
    MINGA_PERR_NOT_FOUND,
    MINGA_PERR_INVALID_STATE,
    MINGA_PERR_STORE_FULL,
    MINGA_PERR_INTERNAL,
    MINGA_PERR_FORBIDDEN,
    MINGA_PERR_COUNT
} minga_perr_t;

/* "bad_frame"..., static; "none" for MINGA_PERR_NONE, "?" for an invalid value. */
const char *minga_perr_name(minga_perr_t code);

/* The code named name, or MINGA_PERR_COUNT when unknown (a newer broker's code). */
minga_perr_t minga_perr_parse(const char *name);

/* ---- job states (PROTOCOL.md §6) ---- */

typedef enum {
    MINGA_JOB_WAITING,
    MINGA_JOB_QUEUED,
    MINGA_JOB_LEASED,
    MINGA_JOB_DONE,
    MINGA_JOB_FAILED,
    MINGA_JOB_DEAD,
    MINGA_JOB_CANCELLED,
    MINGA_JOB_STATE_COUNT
} minga_job_state_t;

/* "waiting"..., static; "?" for an invalid value. */
const char *minga_job_state_name(minga_job_state_t state);
/* The state named name, or -1. */
int minga_job_state_parse(const char *name);
/* True for done, dead and cancelled. */
bool minga_job_state_is_end(minga_job_state_t state);

/* True if type is a well-formed job type: 1..64 of [a-z0-9._-], the first a letter or digit. */
bool minga_job_type_valid(const char *type, size_t len);

/* Wall-clock time in milliseconds since the Unix epoch (the protocol's time unit). */
uint64_t minga_now_ms(void);

/* ---- received messages ---- */

typedef struct {
    zframe_t *routing; /* ROUTER side: the peer's routing id (owned), else NULL */
    bool delimiter;    /* the message had the empty frame; replies must mirror it */
    minga_cmd_t cmd;   /* valid when decode returned 0 */
    char cmd_text[24]; /* the command frame as received, printable, for logs */
    bool has_rid;      /* the body had a "rid" (read even when the rest is bad) */
    uint64_t rid;
    zframe_t *body_frame; /* the body's bytes, which string objects point into (owned) */
    msgpack_unpacked up;  /* owns the decoded body */
    msgpack_object *root; /* the body: a map (the empty map for a zero-length frame) */
    size_t size;          /* bytes of the message without the routing id */
} minga_pmsg_t;

/* Prepares m (zeroed, nothing owned). */
void minga_pmsg_init(minga_pmsg_t *m);

/* Releases what m owns and prepares it again. */
void minga_pmsg_clear(minga_pmsg_t *m);

/* Decodes *msg_p into m (cleared first) and destroys *msg_p (NULLs it). router: the first frame
 * is a routing id (a ROUTER socket). max_body: largest message in bytes (0 = no limit).
 * Returns 0, or MINGA_EPROTO with *perr set (bad_frame, bad_version, unknown_command, bad_body,
 * too_big) and a message in err. Even on error, m->routing, m->delimiter and m->rid are
 * filled as far as they could be read, so that the caller can answer; m->routing is NULL only
 * when there is nobody to answer (the message was empty). */
int minga_pmsg_decode(minga_pmsg_t *m, zmsg_t **msg_p, bool router, size_t max_body,
                      minga_perr_t *perr, char *err, size_t errcap);

/* Decodes a body frame: exactly one msgpack map, at most MINGA_PROTO_MAX_DEPTH deep, no
 * trailing bytes; a zero-length body is the empty map. up must be initialised
 * (msgpack_unpacked_init); on success *root points into it. Returns 0 or MINGA_EFORMAT with a
 * message in err. Safe on any input. */
int minga_proto_body_decode(const void *data, size_t len, msgpack_unpacked *up,
                            msgpack_object **root, char *err, size_t errcap);

/* Checks that data is exactly one well-formed msgpack value of at most max_depth levels whose
 * declared lengths fit in len. Returns 0 or MINGA_EFORMAT. Safe on any input. */
int minga_mp_validate(const void *data, size_t len, unsigned max_depth);

/* ---- sending ---- */

/* Sends [routing][""][MINGA01][cmd][body]: the routing frame only when routing is not NULL
 * (borrowed, copied), the empty frame only when delimiter. body may be NULL with len 0 (the
 * empty map is sent). Returns 0 or -1 (zmq_errno() says why). */
int minga_proto_send(zsock_t *sock, zframe_t *routing, bool delimiter, minga_cmd_t cmd,
                     const void *body, size_t len);

/* Sends ERROR {rid (if has_rid), code, message, id (if id != 0)}. Returns as minga_proto_send. */
int minga_proto_send_error(zsock_t *sock, zframe_t *routing, bool delimiter, bool has_rid,
                           uint64_t rid, minga_perr_t code, const char *message, uint64_t id);

/* ---- building bodies ---- */

/* A msgpack buffer and its packer. Do not copy or move after init. */
typedef struct {
    msgpack_sbuffer sbuf;
    msgpack_packer pk;
} minga_pbuf_t;

void minga_pbuf_init(minga_pbuf_t *b);
/* Empties the buffer, keeps its memory. */
void minga_pbuf_reset(minga_pbuf_t *b);
/* Frees the buffer's memory. */
void minga_pbuf_clear(minga_pbuf_t *b);

/* Packers of one map entry (key, then value) and of a string value. Return 0 or -1. */
int minga_pk_str(msgpack_packer *pk, const char *s);
int minga_pk_strn(msgpack_packer *pk, const void *s, size_t len);
int minga_pk_kv_uint(msgpack_packer *pk, const char *key, uint64_t v);
int minga_pk_kv_str(msgpack_packer *pk, const char *key, const char *v);
int minga_pk_kv_bool(msgpack_packer *pk, const char *key, bool v);
int minga_pk_kv_nil(msgpack_packer *pk, const char *key);
/* key, then the len bytes at raw, which must be one well-formed msgpack value (or nil when
 * raw is NULL). */
int minga_pk_kv_raw(msgpack_packer *pk, const char *key, const void *raw, size_t len);

/* ---- reading bodies: a field table ---- */

typedef enum {
    MINGA_PF_UINT,  /* non-negative integer in [min, max] */
    MINGA_PF_STR,   /* str or bin, length in [min, max] bytes (max 0: no limit), no NUL */
    MINGA_PF_BOOL,  /* true/false */
    MINGA_PF_ANY,   /* any value */
    MINGA_PF_MAP,   /* a map */
    MINGA_PF_UINTS, /* array of integers >= 1, count in [min, max] */
    MINGA_PF_STRS,  /* array of non-empty strings of at most MINGA_PROTO_MAX_TYPE bytes,
                     * count in [min, max] */
    MINGA_PF_ARRAY, /* array of anything, count in [min, max] */
} minga_pftype_t;

typedef struct {
    const char *name;
    minga_pftype_t type;
    bool required;
    uint64_t min, max; /* see the types; max 0 means no upper limit */
} minga_pfield_t;

/* Checks the map obj against the n fields: out[i] receives fields[i]'s value or NULL when
 * absent. A key not in the table is an error when strict, skipped otherwise (replies,
 * stored values). A nil value counts as absent for optional fields. Returns 0, or
 * MINGA_EFORMAT with err naming the field ("priority: must be 0..255"). */
int minga_pfields(const msgpack_object *obj, const minga_pfield_t *fields, size_t n,
                  const msgpack_object **out, bool strict, char *err, size_t errcap);

/* Value getters for checked objects; o may be NULL (absent), then dflt / NULL / 0. */
uint64_t minga_pobj_uint(const msgpack_object *o, uint64_t dflt);
bool minga_pobj_bool(const msgpack_object *o, bool dflt);
/* The bytes of a str/bin object: *len receives the length; NULL if absent or not a string. */
const char *minga_pobj_str(const msgpack_object *o, size_t *len);
/* A NUL-terminated copy (the caller's to free); NULL if absent, not a string, or on ENOMEM. */
char *minga_pobj_strdup(const msgpack_object *o);
/* True if o is a string equal to s. */
bool minga_pobj_str_eq(const msgpack_object *o, const char *s);
/* Re-encodes o into a new buffer *buf (the caller's, free()) of *len bytes; o NULL gives
 * *buf NULL, *len 0. Returns 0 or MINGA_ENOMEM. */
int minga_pobj_pack(const msgpack_object *o, uint8_t **buf, size_t *len);
/* Looks up key in map o (no checks), NULL if absent. */
const msgpack_object *minga_pobj_get(const msgpack_object *o, const char *key);

/* ---- the job map (PROTOCOL.md §3.1) ---- */

#define MINGA_JOB_VERSION 1

typedef struct {
    uint32_t done, total;
    char *text; /* NULL = none */
} minga_progress_t;

typedef struct {
    uint64_t id;
    char *type;
    minga_job_state_t state;
    uint8_t priority;
    uint64_t not_before; /* ms since epoch, 0 = none */
    uint32_t attempts, max_attempts;
    uint32_t lease_ms;
    char *key;         /* NULL = none */
    uint64_t *parents; /* nparents ids */
    size_t nparents;
    uint8_t *body; /* one msgpack value, or NULL (nil) */
    size_t body_len;
    bool has_progress;
    minga_progress_t progress;
    uint8_t *result; /* one msgpack value, or NULL (absent) */
    size_t result_len;
    char *error_code; /* NULL = no error */
    char *error_message;
    char *worker;                                 /* name of the lease holder, NULL = none */
    uint64_t created_at, updated_at, finished_at; /* finished_at 0 = not finished */
} minga_job_t;

/* Flags of minga_job_pack. */
enum {
    MINGA_JOB_PACK_NO_BODY = 1 << 0,  /* leave out body and result (LIST) */
    MINGA_JOB_PACK_NO_INPUT = 1 << 1, /* leave out body only (the broker stores it apart) */
};

/* Zeroes job (priority 128, state queued). */
void minga_job_init(minga_job_t *job);
/* Frees what job owns and initialises it again. */
void minga_job_clear(minga_job_t *job);

/* Packs job as the job map (with "v"). Returns 0 or -1. */
int minga_job_pack(const minga_job_t *job, msgpack_packer *pk, unsigned flags);
/* Packs job into a new buffer *buf (the caller's, free()). Returns 0 or MINGA_ENOMEM. */
int minga_job_encode(const minga_job_t *job, unsigned flags, char **buf, size_t *len);

/* Reads a job map (a JOB message's "job", a stored value, a STATUS reply) into job (cleared
 * first). Unknown keys are ignored; a "v" newer than MINGA_JOB_VERSION is MINGA_EVERSION; a
 * missing id/type/state, a wrong type or an oversized field is MINGA_EFORMAT with err naming
 * the field. On error job is cleared. */
int minga_job_from_object(const msgpack_object *o, minga_job_t *job, char *err, size_t errcap);
/* The same from an encoded buffer (untrusted). */
int minga_job_decode(const void *buf, size_t len, minga_job_t *job, char *err, size_t errcap);

/* The job as the broker stores it (its job database): a compact array of the same fields
 * without the body (proto.c describes it). Returns 0 or -1. */
int minga_job_record_pack(const minga_job_t *job, msgpack_packer *pk);
/* Reads a stored job: the compact record, or a job map written by an older broker. A record
 * of another version is MINGA_EVERSION, a malformed one MINGA_EFORMAT with err naming the
 * field and offset. On error job is cleared. */
int minga_job_record_decode(const void *buf, size_t len, minga_job_t *job, char *err,
                            size_t errcap);

/* ---- the job spec of ENQUEUE and BATCH (PROTOCOL.md §4.1) ---- */

typedef struct {
    char *type;
    uint8_t *body; /* one msgpack value, or NULL */
    size_t body_len;
    int priority; /* 0..255, -1 = default */
    uint64_t not_before;
    uint64_t delay_ms;
    uint32_t max_attempts; /* 0 = default */
    uint32_t lease_ms;     /* 0 = default */
    char *key;             /* NULL = none */
    uint64_t *parents;
    size_t nparents;
    uint32_t *after; /* BATCH only: indexes of earlier specs */
    size_t nafter;
} minga_jobspec_t;

void minga_jobspec_init(minga_jobspec_t *spec);
void minga_jobspec_clear(minga_jobspec_t *spec);

/* Packs spec's fields into the map being built: the caller has packed the map header with
 * minga_jobspec_count() entries (plus its own, e.g. "rid"). Returns 0 or -1. */
size_t minga_jobspec_count(const minga_jobspec_t *spec);
int minga_jobspec_pack_fields(const minga_jobspec_t *spec, msgpack_packer *pk);

/* Reads a spec from map o, strictly (unknown fields are errors). in_batch allows "after";
 * allow_rid skips a "rid" key (ENQUEUE's body is the spec plus rid). Returns 0, or
 * MINGA_EFORMAT with err naming the field. On error spec is cleared. */
int minga_jobspec_decode(const msgpack_object *o, bool in_batch, bool allow_rid,
                         minga_jobspec_t *spec, char *err, size_t errcap);

/* ---- endpoints ---- */

/* Builds "ipc://STORE/run/NAME" into dst for the store directory store_dir (resolved with
 * realpath(); it must exist). Returns 0; MINGA_ETOOBIG when the socket path is longer than
 * MINGA_PROTO_IPC_PATH_MAX bytes, or -errno; err then names the path and the limit. */
int minga_proto_ipc_endpoint(const char *store_dir, const char *name, char *dst, size_t cap,
                             char *err, size_t errcap);

#endif
