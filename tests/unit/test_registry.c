/*  test_registry: the registry snapshot as producers get it (common/
 *  registry.c: canonical body, version, decoding of hostile bodies, JSON),
 *  and the producers' side of common/validate.c: the check of an event
 *  against a received registry and the conversion of a person's text into
 *  a typed value, with messages in the reader's language (zh_CN.UTF-8) while
 *  the collector's stay English.
 */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "i18n.h"
#include "registry.h"
#include "uuid.h"
#include "validate.h"

//  A registry like the seeded one, with labels, units and keys.
static tx_registry_t *
s_build (const char *unit, const char *visit_zh)
{
    tx_registry_t *reg = tx_registry_new ();
    assert_non_null (reg);
    assert_int_equal (tx_registry_add_unit (reg, unit, true), 0);
    assert_int_equal (tx_registry_add_key (reg, "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7", unit, false), 0);
    assert_int_equal (tx_registry_add_region_named (reg, "540000", "西藏自治区", "Tibet"), 0);
    assert_int_equal (tx_registry_add_region_named (reg, "540522", "贡嘎县", "Gonggar County"), 0);
    assert_int_equal (tx_registry_add_region_named (reg, "540500", "山南市", "Shannan City"), 0);
    assert_int_equal (tx_registry_set_timezone (reg, "Asia/Shanghai"), 0);
    tx_type_def_t *t = tx_registry_add_type (reg, "visit", true, 4);
    assert_non_null (t);
    assert_int_equal (tx_registry_set_type_labels (reg, t, visit_zh, "Visit", "An offline visit",
                                                   "线下走访"), 0);
    char *dirs [] = { "outbound", "inbound" }, *dirs_zh [] = { "外出", "来访" },
         *dirs_en [] = { "Outbound", "Inbound" };
    tx_attr_def_t dir = { .name = "direction", .kind = TX_KIND_ENUM, .required = true,
                          .enum_values = dirs, .n_enum = 2, .enum_labels_zh = dirs_zh,
                          .enum_labels_en = dirs_en, .label_zh = "方向", .label_en = "Direction" };
    tx_attr_def_t delegates = { .name = "delegates", .kind = TX_KIND_INT, .required = true,
                                .has_min = true, .min = 1, .has_max = true, .max = 1000,
                                .label_zh = "人数", .label_en = "Delegates" };
    tx_attr_def_t amount = { .name = "amount_yuan", .kind = TX_KIND_NUMERIC, .has_min = true,
                             .min_exclusive = true, .label_zh = "金额（元）" };
    tx_attr_def_t day = { .name = "day", .kind = TX_KIND_DATE };
    assert_int_equal (tx_registry_add_attr (reg, t, &dir), 0);
    assert_int_equal (tx_registry_add_attr (reg, t, &delegates), 0);
    assert_int_equal (tx_registry_add_attr (reg, t, &amount), 0);
    assert_int_equal (tx_registry_add_attr (reg, t, &day), 0);
    t = tx_registry_add_type (reg, "donation", false, 1);
    tx_attr_def_t paid = { .name = "paid", .kind = TX_KIND_BOOL, .label_zh = "已付" };
    assert_int_equal (tx_registry_add_attr (reg, t, &paid), 0);
    assert_int_equal (tx_registry_seal (reg), 0);
    return reg;
}

//  Sets the messages' locale as a user would (LC_ALL), with the build
//  tree's catalogues.  0, or -1 if the system lacks the locale.
static int
s_use_locale (const char *name)
{
    const char *b = getenv ("B");
    char dir [4096];
    snprintf (dir, sizeof dir, "%s/locale", b && *b ? b : "build");
    setenv ("TONGXIN_LOCALEDIR", dir, 1);
    setenv ("LC_ALL", name, 1);
    unsetenv ("LANGUAGE");
    tx_i18n_init ();
    const char *got = setlocale (LC_MESSAGES, NULL);
    return got && strcmp (got, name) == 0 ? 0 : -1;
}

//  The version: 32 hex digits of the body; the same rules give the same
//  version whatever units and keys the snapshot holds; a label changes it.
static void
test_version (void **state)
{
    (void) state;
    tx_registry_t *a = s_build ("u1", "走访互访"), *b = s_build ("u2", "走访互访"),
                  *c = s_build ("u1", "走访");
    assert_int_equal (strlen (tx_registry_version (a)), TX_REGISTRY_VERSION_LEN);
    assert_string_equal (tx_registry_version (a), tx_registry_version (b));
    assert_string_not_equal (tx_registry_version (a), tx_registry_version (c));
    size_t len;
    const uint8_t *body = tx_registry_body (a, &len);
    assert_non_null (body);
    //  What producers get holds no unit and no key.
    assert_null (memmem (body, len, "u1", 2));
    assert_null (memmem (body, len, "rq:rM", 5));
    tx_registry_unref (&a);
    tx_registry_unref (&b);
    tx_registry_unref (&c);
}

//  A body decodes into the same rules, labels, regions and time zone, with
//  the same version.
static void
test_round_trip (void **state)
{
    (void) state;
    tx_registry_t *a = s_build ("u1", "走访互访");
    size_t len;
    const uint8_t *body = tx_registry_body (a, &len);
    char err [256] = "";
    tx_registry_t *b = tx_registry_decode (body, len, err, sizeof err);
    assert_non_null (b);
    assert_string_equal (tx_registry_version (a), tx_registry_version (b));
    assert_string_equal (tx_registry_timezone (b), "Asia/Shanghai");
    const tx_type_def_t *t = tx_registry_type (b, "visit", 5);
    assert_non_null (t);
    assert_true (t->partner_required);
    assert_string_equal (t->name_zh, "走访互访");
    assert_string_equal (t->description_zh, "线下走访");
    const tx_attr_def_t *d = tx_validate_attr_def (t, "direction", 9);
    assert_non_null (d);
    assert_int_equal (d->n_enum, 2);
    assert_string_equal (d->enum_labels_zh [1], "来访");
    d = tx_validate_attr_def (t, "amount_yuan", 11);
    assert_true (d->has_min && d->min_exclusive && !d->has_max);
    assert_null (d->label_en);
    const tx_region_t *r = tx_registry_region_get (b, "540522", 6);
    assert_non_null (r);
    assert_string_equal (r->name, "贡嘎县");
    assert_int_equal (tx_registry_unit (b, "u1", 2), -1);         //  units are not sent
    //  The same body again: the same version (a re-seal packs it alike).
    assert_int_equal (tx_registry_seal (b), 0);
    assert_string_equal (tx_registry_version (a), tx_registry_version (b));
    char *json = tx_registry_to_json (b);
    assert_non_null (json);
    assert_non_null (strstr (json, "\"label_zh\":\"人数\""));
    assert_non_null (strstr (json, "\"code\":\"540522\",\"name\":\"贡嘎县\",\"name_en\":\"Gonggar County\","
                                  "\"level\":\"county\",\"province\":\"540000\",\"prefecture\":\"540500\""));
    assert_non_null (strstr (json, "\"timezone\":\"Asia/Shanghai\""));
    assert_non_null (strstr (json, tx_registry_version (a)));
    free (json);
    tx_registry_unref (&a);
    tx_registry_unref (&b);
}

//  Hostile bodies are refused with a reason, never crash: hand-made ones,
//  every truncation and every single-byte change of a valid body.
static void
test_hostile (void **state)
{
    (void) state;
    static const struct { const char *hex; const char *why; } cases [] = {
        { "", "empty" },
        { "c0", "nil" },
        { "80", "empty map: no types" },
        { "df7fffffff", "a map of 2^31 pairs in 5 bytes" },
        { "83a874696d657a6f6e65a0a57479706573dd7fffffffa7726567696f6e7390", "2^31 types" },
        { "83a874696d657a6f6e65a0a5747970657390a7726567696f6e739181a4636f6465a2ff41",
          "a region code that is not UTF-8" },
        { "83a874696d657a6f6e65a0a5747970657390a7726567696f6e739281a4636f6465a13181a4636f6465a131",
          "a region repeated" },
        { "83a874696d657a6f6e65a0a57479706573919fa4636f6465a176a7706172746e6572c2a5617474727390"
          "a7726567696f6e7390", "a type map that claims 15 pairs" },
        { "84a874696d657a6f6e65a0a874696d657a6f6e65a0a5747970657390a7726567696f6e7390",
          "timezone repeated" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        uint8_t buf [256];
        size_t n = strlen (cases [i].hex) / 2;
        for (size_t k = 0; k < n; k++)
            sscanf (cases [i].hex + 2 * k, "%2hhx", &buf [k]);
        char err [256] = "";
        tx_registry_t *r = tx_registry_decode (buf, n, err, sizeof err);
        if (r)
            fail_msg ("decoded: %s", cases [i].why);
        assert_true (strlen (err) > 0);
    }
    tx_registry_t *a = s_build ("u1", "走访互访");
    size_t len;
    const uint8_t *body = tx_registry_body (a, &len);
    uint8_t *copy = malloc (len);
    for (size_t cut = 0; cut < len; cut++) {
        char err [256];
        tx_registry_t *r = tx_registry_decode (body, cut, err, sizeof err);
        assert_null (r);
    }
    size_t decoded = 0;
    for (size_t at = 0; at < len; at++)
        for (int bit = 0; bit < 8; bit++) {
            memcpy (copy, body, len);
            copy [at] ^= (uint8_t) (1 << bit);
            char err [256];
            tx_registry_t *r = tx_registry_decode (copy, len, err, sizeof err);
            if (r) {
                decoded++;
                assert_int_equal (strlen (tx_registry_version (r)), TX_REGISTRY_VERSION_LEN);
                char *json = tx_registry_to_json (r);
                assert_non_null (json);
                free (json);
            }
            tx_registry_unref (&r);
        }
    //  Flips inside labels still decode; most flips do not.
    assert_true (decoded > 0 && decoded < len * 8);
    free (copy);
    tx_registry_unref (&a);
}

//  An enum without values is still an enum once packed again (the fuzzer's
//  round trip: decode, seal, decode).
static void
test_empty_enum (void **state)
{
    (void) state;
    tx_registry_t *reg = tx_registry_new ();
    tx_type_def_t *t = tx_registry_add_type (reg, "x", false, 1);
    char *none [1] = { NULL };
    tx_attr_def_t e = { .name = "e", .kind = TX_KIND_ENUM, .enum_values = none, .n_enum = 0 };
    assert_int_equal (tx_registry_add_attr (reg, t, &e), 0);
    assert_int_equal (tx_registry_seal (reg), 0);
    size_t len;
    const uint8_t *body = tx_registry_body (reg, &len);
    char err [256] = "";
    tx_registry_t *again = tx_registry_decode (body, len, err, sizeof err);
    if (!again)
        fail_msg ("the packed registry does not decode: %s", err);
    assert_string_equal (tx_registry_version (reg), tx_registry_version (again));
    tx_registry_unref (&again);
    tx_registry_unref (&reg);
}

static int
s_text (const tx_registry_t *reg, const char *type, const char *attr, const char *text,
        tx_value_t *v, char norm [TX_VALIDATE_NORM], char *msg, size_t size)
{
    const tx_type_def_t *t = tx_registry_type (reg, type, strlen (type));
    const tx_attr_def_t *def = tx_validate_attr_def (t, attr, strlen (attr));
    assert_non_null (def);
    msg [0] = 0;
    return tx_validate_text_value (def, text, strlen (text), v, norm, msg, size);
}

//  A person's text as the typed value, in English (C locale).
static void
test_text_values (void **state)
{
    (void) state;
    assert_int_equal (s_use_locale ("C"), 0);
    tx_registry_t *reg = s_build ("u1", "走访互访");
    tx_value_t v;
    char norm [TX_VALIDATE_NORM], msg [512];
    assert_int_equal (s_text (reg, "visit", "delegates", " 12 ", &v, norm, msg, sizeof msg), TX_REJECT_NONE);
    assert_int_equal (v.type, TX_VAL_INT);
    assert_int_equal (v.u.i, 12);
    assert_int_equal (s_text (reg, "visit", "delegates", "12.0", &v, norm, msg, sizeof msg),
                      TX_REJECT_BAD_ATTR_TYPE);
    assert_string_equal (msg, "attribute Delegates (delegates) must be a whole number, such as 12");
    assert_int_equal (s_text (reg, "visit", "delegates", "0", &v, norm, msg, sizeof msg),
                      TX_REJECT_OUT_OF_RANGE);
    assert_string_equal (msg, "attribute Delegates (delegates) is below its minimum (1)");
    assert_int_equal (s_text (reg, "visit", "delegates", "1001", &v, norm, msg, sizeof msg),
                      TX_REJECT_OUT_OF_RANGE);
    assert_string_equal (msg, "attribute Delegates (delegates) is above its maximum (1000)");
    assert_int_equal (s_text (reg, "visit", "amount_yuan", "70000.00", &v, norm, msg, sizeof msg),
                      TX_REJECT_NONE);
    assert_int_equal (v.type, TX_VAL_STR);
    assert_int_equal (v.u.s.len, 8);
    assert_memory_equal (v.u.s.ptr, "70000.00", 8);
    assert_int_equal (s_text (reg, "visit", "amount_yuan", "0", &v, norm, msg, sizeof msg),
                      TX_REJECT_OUT_OF_RANGE);
    assert_string_equal (msg, "attribute amount_yuan must be greater than its minimum (0)");
    assert_int_equal (s_text (reg, "visit", "amount_yuan", "7万", &v, norm, msg, sizeof msg),
                      TX_REJECT_BAD_NUMBER);
    assert_int_equal (s_text (reg, "visit", "day", "2025/4/1", &v, norm, msg, sizeof msg), TX_REJECT_NONE);
    assert_memory_equal (v.u.s.ptr, "2025-04-01", 10);
    assert_int_equal (s_text (reg, "visit", "day", "2025-02-30", &v, norm, msg, sizeof msg), TX_REJECT_BAD_DATE);
    assert_string_equal (msg, "attribute day must be a date written YYYY-MM-DD, such as 2025-04-01");
    assert_int_equal (s_text (reg, "visit", "direction", "来访", &v, norm, msg, sizeof msg), TX_REJECT_NONE);
    assert_memory_equal (v.u.s.ptr, "inbound", 7);
    assert_int_equal (s_text (reg, "visit", "direction", "outbound", &v, norm, msg, sizeof msg), TX_REJECT_NONE);
    assert_int_equal (s_text (reg, "visit", "direction", "out", &v, norm, msg, sizeof msg), TX_REJECT_BAD_ENUM);
    assert_string_equal (msg, "attribute Direction (direction) must be one of: Outbound (outbound), "
                              "Inbound (inbound)");
    assert_int_equal (s_text (reg, "donation", "paid", "是", &v, norm, msg, sizeof msg), TX_REJECT_NONE);
    assert_true (v.type == TX_VAL_BOOL && v.u.b);
    assert_int_equal (s_text (reg, "donation", "paid", "FALSE", &v, norm, msg, sizeof msg), TX_REJECT_NONE);
    assert_true (v.type == TX_VAL_BOOL && !v.u.b);
    assert_int_equal (s_text (reg, "donation", "paid", "yes", &v, norm, msg, sizeof msg), TX_REJECT_BAD_ATTR_TYPE);
    tx_registry_unref (&reg);
}

//  The same in Chinese: the field named by its Chinese label, the allowed
//  values by theirs; the collector's wire text stays English.
static void
test_chinese (void **state)
{
    (void) state;
    if (s_use_locale ("zh_CN.UTF-8") != 0) {
        print_message ("# the system has no zh_CN.UTF-8 locale: run scripts/install-deps as root\n");
        fail ();
    }
    tx_registry_t *reg = s_build ("u1", "走访互访");
    tx_value_t v;
    char norm [TX_VALIDATE_NORM], msg [512];
    assert_int_equal (s_text (reg, "visit", "delegates", "十二", &v, norm, msg, sizeof msg),
                      TX_REJECT_BAD_ATTR_TYPE);
    assert_string_equal (msg, "属性“人数 (delegates)”必须是整数，例如 12");
    assert_int_equal (s_text (reg, "visit", "delegates", "0", &v, norm, msg, sizeof msg),
                      TX_REJECT_OUT_OF_RANGE);
    assert_string_equal (msg, "属性“人数 (delegates)”小于最小值（1）");
    assert_int_equal (s_text (reg, "visit", "direction", "out", &v, norm, msg, sizeof msg), TX_REJECT_BAD_ENUM);
    assert_string_equal (msg, "属性“方向 (direction)”必须是以下之一： 外出 (outbound), 来访 (inbound)");
    assert_int_equal (s_text (reg, "visit", "day", "4月1日", &v, norm, msg, sizeof msg), TX_REJECT_BAD_DATE);
    assert_string_equal (msg, "属性“day”必须是 YYYY-MM-DD 格式的日期，例如 2025-04-01");

    //  A whole event: the producer's check in Chinese, the collector's in English.
    tx_attr_t attrs [1] = { { "direction", 9, { .type = TX_VAL_STR, .u.s = { "outbound", 8 } } } };
    tx_event_t ev = { .unit = "u1", .unit_len = 2, .type = "visit", .type_len = 5,
                      .partner = "540522", .partner_len = 6, .attrs = attrs, .attr_count = 1,
                      .at_sec = 1750000000 };
    assert_int_equal (tx_validate_event_local (reg, &ev, msg, sizeof msg), TX_REJECT_MISSING_ATTR);
    assert_string_equal (msg, "缺少必填属性“人数 (delegates)”");
    tx_uuid_gen_t *gen = tx_uuid_gen_new ();
    tx_uuid_gen_next_at (gen, 1750000000000ULL, ev.id);
    tx_registry_set_id_window (reg, 0, INT64_MAX);
    tx_validate_ctx_t ctx = { NULL, 1750000001000LL, 300000 };
    assert_int_equal (tx_validate_event (reg, &ev, &ctx, NULL, msg, sizeof msg), TX_REJECT_MISSING_ATTR);
    assert_string_equal (msg, "missing required attribute delegates");
    ev.type = "vist";
    ev.type_len = 4;
    assert_int_equal (tx_validate_event_local (reg, &ev, msg, sizeof msg), TX_REJECT_UNKNOWN_TYPE);
    assert_string_equal (msg, "未知的事件类型 vist；您是不是要找 visit？");
    tx_uuid_gen_destroy (&gen);
    tx_registry_unref (&reg);
    assert_int_equal (s_use_locale ("C"), 0);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_version),
        cmocka_unit_test (test_round_trip),
        cmocka_unit_test (test_hostile),
        cmocka_unit_test (test_empty_enum),
        cmocka_unit_test (test_text_values),
        cmocka_unit_test (test_chinese),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
