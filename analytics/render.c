/*  render.c: the report as aligned terminal tables and as CSV.
 *
 *  Column widths count terminal columns, not bytes: Chinese, Japanese and
 *  Korean characters and full-width forms take two (East Asian Width W/F,
 *  Unicode 15), combining marks none.  The table is our own, so the output
 *  does not depend on the locale the program runs in.  The table speaks
 *  the language of the locale; the CSV keeps its English headings and
 *  labels in every locale (report.h).
 */
#include "i18n.h"
#include "report.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

//  Decodes one UTF-8 sequence at s; returns its length (1 for a bad byte,
//  which then counts as one column).
static int
s_decode (const unsigned char *s, uint32_t *cp)
{
    if (s [0] < 0x80) {
        *cp = s [0];
        return 1;
    }
    int n = (s [0] & 0xe0) == 0xc0 ? 2 : (s [0] & 0xf0) == 0xe0 ? 3 : (s [0] & 0xf8) == 0xf0 ? 4 : 0;
    if (n == 0) {
        *cp = 0xfffd;
        return 1;
    }
    uint32_t v = s [0] & (0x7f >> n);
    for (int i = 1; i < n; i++) {
        if ((s [i] & 0xc0) != 0x80) {
            *cp = 0xfffd;
            return 1;
        }
        v = (v << 6) | (s [i] & 0x3f);
    }
    *cp = v;
    return n;
}

static int
s_codepoint_width (uint32_t c)
{
    //  Zero width: combining marks, zero-width space/joiners, variation selectors.
    if ((c >= 0x0300 && c <= 0x036f) || (c >= 0x200b && c <= 0x200f)
    ||  (c >= 0xfe00 && c <= 0xfe0f) || (c >= 0x20d0 && c <= 0x20ff))
        return 0;
    //  East Asian Wide and Fullwidth.
    if ((c >= 0x1100 && c <= 0x115f) || (c >= 0x231a && c <= 0x231b)
    ||  (c >= 0x2e80 && c <= 0x303e) || (c >= 0x3041 && c <= 0x33ff)
    ||  (c >= 0x3400 && c <= 0x4dbf) || (c >= 0x4e00 && c <= 0x9fff)
    ||  (c >= 0xa000 && c <= 0xa4cf) || (c >= 0xa960 && c <= 0xa97f)
    ||  (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff)
    ||  (c >= 0xfe10 && c <= 0xfe19) || (c >= 0xfe30 && c <= 0xfe6f)
    ||  (c >= 0xff00 && c <= 0xff60) || (c >= 0xffe0 && c <= 0xffe6)
    ||  (c >= 0x1f300 && c <= 0x1f64f) || (c >= 0x1f900 && c <= 0x1f9ff)
    ||  (c >= 0x20000 && c <= 0x3fffd))
        return 2;
    return 1;
}

int
rpt_display_width (const char *s)
{
    int width = 0;
    const unsigned char *p = (const unsigned char *) s;
    while (*p) {
        uint32_t cp;
        p += s_decode (p, &cp);
        width += s_codepoint_width (cp);
    }
    return width;
}

const char *
rpt_group_digits (const char *s, char *buf, size_t len)
{
    const char *p = s [0] == '-' ? s + 1 : s;
    size_t digits = strspn (p, "0123456789");
    bool number = digits > 0 && (p [digits] == 0 || (p [digits] == '.'
                  && strspn (p + digits + 1, "0123456789") == strlen (p + digits + 1)));
    if (!number || digits <= 3 || strlen (s) + digits / 3 + 1 > len) {
        snprintf (buf, len, "%s", s);
        return buf;
    }
    size_t o = 0;
    if (s [0] == '-')
        buf [o++] = '-';
    for (size_t i = 0; i < digits; i++) {
        if (i > 0 && (digits - i) % 3 == 0)
            buf [o++] = ',';
        buf [o++] = p [i];
    }
    snprintf (buf + o, len - o, "%s", p + digits);
    return buf;
}

const char *
rpt_cn_amount (const char *s, char *buf, size_t len)
{
    char *end;
    double v = strtod (s, &end);
    if (end == s || *end || !(fabs (v) >= 10000) || fabs (v) >= 1e20)
        return rpt_group_digits (s, buf, len);
    double scale = fabs (v) >= 1e8 ? 1e8 : 1e4;
    snprintf (buf, len, "%.2f", v / scale);
    if (scale == 1e4 && fabs (atof (buf)) >= 10000) {
        scale = 1e8;                    //  99,999,999.9 is 1亿, not 10000万
        snprintf (buf, len, "%.2f", v / scale);
    }
    char *dot = strchr (buf, '.');
    if (dot) {
        char *e = buf + strlen (buf) - 1;
        while (e > dot && *e == '0')
            *e-- = 0;
        if (e == dot)
            *e = 0;
    }
    size_t used = strlen (buf);
    snprintf (buf + used, len - used, "%s", scale == 1e8 ? "亿" : "万");
    return buf;
}

static void
s_pad (FILE *out, int n)
{
    for (int i = 0; i < n; i++)
        fputc (' ', out);
}

//  Cell (row, c) as the table shows it: numbers grouped, our own labels
//  translated; row -2 is the column's name.
static const char *
s_shown (const rpt_table_t *t, int row, int c, char *buf, size_t len)
{
    if (row == -2)
        return rpt_text (t->cols [c]);
    const char *v = rpt_cell (t, row, c);
    if (t->numeric [c])
        return rpt_group_digits (v, buf, len);
    return t->label [c] ? rpt_text (v) : v;
}

static void
s_write_table (const rpt_table_t *t, FILE *out)
{
    fprintf (out, "%s\n", rpt_text (t->title));
    if (t->nrows == 0) {
        fprintf (out, "  %s\n\n", _("(none)"));
        return;
    }
    int *width = calloc ((size_t) t->ncols, sizeof *width);
    if (!width)
        return;
    char buf [128];
    for (int c = 0; c < t->ncols; c++) {
        width [c] = rpt_display_width (s_shown (t, -2, c, buf, sizeof buf));
        for (int i = 0; i < t->nrows; i++) {
            int w = rpt_display_width (s_shown (t, i, c, buf, sizeof buf));
            if (w > width [c])
                width [c] = w;
        }
    }
    for (int row = -2; row < t->nrows; row++) {
        fputs ("  ", out);
        for (int c = 0; c < t->ncols; c++) {
            const char *v = row == -1 ? NULL : s_shown (t, row, c, buf, sizeof buf);
            bool last = c == t->ncols - 1;
            if (!v) {
                for (int i = 0; i < width [c]; i++)
                    fputc ('-', out);
            }
            else {
                int gap = width [c] - rpt_display_width (v);
                if (t->numeric [c])
                    s_pad (out, gap);
                fputs (v, out);
                if (!t->numeric [c] && !last)
                    s_pad (out, gap);
            }
            if (!last)
                fputs ("  ", out);
        }
        fputc ('\n', out);
    }
    fputc ('\n', out);
    free (width);
}

int
rpt_write_table (const rpt_t *self, FILE *out)
{
    fprintf (out, _("Tongxin report: %s (%s)\n"), self->unit_name, self->unit_code);
    //  TRANSLATORS: the period's first day, its last day, the time zone,
    //  the time the report was made.
    fprintf (out, _("Period: %s to %s, days in %s; generated %s\n"),
             *self->from ? self->from : _("the first event"), *self->to ? self->to : self->today,
             self->timezone, self->generated);
    if (self->stale)
        fputs (_("WARNING: the rollups are stale; run SELECT analytics.rebuild_rollups()\n"), out);
    fputc ('\n', out);
    for (int i = 0; i < self->ntables; i++)
        s_write_table (self->tables [i], out);
    return 0;
}

//  A number as PostgreSQL writes one: -?digits[.digits].
static bool
s_is_number (const char *v)
{
    const char *p = v [0] == '-' ? v + 1 : v;
    size_t digits = strspn (p, "0123456789");
    if (digits == 0)
        return false;
    p += digits;
    if (*p == '.') {
        digits = strspn (p + 1, "0123456789");
        if (digits == 0)
            return false;
        p += 1 + digits;
    }
    return *p == 0;
}

//  Would a spreadsheet take a cell beginning so for a formula?  OWASP's
//  list (= + - @ TAB CR), LF, and the full-width forms of the four signs
//  (U+FF1D, U+FF0B, U+FF0D, U+FF20), which some spreadsheet programs in
//  East Asian locales read as the ASCII ones.
static bool
s_formula_like (const char *v)
{
    if (v [0] && strchr ("=+-@\t\r\n", v [0]))
        return true;
    return strncmp (v, "\xef\xbc\x9d", 3) == 0 || strncmp (v, "\xef\xbc\x8b", 3) == 0
        || strncmp (v, "\xef\xbc\x8d", 3) == 0 || strncmp (v, "\xef\xbc\xa0", 3) == 0;
}

//  One CSV field (RFC 4180): quoted when it holds a comma, quote or newline.
//  A text cell that begins like a formula is neutralised by OWASP's CSV
//  injection rule: a single quote in front, the whole cell quoted.  A cell
//  of a numeric column that is a number (e.g. a negative amount) is
//  written as it is, so spreadsheets still read it as a number.
static void
s_csv_field (FILE *out, const char *v, bool numeric)
{
    bool formula = !(numeric && s_is_number (v)) && s_formula_like (v);
    if (!formula && strpbrk (v, ",\"\r\n") == NULL) {
        fputs (v, out);
        return;
    }
    fputc ('"', out);
    if (formula)
        fputc ('\'', out);
    for (const char *p = v; *p; p++) {
        if (*p == '"')
            fputc ('"', out);
        fputc (*p, out);
    }
    fputc ('"', out);
}

static const char *
s_as_is (const char *s)
{
    return s;
}

//  A line "label,value" of the CSV's head.
static void
s_csv_pair (FILE *out, const char *label, const char *value)
{
    s_csv_field (out, label, false);
    fputc (',', out);
    s_csv_field (out, value, false);
    fputs ("\r\n", out);
}

int
rpt_write_csv (const rpt_t *self, FILE *out, bool excel_bom)
{
    //  The BOM tells spreadsheet programs the file is UTF-8.
    if (excel_bom)
        fputs ("\xef\xbb\xbf", out);
    fputs ("unit,", out);
    s_csv_field (out, self->unit_code, false);
    fputs (",", out);
    s_csv_field (out, self->unit_name, false);
    fputs ("\r\n", out);
    s_csv_pair (out, "from", self->from);
    s_csv_pair (out, "to", *self->to ? self->to : self->today);
    s_csv_pair (out, "time zone", self->timezone);
    s_csv_pair (out, "generated", self->generated);
    if (self->stale)
        fputs ("warning,rollups stale: run SELECT analytics.rebuild_rollups()\r\n", out);
    //  Our own words stay English unless a language was asked for.
    const char *(*own) (const char *) = self->translate ? rpt_text : s_as_is;
    for (int i = 0; i < self->ntables; i++) {
        const rpt_table_t *t = self->tables [i];
        fputs ("\r\n", out);
        s_csv_field (out, own (t->title), false);
        fputs ("\r\n", out);
        for (int c = 0; c < t->ncols; c++) {
            if (c)
                fputc (',', out);
            s_csv_field (out, own (t->cols [c]), false);
        }
        fputs ("\r\n", out);
        for (int row = 0; row < t->nrows; row++) {
            for (int c = 0; c < t->ncols; c++) {
                if (c)
                    fputc (',', out);
                const char *v = rpt_cell (t, row, c);
                s_csv_field (out, t->label [c] ? own (v) : v, t->numeric [c]);
            }
            fputs ("\r\n", out);
        }
    }
    return 0;
}
