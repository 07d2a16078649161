/*  report.h: the standard report of tongxin-report, as data.
 *
 *  rpt_load() reads the analytics views (never the tongxin tables) for one
 *  unit subtree and period and returns a report: a header and a list of
 *  tables, each a title, column names and rows of text cells.  The
 *  renderers (render.c: aligned table and CSV; html.c: one page) only walk
 *  that structure.  Every text read from the database is kept escaped
 *  (tx_safetext_escape): no control or direction character reaches any
 *  output; CSV cells are also neutralised against formulas (render.c).
 *
 *  Language: the report holds its headings, column names and its own
 *  labels in English (msgids); the renderers show them through rpt_text,
 *  in the language of the messages (the locale's, or --lang's).  The CSV
 *  keeps them in English unless a language was asked for (translate):
 *  scripts read its headings.  Names read from the registry (types,
 *  attributes' enum values, targets) are read in the report's language
 *  (lang: its labels name_zh / name_en, 009), falling back to the code.
 *
 *  Ownership: rpt_load returns a report the caller frees with
 *  rpt_destroy (safe twice).  Every const char * a function returns is
 *  borrowed from the report.
 */
#ifndef TX_REPORT_H
#define TX_REPORT_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>

//  A table of the report.
typedef struct {
    char *key;                  //  stable id: "targets", "months", ...
    char *title;                //  heading shown above it (English: see rpt_text)
    int ncols;                  //  columns
    char **cols;                //  column names (English: see rpt_text)
    bool *numeric;              //  per column: a number (right-aligned)
    bool *label;                //  per column: cells are the program's own words
    int nrows;                  //  rows
    char **cells;               //  nrows * ncols, "" for NULL; escaped (safetext.h)
} rpt_table_t;

typedef struct {
    char *unit_code;            //  the subtree's root
    char *unit_name;
    char *from;                 //  YYYY-MM-DD, or "" for the first event
    char *to;                   //  YYYY-MM-DD, or "" for today
    char *today;                //  in the organisation's time zone
    char *timezone;             //  the organisation's time zone
    char *generated;            //  "YYYY-MM-DD HH:MM" in that zone
    bool stale;                 //  the rollups need analytics.rebuild_rollups()
    int quiet_days;             //  a pairing is quiet after this many days
    bool zh;                    //  the report's language is Chinese (else English)
    bool translate;             //  the CSV too speaks that language (--lang given)
    int ntables;
    rpt_table_t *tables [24];
} rpt_t;

//  What to report.
typedef struct {
    const char *unit;           //  a code or an exact name; NULL: the root of the unit tree
    const char *from;           //  NULL: from the first event
    const char *to;             //  NULL: up to today
    int quiet_days;             //  pairings quiet this long (at the period's end) are listed
    bool zh;                    //  names from the registry in Chinese (else English)
    bool translate;             //  the CSV's headings and labels in that language too
} rpt_opts_t;

//  Reads the report from the database.  NULL on failure, after printing a
//  one-line error on stderr.
rpt_t *rpt_load (PGconn *db, const rpt_opts_t *opts);

void rpt_destroy (rpt_t **self_p);

//  The table with KEY, or NULL.
const rpt_table_t *rpt_table (const rpt_t *self, const char *key);

//  Cell (row, col) of a table.
const char *rpt_cell (const rpt_table_t *t, int row, int col);

//  Renderers (0, or -1 after a one-line error on stderr).
int rpt_write_table (const rpt_t *self, FILE *out);
int rpt_write_csv (const rpt_t *self, FILE *out, bool excel_bom);
int rpt_write_html (const rpt_t *self, FILE *out);

//  Helpers shared by the renderers (render.c).
//  Columns a UTF-8 string takes in a terminal (East Asian wide: 2).
int rpt_display_width (const char *s);
//  "1234567.5" → "1,234,567.5" into buf; other text is copied.
const char *rpt_group_digits (const char *s, char *buf, size_t len);
//  A large amount the Chinese way, into buf: "600000000" → "6亿",
//  "70000" → "7万", "1234567" → "123.46万" (at most two decimals, trailing
//  zeros dropped); below 10,000 or not a number: as rpt_group_digits.
const char *rpt_cn_amount (const char *s, char *buf, size_t len);
//  The program's own text S (a heading, a column name, a label cell) in
//  the language of the locale; "" stays "".  Data passes unchanged.
const char *rpt_text (const char *s);
//  Print "tongxin-report: FMT" on stderr.
void rpt_error (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

#endif
