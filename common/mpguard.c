/*
 * mpguard.c: walks msgpack without allocating, to refuse hostile buffers before msgpack-c
 * sees them (see mpguard.h). Every element takes at least one byte, so an array or map that
 * declares more elements than bytes remain is refused at once.
 */
#include "minga/mpguard.h"

#include "minga/error.h"

#include <stdint.h>

typedef struct {
    const uint8_t *p, *end;
} s_cursor_t;

static int s_need(s_cursor_t *c, uint64_t n)
{
    return (uint64_t)(c->end - c->p) >= n ? 0 : -1;
}

static uint64_t s_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Skips n bytes of payload whose length is given by an n-byte big-endian prefix. */
static int s_skip_sized(s_cursor_t *c, int prefix)
{
    if (s_need(c, (uint64_t)prefix))
        return -1;
    uint64_t n = s_be(c->p, prefix);
    c->p += prefix;
    if (s_need(c, n))
        return -1;
    c->p += n;
    return 0;
}

static int s_walk(s_cursor_t *c, int depth);

static int s_walk_items(s_cursor_t *c, uint64_t items, int depth)
{
    if (depth <= 0 || (uint64_t)(c->end - c->p) < items)
        return -1;
    for (uint64_t i = 0; i < items; i++)
        if (s_walk(c, depth - 1))
            return -1;
    return 0;
}

static int s_walk_counted(s_cursor_t *c, int prefix, int per_item, int depth)
{
    if (s_need(c, (uint64_t)prefix))
        return -1;
    uint64_t n = s_be(c->p, prefix);
    c->p += prefix;
    return s_walk_items(c, n * (uint64_t)per_item, depth);
}

static int s_walk(s_cursor_t *c, int depth)
{
    if (s_need(c, 1))
        return -1;
    uint8_t b = *c->p++;
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
        return 0;
    if ((b & 0xf0) == 0x80)
        return s_walk_items(c, (uint64_t)(b & 0x0f) * 2, depth);
    if ((b & 0xf0) == 0x90)
        return s_walk_items(c, (uint64_t)(b & 0x0f), depth);
    if ((b & 0xe0) == 0xa0) {
        if (s_need(c, b & 0x1f))
            return -1;
        c->p += b & 0x1f;
        return 0;
    }
    switch (b) {
    case 0xc4:
    case 0xd9:
        return s_skip_sized(c, 1); /* bin8, str8 */
    case 0xc5:
    case 0xda:
        return s_skip_sized(c, 2);
    case 0xc6:
    case 0xdb:
        return s_skip_sized(c, 4);
    default:
        break;
    }
    uint64_t fixed = 0;
    switch (b) {
    case 0xc7: /* ext8: length, type, data */
        if (s_need(c, 1))
            return -1;
        fixed = s_be(c->p, 1) + 2;
        break;
    case 0xc8: /* ext16 */
        if (s_need(c, 2))
            return -1;
        fixed = s_be(c->p, 2) + 3;
        break;
    case 0xc9: /* ext32 */
        if (s_need(c, 4))
            return -1;
        fixed = s_be(c->p, 4) + 5;
        break;
    case 0xca:
    case 0xd2:
    case 0xce:
        fixed = 4;
        break;
    case 0xcb:
    case 0xd3:
    case 0xcf:
        fixed = 8;
        break;
    case 0xcc:
    case 0xd0:
        fixed = 1;
        break;
    case 0xcd:
    case 0xd1:
        fixed = 2;
        break;
    case 0xd4:
        fixed = 2;
        break;
    case 0xd5:
        fixed = 3;
        break;
    case 0xd6:
        fixed = 5;
        break;
    case 0xd7:
        fixed = 9;
        break;
    case 0xd8:
        fixed = 17;
        break;
    case 0xdc:
        return s_walk_counted(c, 2, 1, depth);
    case 0xdd:
        return s_walk_counted(c, 4, 1, depth);
    case 0xde:
        return s_walk_counted(c, 2, 2, depth);
    case 0xdf:
        return s_walk_counted(c, 4, 2, depth);
    default:
        return -1; /* 0xc1: never used */
    }
    if (s_need(c, fixed))
        return -1;
    c->p += fixed;
    return 0;
}

int minga_mpguard_check_prefix(const void *buf, size_t len, int max_depth, size_t *used)
{
    s_cursor_t c = {buf, (const uint8_t *)buf + len};
    if (!buf || s_walk(&c, max_depth + 1) != 0)
        return MINGA_EFORMAT;
    if (used)
        *used = (size_t)(c.p - (const uint8_t *)buf);
    return 0;
}

int minga_mpguard_check(const void *buf, size_t len, int max_depth)
{
    size_t used;
    int rc = minga_mpguard_check_prefix(buf, len, max_depth, &used);
    return (rc == 0 && used == len) ? 0 : MINGA_EFORMAT;
}
