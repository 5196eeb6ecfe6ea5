/*
 * mpguard.h: a structural check of untrusted msgpack before msgpack-c unpacks it.
 *
 * msgpack-c allocates arrays and maps from the counts a buffer declares, before it reads their
 * elements: a 6-byte hostile value can ask for gigabytes. minga_mpguard_check() walks the
 * buffer without allocating and refuses anything whose declared counts cannot fit in the bytes
 * that remain, that nests deeper than max_depth, or that is truncated.
 */
#ifndef MINGA_MPGUARD_H
#define MINGA_MPGUARD_H

#include <stddef.h>

/* Returns 0 when buf[0..len) holds exactly one well-formed msgpack object (trailing bytes
 * refused), nested at most max_depth deep; MINGA_EFORMAT otherwise. */
int minga_mpguard_check(const void *buf, size_t len, int max_depth);

/* Like minga_mpguard_check, but stores in *used the length of the first object and allows
 * trailing bytes. */
int minga_mpguard_check_prefix(const void *buf, size_t len, int max_depth, size_t *used);

#endif
