/*
 * test_record.c: the record codec's two encoders agree byte for byte — minga_record_pack
 * (through msgpack-c) and minga_record_append (the importer's direct writer) — on every
 * record of the embedded Jornada data set and on records with long strings and large
 * numbers (every msgpack size class); and what they write decodes back to the same record.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "minga/demo.h"
#include "minga/error.h"
#include "minga/record.h"

#include <stdlib.h>
#include <string.h>

/* Whether s_compare decodes too (a string past its field's limit is refused on decode, as a
 * hostile stored value would be). */
static bool s_decode = true;

static int s_compare(const minga_rtype_t *t, const void *rec, void *arg)
{
    size_t *count = arg;
    msgpack_sbuffer a, b;
    msgpack_sbuffer_init(&a);
    msgpack_sbuffer_init(&b);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &a, msgpack_sbuffer_write);
    assert_int_equal(minga_record_pack(t, rec, &pk), 0);
    assert_int_equal(minga_record_append(t, rec, &b), 0);
    assert_int_equal(a.size, b.size);
    assert_memory_equal(a.data, b.data, a.size);
    void *back = minga_record_new(t);
    char err[256];
    int rc = minga_record_decode(t, b.data, b.size, back, err, sizeof err);
    assert_int_equal(rc, s_decode ? 0 : MINGA_EFORMAT);
    for (size_t i = 0; s_decode && i < t->nfields; i++) {
        char *x = minga_field_format(&t->fields[i], rec),
             *y = minga_field_format(&t->fields[i], back);
        assert_string_equal(x, y);
        free(x);
        free(y);
    }
    minga_record_free(t, back);
    msgpack_sbuffer_destroy(&a);
    msgpack_sbuffer_destroy(&b);
    (*count)++;
    return 0;
}

static void test_demo_records_encode_alike(void **state)
{
    (void)state;
    size_t count = 0;
    assert_int_equal(minga_demo_generate(MINGA_DEMO_SEED, 1.0, s_compare, &count, NULL), 0);
    assert_true(count > 3000);
}

static void test_size_classes(void **state)
{
    (void)state;
    size_t count = 0;
    char *big = malloc(70000);
    memset(big, 'a', 69999);
    big[69999] = '\0';
    uint64_t numbers[] = {0,     1,     127,           128,           255,       256,
                          65535, 65536, 4294967295ull, 4294967296ull, UINT64_MAX};
    size_t lens[] = {0, 1, 31, 32, 255, 256, 65535, 65536, 69999};
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        for (size_t j = 0; j < sizeof lens / sizeof lens[0]; j++) {
            minga_demand_t d = {0};
            big[lens[j]] = '\0';
            d.id = "dem-1";
            d.gad = "0101";
            d.title = lens[j] ? big : "x";
            d.competency = "d";
            d.modality = "becas";
            d.amount = numbers[i];
            d.priority = numbers[i] ? numbers[i] : 1;
            char *codes[20];
            for (int k = 0; k < 20; k++)
                codes[k] = "14030";
            d.dac = (minga_strv_t){codes, j < 4 ? 1 + j : 17}; /* fixarray and array16 */
            s_decode = lens[j] <= 1200; /* título: 300 bytes, decode takes up to 4 times that */
            s_compare(&minga_rtype_demand, &d, &count);
            big[lens[j]] = 'a';
        }
    }
    free(big);
    assert_int_equal(count, 99);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_demo_records_encode_alike),
        cmocka_unit_test(test_size_classes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
