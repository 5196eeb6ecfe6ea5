/*
 * fuzz_csv.c: the registry importer (minga_import_buffer) on hostile CSV and JSON files.
 *
 * The first input byte picks one of the seven record types (modulo 7); the rest is the file.
 * The import runs with dry_run on a store created once per process in a mkdtemp() directory
 * (removed at exit): it parses, validates, checks references against the empty store and
 * encodes, but writes nothing. Participants and preferences are imported for the event
 * "jornada-2026", which the store does not hold: their reference check fails, as it should.
 * Any outcome is fine but a crash, a leak or an out-of-bounds access.
 */
#include "minga/io.h"
#include "minga/store.h"

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static minga_store_t *s_store;
static char s_dir[] = "/tmp/minga-fuzz-XXXXXX";

static int s_remove(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void s_cleanup(void)
{
    minga_store_destroy(&s_store);
    nftw(s_dir, s_remove, 16, FTW_DEPTH | FTW_PHYS);
}

static minga_store_t *s_open_store(void)
{
    if (s_store)
        return s_store;
    if (!mkdtemp(s_dir))
        abort();
    char path[64];
    snprintf(path, sizeof path, "%s/store", s_dir);
    if (minga_store_open(&s_store, path, MINGA_STORE_CREATE) != 0)
        abort();
    atexit(s_cleanup);
    return s_store;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    minga_store_t *store = s_open_store();
    size_t n;
    const minga_rtype_t *t = minga_rtypes(&n)[data[0] % n];
    /* a copy of exactly size - 1 bytes, not NUL-terminated, so that a read past the end is
     * caught */
    char *file = malloc(size - 1 ? size - 1 : 1);
    if (!file)
        return 0;
    memcpy(file, data + 1, size - 1);
    minga_import_opts_t opts = {.event = "jornada-2026", .who = "fuzz", .dry_run = true};
    minga_import_report_t report;
    minga_import_buffer(store, t, "fuzz.csv", file, size - 1, &opts, &report);
    minga_import_report_clear(&report);
    free(file);
    return 0;
}
