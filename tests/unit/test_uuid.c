/*  test_uuid: UUIDv7 generation, text form and checks (common/uuid.c).  */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <cmocka.h>

#include "uuid.h"

static void
test_format_parse (void **state)
{
    (void) state;
    const uint8_t id [16] = {
        0x01, 0x8f, 0x3c, 0x4a, 0x5b, 0x6c, 0x7d, 0xef,
        0x80, 0x01, 0x02, 0x03, 0x04, 0x05, 0xa6, 0xff
    };
    char text [TX_UUID_STR_SIZE];
    tx_uuid_format (id, text);
    assert_string_equal (text, "018f3c4a-5b6c-7def-8001-02030405a6ff");

    uint8_t back [16];
    assert_int_equal (tx_uuid_parse (text, 36, back), 0);
    assert_memory_equal (back, id, 16);
    //  upper case accepted
    assert_int_equal (tx_uuid_parse ("018F3C4A-5B6C-7DEF-8001-02030405A6FF", 36, back), 0);
    assert_memory_equal (back, id, 16);
}

static void
test_parse_refuses (void **state)
{
    (void) state;
    static const char *bad [] = {
        "018f3c4a5b6c-7def-8001-02030405a6ff-",     //  hyphens misplaced
        "018f3c4a-5b6c-7def-8001-02030405a6fg",     //  not hex
        "{18f3c4a-5b6c-7def-8001-02030405a6f}",     //  braces
        "018f3c4a-5b6c-7def-8001_02030405a6ff",     //  wrong separator
        " 18f3c4a-5b6c-7def-8001-02030405a6ff",     //  space
    };
    uint8_t out [16];
    memset (out, 0xaa, 16);
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++)
        assert_int_equal (tx_uuid_parse (bad [i], strlen (bad [i]), out), -1);
    //  wrong lengths
    assert_int_equal (tx_uuid_parse ("018f3c4a-5b6c-7def-8001-02030405a6f", 35, out), -1);
    assert_int_equal (tx_uuid_parse ("018f3c4a-5b6c-7def-8001-02030405a6ff0", 37, out), -1);
    assert_int_equal (tx_uuid_parse (NULL, 36, out), -1);
    //  out untouched on failure
    for (int i = 0; i < 16; i++)
        assert_int_equal (out [i], 0xaa);
}

static void
test_is_v7 (void **state)
{
    (void) state;
    uint8_t id [16];
    //  A version 4 UUID (random): refused
    assert_int_equal (tx_uuid_parse ("f47ac10b-58cc-4372-a567-0e02b2c3d479", 36, id), 0);
    assert_false (tx_uuid_is_v7 (id));
    //  RFC 9562 appendix A.6 example UUIDv7
    assert_int_equal (tx_uuid_parse ("017f22e2-79b0-7cc3-98c4-dc0c0c07398f", 36, id), 0);
    assert_true (tx_uuid_is_v7 (id));
    assert_int_equal (tx_uuid_v7_ms (id), 0x017f22e279b0ULL);   //  2022-02-22T19:22:22Z
    //  version 7 but variant 0b11 (Microsoft): refused
    id [8] = 0xd8;
    assert_false (tx_uuid_is_v7 (id));
    //  version 7 but variant 0b0x (NCS): refused
    id [8] = 0x18;
    assert_false (tx_uuid_is_v7 (id));
    //  version 6, variant ok: refused
    assert_int_equal (tx_uuid_parse ("1ec9414c-232a-6b00-b3c8-9f6bdeced846", 36, id), 0);
    assert_false (tx_uuid_is_v7 (id));
    //  nil and max
    memset (id, 0, 16);
    assert_false (tx_uuid_is_v7 (id));
    memset (id, 0xff, 16);
    assert_false (tx_uuid_is_v7 (id));
}

static void
test_generate_fields (void **state)
{
    (void) state;
    tx_uuid_gen_t *gen = tx_uuid_gen_new ();
    assert_non_null (gen);
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    uint64_t before = (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
    uint8_t id [16];
    assert_int_equal (tx_uuid_gen_next (gen, id), 0);
    clock_gettime (CLOCK_REALTIME, &ts);
    uint64_t after = (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
    assert_true (tx_uuid_is_v7 (id));
    assert_in_range (tx_uuid_v7_ms (id), before, after);

    //  explicit clock
    assert_int_equal (tx_uuid_gen_next_at (gen, after + 1000, id), 0);
    assert_int_equal (tx_uuid_v7_ms (id), after + 1000);
    assert_int_equal (id [6] >> 4, 7);
    assert_int_equal (id [8] >> 6, 2);
    //  out of 48-bit range
    assert_int_equal (tx_uuid_gen_next_at (gen, UINT64_C (1) << 48, id), -1);

    tx_uuid_gen_destroy (&gen);
    assert_null (gen);
    tx_uuid_gen_destroy (&gen);     //  safe twice
}

//  The 12-bit rand_a counter of an id.
static unsigned
s_counter (const uint8_t *id)
{
    return ((id [6] & 0x0fu) << 8) | id [7];
}

static void
test_monotonic_same_ms (void **state)
{
    (void) state;
    tx_uuid_gen_t *gen = tx_uuid_gen_new ();
    uint8_t prev [16], id [16];
    const uint64_t ms = 1700000000000ULL;
    assert_int_equal (tx_uuid_gen_next_at (gen, ms, prev), 0);
    assert_true (s_counter (prev) < 2048);     //  seeded with the top bit clear
    unsigned first = s_counter (prev);
    //  Exhaust the counter in one millisecond: it must roll into ms+1.
    bool rolled = false;
    for (int i = 1; i <= 4096; i++) {
        assert_int_equal (tx_uuid_gen_next_at (gen, ms, id), 0);
        assert_true (tx_uuid_is_v7 (id));
        if (memcmp (prev, id, 16) >= 0)
            fail_msg ("id %d not greater than the previous one", i);
        if (!rolled) {
            if (tx_uuid_v7_ms (id) == ms)
                assert_int_equal (s_counter (id), first + (unsigned) i);
            else {
                assert_int_equal (tx_uuid_v7_ms (id), ms + 1);
                assert_int_equal (first + (unsigned) i, 4096);
                rolled = true;
            }
        }
        memcpy (prev, id, 16);
    }
    assert_true (rolled);
    //  The clock going back does not go back in ids.
    assert_int_equal (tx_uuid_gen_next_at (gen, ms - 5000, id), 0);
    assert_true (memcmp (prev, id, 16) < 0);
    assert_int_equal (tx_uuid_v7_ms (id), ms + 1);
    //  A later millisecond starts a fresh counter.
    memcpy (prev, id, 16);
    assert_int_equal (tx_uuid_gen_next_at (gen, ms + 10, id), 0);
    assert_int_equal (tx_uuid_v7_ms (id), ms + 10);
    assert_true (s_counter (id) < 2048);
    assert_true (memcmp (prev, id, 16) < 0);
    tx_uuid_gen_destroy (&gen);
}

static void
test_monotonic_real_clock (void **state)
{
    (void) state;
    tx_uuid_gen_t *gen = tx_uuid_gen_new ();
    uint8_t prev [16], id [16];
    assert_int_equal (tx_uuid_gen_next (gen, prev), 0);
    for (int i = 0; i < 20000; i++) {
        assert_int_equal (tx_uuid_gen_next (gen, id), 0);
        if (memcmp (prev, id, 16) >= 0)
            fail_msg ("id %d not greater than the previous one", i);
        memcpy (prev, id, 16);
    }
    tx_uuid_gen_destroy (&gen);
}

//  Threads sharing one generator get distinct ids.
#define S_THREADS 4
#define S_PER     2000
typedef struct {
    tx_uuid_gen_t *gen;
    uint8_t ids [S_PER][16];
} s_job_t;

static void *
s_worker (void *arg)
{
    s_job_t *job = (s_job_t *) arg;
    for (int i = 0; i < S_PER; i++)
        if (tx_uuid_gen_next (job->gen, job->ids [i]) != 0)
            return arg;
    return NULL;
}

static int
s_cmp16 (const void *a, const void *b)
{
    return memcmp (a, b, 16);
}

static void
test_threads_unique (void **state)
{
    (void) state;
    static s_job_t jobs [S_THREADS];
    static uint8_t all [S_THREADS * S_PER][16];
    tx_uuid_gen_t *gen = tx_uuid_gen_new ();
    pthread_t th [S_THREADS];
    for (int t = 0; t < S_THREADS; t++) {
        jobs [t].gen = gen;
        assert_int_equal (pthread_create (&th [t], NULL, s_worker, &jobs [t]), 0);
    }
    for (int t = 0; t < S_THREADS; t++) {
        void *rv = NULL;
        pthread_join (th [t], &rv);
        assert_null (rv);
        //  each thread sees its own ids increasing
        for (int i = 1; i < S_PER; i++)
            assert_true (memcmp (jobs [t].ids [i - 1], jobs [t].ids [i], 16) < 0);
        memcpy (all [t * S_PER], jobs [t].ids, sizeof jobs [t].ids);
    }
    qsort (all, S_THREADS * S_PER, 16, s_cmp16);
    for (int i = 1; i < S_THREADS * S_PER; i++)
        assert_true (memcmp (all [i - 1], all [i], 16) != 0);
    tx_uuid_gen_destroy (&gen);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_format_parse),
        cmocka_unit_test (test_parse_refuses),
        cmocka_unit_test (test_is_v7),
        cmocka_unit_test (test_generate_fields),
        cmocka_unit_test (test_monotonic_same_ms),
        cmocka_unit_test (test_monotonic_real_clock),
        cmocka_unit_test (test_threads_unique),
    };
    return cmocka_run_group_tests_name ("uuid", tests, NULL, NULL);
}
