/*
 * fuzz_record.c: the msgpack record decoder (minga_record_decode) on hostile stored values.
 *
 * The first input byte picks one of the seven record types (modulo 7); the rest is the stored
 * value. A decode may fail, but must not crash, leak or read out of bounds. When it succeeds,
 * the record is encoded again and decoded again: the second decode must succeed and give the
 * same record (same encoding, same text of every field), else the target aborts.
 */
#include "minga/record.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts unless a and b format every field, and the event, alike. */
static void s_require_same(const minga_rtype_t *t, const void *a, const void *b)
{
    for (size_t i = 0; i < t->nfields; i++) {
        char *x = minga_field_format(&t->fields[i], a);
        char *y = minga_field_format(&t->fields[i], b);
        if (!x || !y || strcmp(x, y) != 0)
            abort();
        free(x);
        free(y);
    }
    if (t->per_event) {
        const char *x = *(char *const *)a, *y = *(char *const *)b;
        if (strcmp(x ? x : "", y ? y : "") != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t n;
    const minga_rtype_t *const *all = minga_rtypes(&n);
    const minga_rtype_t *t = all[data[0] % n];
    void *rec = minga_record_new(t), *again = minga_record_new(t);
    char *buf = NULL, *buf2 = NULL;
    size_t len = 0, len2 = 0;
    char err[320];
    if (!rec || !again)
        goto done;
    /* a copy of exactly size - 1 bytes, so that a read past the end is caught */
    uint8_t *value = malloc(size - 1 ? size - 1 : 1);
    if (!value)
        goto done;
    memcpy(value, data + 1, size - 1);
    int rc = minga_record_decode(t, value, size - 1, rec, err, sizeof err);
    free(value);
    if (rc != 0)
        goto done;
    if (minga_record_encode(t, rec, &buf, &len) != 0)
        abort();
    if (minga_record_decode(t, buf, len, again, err, sizeof err) != 0)
        abort();
    s_require_same(t, rec, again);
    if (minga_record_encode(t, again, &buf2, &len2) != 0 || len != len2 ||
        memcmp(buf, buf2, len) != 0)
        abort();
done:
    free(buf);
    free(buf2);
    minga_record_free(t, again);
    minga_record_free(t, rec);
    return 0;
}
