/*
 * fuzz_proto.c: libFuzzer target on the MINGA01 decoders (proto.h): whole messages as the
 * broker receives them, bodies, job maps (the stored value) and job specs. The first byte picks
 * what the rest is:
 *   0: a body: minga_proto_body_decode, then the job map, the job spec and a field table;
 *   1: a message: frames, each preceded by its length (one byte), into minga_pmsg_decode as a
 *      ROUTER receives it (the first frame is the routing id), then as a DEALER receives it;
 *   2: a stored job value: minga_job_decode, re-encoded and decoded again (must agree); then
 *      the broker's record, minga_job_record_decode, packed again: the same bytes twice.
 * Nothing here may crash, leak or read out of bounds, whatever the bytes.
 */
#include "minga/proto.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void s_objects(const msgpack_object *root)
{
    minga_job_t job;
    minga_job_init(&job);
    char err[256];
    minga_job_from_object(root, &job, err, sizeof err);
    minga_job_clear(&job);
    minga_jobspec_t spec;
    minga_jobspec_init(&spec);
    for (int batch = 0; batch < 2; batch++) {
        minga_jobspec_decode(root, batch, !batch, &spec, err, sizeof err);
        minga_jobspec_clear(&spec);
    }
    static const minga_pfield_t fields[] = {
        {"types", MINGA_PF_STRS, true, 1, MINGA_PROTO_MAX_TYPES},
        {"capacity", MINGA_PF_UINT, false, 0, 1000},
        {"name", MINGA_PF_STR, false, 0, 128},
        {"jobs", MINGA_PF_ARRAY, false, 1, 10000},
        {"parents", MINGA_PF_UINTS, false, 0, 1000},
        {"result", MINGA_PF_ANY, false, 0, 0},
        {"progress", MINGA_PF_BOOL, false, 0, 0},
        {"error", MINGA_PF_MAP, false, 0, 0},
        {"items", MINGA_PF_ARRAY, false, 1, MINGA_PROTO_MAX_ITEMS}, /* DONE {items} */
        {"batch", MINGA_PF_UINT, false, 0, MINGA_PROTO_MAX_ITEMS},  /* READY */
    };
    const msgpack_object *out[10];
    for (int strict = 0; strict < 2; strict++)
        if (minga_pfields(root, fields, 10, out, strict, err, sizeof err) == 0) {
            uint8_t *buf;
            size_t len;
            if (minga_pobj_pack(out[5], &buf, &len) == 0)
                free(buf);
            free(minga_pobj_strdup(out[2]));
            /* each item of DONE {items}, as the broker reads it */
            static const minga_pfield_t item[] = {{"id", MINGA_PF_UINT, true, 1, 0},
                                                  {"result", MINGA_PF_ANY, false, 0, 0}};
            const msgpack_object *iout[2];
            for (uint32_t i = 0; out[8] && i < out[8]->via.array.size; i++)
                if (minga_pfields(&out[8]->via.array.ptr[i], item, 2, iout, true, err,
                                  sizeof err) == 0 &&
                    minga_pobj_pack(iout[1], &buf, &len) == 0)
                    free(buf);
        }
}

static void s_body(const uint8_t *data, size_t size)
{
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    msgpack_object *root;
    char err[256];
    if (minga_proto_body_decode(data, size, &up, &root, err, sizeof err) == 0)
        s_objects(root);
    msgpack_unpacked_destroy(&up);
}

static zmsg_t *s_frames(const uint8_t *data, size_t size)
{
    zmsg_t *msg = zmsg_new();
    size_t i = 0;
    while (i < size) {
        size_t len = data[i++];
        if (len > size - i)
            len = size - i;
        zmsg_addmem(msg, data + i, len);
        i += len;
    }
    return msg;
}

static void s_message(const uint8_t *data, size_t size)
{
    for (int router = 0; router < 2; router++) {
        zmsg_t *msg = s_frames(data, size);
        minga_pmsg_t m;
        minga_pmsg_init(&m);
        minga_perr_t perr;
        char err[256];
        if (minga_pmsg_decode(&m, &msg, router, 4096, &perr, err, sizeof err) == 0)
            s_objects(m.root);
        minga_pmsg_clear(&m);
        zmsg_destroy(&msg);
    }
}

static void s_stored(const uint8_t *data, size_t size)
{
    minga_job_t job, again;
    minga_job_init(&job);
    minga_job_init(&again);
    char err[256];
    if (minga_job_decode(data, size, &job, err, sizeof err) == 0) {
        char *buf;
        size_t len;
        if (minga_job_encode(&job, 0, &buf, &len) == 0) {
            if (minga_job_decode(buf, len, &again, err, sizeof err) != 0 || again.id != job.id ||
                again.state != job.state || again.attempts != job.attempts ||
                again.body_len != job.body_len || again.nparents != job.nparents)
                abort(); /* encode and decode disagree */
            free(buf);
        }
    }
    minga_job_clear(&job);
    minga_job_clear(&again);
    if (minga_job_record_decode(data, size, &job, err, sizeof err) == 0) {
        minga_pbuf_t a, b;
        minga_pbuf_init(&a);
        minga_pbuf_init(&b);
        if (minga_job_record_pack(&job, &a.pk) != 0 ||
            minga_job_record_decode(a.sbuf.data, a.sbuf.size, &again, err, sizeof err) != 0 ||
            minga_job_record_pack(&again, &b.pk) != 0 || a.sbuf.size != b.sbuf.size ||
            memcmp(a.sbuf.data, b.sbuf.data, a.sbuf.size) != 0 || again.id != job.id ||
            again.state != job.state || again.result_len != job.result_len)
            abort(); /* the record's pack and decode disagree */
        minga_pbuf_clear(&a);
        minga_pbuf_clear(&b);
    }
    minga_job_clear(&job);
    minga_job_clear(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    switch (data[0] % 3) {
    case 0:
        s_body(data + 1, size - 1);
        break;
    case 1:
        s_message(data + 1, size - 1);
        break;
    default:
        s_stored(data + 1, size - 1);
        break;
    }
    return 0;
}
