/*  test_reasons: every reject and error code the codec knows (common/wire.c,
 *  docs/protocol.md 9.2 and 9.3) has a one-line explanation, the codes
 *  themselves are never translated, and under zh_CN.UTF-8 the explanation
 *  comes from the catalogue in Chinese (common/reasons.c).
 *
 *  The catalogue is the build tree's ($B/locale, B from tests/run); the
 *  Chinese case is skipped, saying why, when the system lacks the locale
 *  (scripts/install-deps generates it).
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
#include "reasons.h"
#include "wire.h"

//  Every code of the protocol, from the codec's own tables.
static int
s_codes (const char **codes, int max)
{
    int n = 0;
    for (int c = 1; c < TX_REJECT_COUNT_ && n < max; c++)
        codes [n++] = tx_reject_code_str (c);
    for (int c = 1; c < TX_ERROR_COUNT_ && n < max; c++)
        codes [n++] = tx_error_code_str (c);
    return n;
}

//  Sets the messages' locale as a user would (LC_ALL) and reads the
//  catalogues of the build tree.
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

static bool
s_has_non_ascii (const char *s)
{
    for (; *s; s++)
        if ((unsigned char) *s >= 0x80)
            return true;
    return false;
}

static void
test_every_code_explained (void **state)
{
    (void) state;
    assert_int_equal (s_use_locale ("C"), 0);
    const char *codes [64];
    int n = s_codes (codes, 64);
    assert_int_equal (n, TX_REJECT_COUNT_ - 1 + TX_ERROR_COUNT_ - 1);
    for (int i = 0; i < n; i++) {
        const char *text = tx_reason_explain (codes [i]);
        if (!text)
            fail_msg ("the code %s has no explanation in common/reasons.c", codes [i]);
        assert_true (strlen (text) > 10);
        assert_false (s_has_non_ascii (text));
        for (int j = 0; j < i; j++)
            if (strcmp (text, tx_reason_explain (codes [j])) == 0)
                fail_msg ("%s and %s have the same explanation", codes [i], codes [j]);
    }
    assert_null (tx_reason_explain ("no_such_code"));
    assert_null (tx_reason_explain (""));
    assert_null (tx_reason_explain (NULL));
    assert_string_equal (tx_reason_explain ("unit_mismatch"),
        "the event names another unit than the one the producer's key was issued to");
}

static void
test_chinese (void **state)
{
    (void) state;
    if (s_use_locale ("zh_CN.UTF-8") != 0) {
        s_use_locale ("C");
        print_message ("# the system has no zh_CN.UTF-8 locale: run scripts/install-deps as root\n");
        skip ();
    }
    const char *codes [64];
    int n = s_codes (codes, 64);
    for (int i = 0; i < n; i++) {
        const char *text = tx_reason_explain (codes [i]);
        assert_non_null (text);
        if (!s_has_non_ascii (text))
            fail_msg ("%s is not explained in Chinese (po/zh_CN.po): %s", codes [i], text);
    }
    assert_string_equal (tx_reason_explain ("unit_mismatch"),
                         "事件中的单位与报送端密钥所属的单位不一致");
    //  The code stays the code.
    assert_string_equal (tx_reject_code_str (TX_REJECT_UNIT_MISMATCH), "unit_mismatch");
    //  And C again: English.
    assert_int_equal (s_use_locale ("C"), 0);
    assert_false (s_has_non_ascii (tx_reason_explain ("unit_mismatch")));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_every_code_explained),
        cmocka_unit_test (test_chinese),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
