/*  lex.c: lexical rules shared by the collector and the producers.  */
#include "lex.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

bool
tx_lex_json_number (const char *s, size_t len)
{
    size_t i = 0;
    if (i < len && s [i] == '-')
        i++;
    if (i < len && s [i] == '0')
        i++;
    else
    if (i < len && s [i] >= '1' && s [i] <= '9')
        while (i < len && s [i] >= '0' && s [i] <= '9')
            i++;
    else
        return false;
    if (i < len && s [i] == '.') {
        size_t start = ++i;
        while (i < len && s [i] >= '0' && s [i] <= '9')
            i++;
        if (i == start)
            return false;
    }
    if (i < len && (s [i] == 'e' || s [i] == 'E')) {
        i++;
        if (i < len && (s [i] == '+' || s [i] == '-'))
            i++;
        size_t start = i;
        while (i < len && s [i] >= '0' && s [i] <= '9')
            i++;
        if (i == start)
            return false;
    }
    return i == len;
}

//  An integer's text (the syntax checked) into *out; false if it is
//  outside int64.
static bool
s_int64 (const char *s, size_t len, int64_t *out)
{
    bool neg = s [0] == '-';
    uint64_t v = 0, limit = neg ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
    for (size_t i = neg ? 1 : 0; i < len; i++) {
        unsigned digit = (unsigned) (s [i] - '0');
        if (v > (limit - digit) / 10)
            return false;
        v = v * 10 + digit;
    }
    *out = neg ? (v == (uint64_t) INT64_MAX + 1 ? INT64_MIN : -(int64_t) v) : (int64_t) v;
    return true;
}

static locale_t s_c_locale;
static pthread_once_t s_c_locale_once = PTHREAD_ONCE_INIT;

static void
s_c_locale_init (void)
{
    s_c_locale = newlocale (LC_NUMERIC_MASK, "C", (locale_t) 0);
}

tx_num_t
tx_lex_number (const char *s, size_t len, int64_t *i, double *d)
{
    if (!s || !tx_lex_json_number (s, len))
        return TX_NUM_SYNTAX;
    bool integer = !memchr (s, '.', len) && !memchr (s, 'e', len) && !memchr (s, 'E', len);
    int64_t v;
    if (integer && s_int64 (s, len, &v)) {
        if (i)
            *i = v;
        if (d)
            *d = (double) v;
        return TX_NUM_INT;
    }
    if (len > TX_LEX_MAX_DECIMAL)
        return TX_NUM_TOO_LONG;
    //  The value, for the binary64 range: strtod in the C locale, whose
    //  ERANGE covers overflow and underflow alike.
    char text [TX_LEX_MAX_DECIMAL + 1];
    memcpy (text, s, len);
    text [len] = 0;
    pthread_once (&s_c_locale_once, s_c_locale_init);
    errno = 0;
    double x = s_c_locale ? strtod_l (text, NULL, s_c_locale) : strtod (text, NULL);
    if (errno == ERANGE || !isfinite (x))
        return TX_NUM_RANGE;
    if (d)
        *d = x;
    return integer ? TX_NUM_BIG_INT : TX_NUM_DECIMAL;
}

bool
tx_lex_is_decimal (tx_num_t kind)
{
    return kind == TX_NUM_INT || kind == TX_NUM_DECIMAL || kind == TX_NUM_BIG_INT;
}
