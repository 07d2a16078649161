/*  lex.c: lexical rules shared by the collector, the producers and the tools.  */
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

//  ---------------------------------------------------------------- codes

bool
tx_lex_unit_code (const char *s, size_t len)
{
    if (!s || len < 1 || len > TX_LEX_MAX_CODE)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s [i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
            return false;
    }
    return true;
}

//  n ASCII digits at s[0..n) (the caller checked the length) into *out.
static bool
s_digits (const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s [i] < '0' || s [i] > '9')
            return false;
        v = v * 10 + (s [i] - '0');
    }
    if (out)
        *out = v;
    return true;
}

bool
tx_lex_region (const char *s, size_t len)
{
    return s && len == 6 && s_digits (s, 6, NULL);
}

//  ---------------------------------------------------------------- dates

static int
s_days_in_month (int y, int m)
{
    static const int days [] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days [m - 1];
}

//  Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant).
static int64_t
s_days_from_civil (int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

//  NNNN-NN-NN at s[0..10) (the caller checked the length) into y, m, d.
static bool
s_ymd (const char *s, int *y, int *m, int *d)
{
    return s_digits (s, 4, y) && s [4] == '-' && s_digits (s + 5, 2, m) && s [7] == '-'
        && s_digits (s + 8, 2, d);
}

static bool
s_date_valid (int y, int m, int d)
{
    return y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= s_days_in_month (y, m);
}

bool
tx_lex_date_shaped (const char *s, size_t len)
{
    int y, m, d;
    return s && len == 10 && s_ymd (s, &y, &m, &d);
}

bool
tx_lex_date (const char *s, size_t len)
{
    int y, m, d;
    return s && len == 10 && s_ymd (s, &y, &m, &d) && s_date_valid (y, m, d);
}

//  ---------------------------------------------------------------- times

//  A cursor over the text being parsed.
typedef struct {
    const char *s;
    size_t len, i;
} cur_t;

//  n digits at the cursor into *out, moving past them.
static bool
s_take (cur_t *c, size_t n, int *out)
{
    if (c->len - c->i < n || !s_digits (c->s + c->i, n, out))
        return false;
    c->i += n;
    return true;
}

static bool
s_take_char (cur_t *c, const char *any)
{
    if (c->i < c->len && c->s [c->i] && strchr (any, c->s [c->i])) {
        c->i++;
        return true;
    }
    return false;
}

//  The time of day after the 'T': HH:MM[:SS[.F...]] into h, mi, sec, frac (µs).
static bool
s_clock (cur_t *c, int *h, int *mi, int *sec, int *frac)
{
    *sec = *frac = 0;
    if (!s_take (c, 2, h) || !s_take_char (c, ":") || !s_take (c, 2, mi))
        return false;
    if (!s_take_char (c, ":"))
        return true;
    if (!s_take (c, 2, sec))
        return false;
    if (!s_take_char (c, ".,"))
        return true;
    size_t n = 0;
    for (; c->i < c->len && c->s [c->i] >= '0' && c->s [c->i] <= '9'; c->i++, n++)
        if (n < 6)
            *frac = *frac * 10 + (c->s [c->i] - '0');
    for (size_t k = n; k < 6; k++)
        *frac *= 10;
    return n > 0;
}

//  The zone: Z, or +HH[[:]MM] into *offset (seconds east).
static tx_time_t
s_zone (cur_t *c, int *offset)
{
    *offset = 0;
    if (s_take_char (c, "Zz"))
        return TX_TIME_OK;
    if (c->i == c->len)
        return TX_TIME_NO_OFFSET;
    int sign = c->s [c->i] == '-' ? -1 : 1, oh, om = 0;
    if (!s_take_char (c, "+-") || !s_take (c, 2, &oh))
        return TX_TIME_SYNTAX;
    if (s_take_char (c, ":")) {
        if (!s_take (c, 2, &om))
            return TX_TIME_SYNTAX;
    }
    else
        s_take (c, 2, &om);
    if (oh > 23 || om > 59)
        return TX_TIME_BAD_OFFSET;
    *offset = sign * (oh * 3600 + om * 60);
    return TX_TIME_OK;
}

tx_time_t
tx_lex_time (const char *s, size_t len, int64_t *us)
{
    cur_t c = { s, s ? len : 0, 0 };
    int y, mo, d, h, mi, sec, frac, offset;
    if (c.len < 10 || !s_ymd (s, &y, &mo, &d))
        return TX_TIME_SYNTAX;
    c.i = 10;
    if (c.i == c.len)
        return TX_TIME_NO_CLOCK;
    if (!s_take_char (&c, "Tt ") || !s_clock (&c, &h, &mi, &sec, &frac))
        return TX_TIME_SYNTAX;
    tx_time_t rc = s_zone (&c, &offset);
    if (rc == TX_TIME_OK && c.i != c.len)
        rc = TX_TIME_SYNTAX;
    if (rc != TX_TIME_OK)
        return rc;
    if (!s_date_valid (y, mo, d))
        return TX_TIME_BAD_DATE;
    if (h > 23 || mi > 59 || sec > 59)
        return sec == 60 ? TX_TIME_LEAP_SECOND : TX_TIME_BAD_CLOCK;
    int64_t secs = s_days_from_civil (y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
    if (us)
        *us = secs * 1000000 + frac;
    return TX_TIME_OK;
}
