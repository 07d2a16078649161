/*  gen_corpus: writes the seed corpus of fuzz_wire into a directory, using
    the real packers (a few batches, acks and errors).

      cc -std=gnu11 -D_GNU_SOURCE -Icommon tests/fuzz/gen_corpus.c \
          common/prescan.c common/utf8.c common/uuid.c common/wire.c common/safetext.c \
          -lmsgpackc -o build/gen_corpus && build/gen_corpus tests/fuzz/corpus
*/

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uuid.h"
#include "wire.h"

static void
s_write (const char *dir, const char *name, const msgpack_sbuffer *sb)
{
    char path [512];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen (path, "wb");
    if (!f || fwrite (sb->data, 1, sb->size, f) != sb->size || fclose (f) != 0) {
        perror (path);
        exit (1);
    }
}

int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: gen_corpus DIR\n");
        return 2;
    }
    const char *dir = argv [1];
    tx_uuid_gen_t *gen = tx_uuid_gen_new ();
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    char err [256];
    tx_attr_t attrs [] = {
        { "amount", 6, { .type = TX_VAL_STR, .u.s = { "1234.50", 7 } } },
        { "count", 5, { .type = TX_VAL_INT, .u.i = -42 } },
        { "ratio", 5, { .type = TX_VAL_FLOAT, .u.f = 0.25 } },
        { "paid", 4, { .type = TX_VAL_BOOL, .u.b = true } },
        { "note", 4, { .type = TX_VAL_STR, .u.s = { "\xe9\x80\x9a\xe4\xbf\xa1", 6 } } },
        { "day", 3, { .type = TX_VAL_STR, .u.s = { "2024-02-29", 10 } } },
    };
    tx_event_t ev [4];
    memset (ev, 0, sizeof ev);
    for (int i = 0; i < 4; i++) {
        tx_uuid_gen_next_at (gen, 1700000000000ULL + (uint64_t) i, ev [i].id);
        ev [i].unit = "shop-01";
        ev [i].unit_len = 7;
        ev [i].type = "sale";
        ev [i].type_len = 4;
        ev [i].at_sec = 1700000000 + i;
        ev [i].at_nsec = i == 0? 0: 123456789u * (unsigned) i % 1000000000u;
    }
    ev [0].attrs = attrs;
    ev [0].attr_count = 6;
    ev [1].partner = "110105";
    ev [1].partner_len = 6;
    ev [1].attrs = attrs + 1;
    ev [1].attr_count = 2;
    ev [2].at_sec = -1;                 //  96-bit timestamp form
    ev [3].at_sec = 20000000000LL;

    if (tx_wire_pack_batch (&sb, 1, ev, 1, err, sizeof err)) goto fail;
    s_write (dir, "batch-one", &sb);
    if (tx_wire_pack_batch (&sb, 2, ev, 4, err, sizeof err)) goto fail;
    s_write (dir, "batch-four", &sb);
    if (tx_wire_pack_batch (&sb, UINT64_MAX, ev + 1, 1, err, sizeof err)) goto fail;
    s_write (dir, "batch-partner", &sb);

    const uint8_t results [] = { 0, 2, 1, 2 };
    const tx_rejected_t rej [] = {
        { .index = 1, .code = TX_REJECT_UNKNOWN_UNIT, .msg = "unit not registered" },
        { .index = 3, .code = TX_REJECT_BAD_TIME, .msg = "too far ahead" },
    };
    if (tx_wire_pack_ack (&sb, 2, results, 4, rej, 2, err, sizeof err)) goto fail;
    s_write (dir, "ack", &sb);
    if (tx_wire_pack_error (&sb, 0, TX_ERROR_MALFORMED, "prescan: truncated", err, sizeof err))
        goto fail;
    s_write (dir, "error-malformed", &sb);
    if (tx_wire_pack_error (&sb, 9, TX_ERROR_UNSUPPORTED_VERSION, "v 2", err, sizeof err))
        goto fail;
    s_write (dir, "error-version", &sb);

    msgpack_sbuffer_destroy (&sb);
    tx_uuid_gen_destroy (&gen);
    return 0;
fail:
    fprintf (stderr, "gen_corpus: %s\n", err);
    return 1;
}
