/*  html.c: the report as one self-contained HTML page.
 *
 *  Inline CSS and inline SVG only: no scripts, fonts, images or links to
 *  other files, so the page can be mailed or archived as it is.  Each
 *  section is shown once, as a graphic or as a table, never both:
 *  completeness as headline cards and its tables (who is silent, whose
 *  reports are waiting, nil returns), progress toward each target as a bar,
 *  coverage as cards and the "8" provinces as tiles, monthly activity as a
 *  stacked bar chart with its values, outcomes as cards (large amounts the
 *  Chinese way in Chinese: 6亿, with the exact figure under them); the
 *  other sections as tables.  It prints on A4 (print CSS: page margins,
 *  no row or chart cut across pages, headings kept with what follows).
 *  The page speaks the report's language (report.h).
 */
#include "i18n.h"
#include "report.h"

#include <stdlib.h>
#include <string.h>

static void
s_esc (FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
            case '&': fputs ("&amp;", out); break;
            case '<': fputs ("&lt;", out); break;
            case '>': fputs ("&gt;", out); break;
            case '"': fputs ("&quot;", out); break;
            case '\'': fputs ("&#39;", out); break;
            default: fputc (*s, out);
        }
    }
}

static void
s_num (FILE *out, const char *s)
{
    char buf [128];
    s_esc (out, rpt_group_digits (s, buf, sizeof buf));
}

//  "12 pairings", "1,234 events": the number cell V, digits grouped,
//  in the phrase of the locale's plural form for it; escaped.
static void
s_pairings (FILE *out, const char *v)
{
    char num [128], line [256];
    snprintf (line, sizeof line, NG_("%s pairing", "%s pairings", (unsigned long) atol (v)),
              rpt_group_digits (v, num, sizeof num));
    s_esc (out, line);
}

static void
s_events (FILE *out, const char *v)
{
    char num [128], line [256];
    snprintf (line, sizeof line, NG_("%s event", "%s events", (unsigned long) atol (v)),
              rpt_group_digits (v, num, sizeof num));
    s_esc (out, line);
}

static const char *s_style =
    "body{font-family:\"Noto Sans CJK SC\",\"WenQuanYi Micro Hei\",\"Microsoft YaHei\",sans-serif;"
    "margin:2em auto;max-width:60em;padding:0 1em;color:#1f2937}"
    "h1{font-size:1.5em;margin-bottom:.2em}h1 small{color:#6b7280;font-weight:normal}"
    "h2{font-size:1.15em;border-bottom:2px solid #b91c1c;padding-bottom:.2em;margin-top:2em}"
    "h3{font-size:1em;margin:1.2em 0 .3em}"
    ".period{color:#4b5563;margin-top:0}"
    ".warn{background:#fef3c7;border:1px solid #d97706;padding:.5em 1em}"
    ".target{margin:.8em 0}.target .label{margin-bottom:.2em}"
    ".target svg{display:block;width:100%;max-width:40em;height:1.2em}"
    ".tiles{display:flex;flex-wrap:wrap;gap:.5em;margin:.8em 0}"
    ".tile{border-radius:.3em;padding:.4em .7em;min-width:6em;text-align:center}"
    ".tile.on{background:#b91c1c;color:#fff}.tile.off{background:#f3f4f6;color:#6b7280;"
    "border:1px dashed #9ca3af}.tile small{display:block;font-size:.75em}"
    ".figures{display:flex;flex-wrap:wrap;gap:.8em;margin:.8em 0}"
    ".figure{background:#f9fafb;border:1px solid #e5e7eb;border-radius:.3em;padding:.5em .8em;"
    "min-width:8em}"
    ".figure b{display:block;font-size:1.3em}.figure small{display:block;color:#6b7280}"
    ".figure.bad{border-color:#b91c1c;background:#fef2f2}.figure.ok{border-color:#15803d;"
    "background:#f0fdf4}"
    "table{border-collapse:collapse;margin:.5em 0 1em}"
    "th,td{border-bottom:1px solid #e5e7eb;padding:.25em .7em;text-align:left;vertical-align:top}"
    "th{background:#f3f4f6}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".legend span{display:inline-block;width:.9em;height:.9em;margin:0 .3em 0 1em;"
    "vertical-align:middle}"
    "svg text{font-size:12px;fill:#374151}svg text.v{font-size:10px;fill:#111827}"
    "@page{size:A4;margin:14mm 12mm}"
    "@media print{body{margin:0;max-width:none;padding:0;font-size:10pt}"
    "*{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    "h2{margin-top:1.2em;break-after:avoid;page-break-after:avoid}"
    "h3{break-after:avoid;page-break-after:avoid}"
    "tr,.figure,.tile,.target,svg,.legend{break-inside:avoid;page-break-inside:avoid}"
    "thead{display:table-header-group}"
    "th,td{padding:.15em .5em}}";

static void
s_table (FILE *out, const rpt_table_t *t)
{
    fprintf (out, "<table class=\"data\" id=\"t-%s\">\n<thead><tr>", t->key);
    for (int c = 0; c < t->ncols; c++) {
        fputs (t->numeric [c] ? "<th class=\"n\">" : "<th>", out);
        s_esc (out, rpt_text (t->cols [c]));
        fputs ("</th>", out);
    }
    fputs ("</tr></thead>\n<tbody>\n", out);
    for (int i = 0; i < t->nrows; i++) {
        fputs ("<tr>", out);
        for (int c = 0; c < t->ncols; c++) {
            if (t->numeric [c]) {
                fputs ("<td class=\"n\">", out);
                s_num (out, rpt_cell (t, i, c));
            }
            else {
                fputs ("<td>", out);
                s_esc (out, t->label [c] ? rpt_text (rpt_cell (t, i, c)) : rpt_cell (t, i, c));
            }
            fputs ("</td>", out);
        }
        fputs ("</tr>\n", out);
    }
    if (t->nrows == 0) {
        fprintf (out, "<tr><td colspan=\"%d\">", t->ncols);
        s_esc (out, _("(none)"));
        fputs ("</td></tr>\n", out);
    }
    fputs ("</tbody></table>\n", out);
}

//  S escaped, in <span id="ID"> when ID is given; the caller frees it.
static char *
s_span (const char *id, const char *s)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream (&text, &len);
    if (!f)
        return NULL;
    if (id)
        fprintf (f, "<span id=\"%s\">", id);
    s_esc (f, s);
    if (id)
        fputs ("</span>", f);
    if (fclose (f) != 0) {
        free (text);
        return NULL;
    }
    return text;
}

//  Progress toward each target: "cadre: 17 of 100 (17.0%)" and a bar.
static void
s_targets (FILE *out, const rpt_table_t *t)
{
    if (t->nrows == 0) {
        fputs ("<p class=\"none\">", out);
        s_esc (out, _("No target is set for this unit."));
        fputs ("</p>\n", out);
    }
    for (int i = 0; i < t->nrows; i++) {
        double target = atof (rpt_cell (t, i, 1));
        double reached = atof (rpt_cell (t, i, 2));
        double share = target > 0 ? reached / target : 0;
        if (share > 1)
            share = 1;
        fputs ("<div class=\"target\" data-category=\"", out);
        s_esc (out, rpt_cell (t, i, 0));
        fputs ("\"><div class=\"label\"><b>", out);
        s_esc (out, rpt_cell (t, i, 4));
        fputs ("</b>: <span class=\"reached\">", out);
        s_num (out, rpt_cell (t, i, 2));
        fputs ("</span>", out);
        //  TRANSLATORS: between the people reached and the target: "17 of 100".
        s_esc (out, _(" of "));
        fputs ("<span class=\"goal\">", out);
        s_num (out, rpt_cell (t, i, 1));
        fputs ("</span> (<span class=\"percent\">", out);
        s_esc (out, rpt_cell (t, i, 3));
        fputs ("%</span>)</div>\n", out);
        fputs ("<svg viewBox=\"0 0 400 16\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"", out);
        char label [256];
        snprintf (label, sizeof label, _("%s%% of the target"), rpt_cell (t, i, 3));
        s_esc (out, label);
        fprintf (out, "\"><rect width=\"400\" height=\"16\" rx=\"3\" fill=\"#e5e7eb\"/>"
            "<rect width=\"%.1f\" height=\"16\" rx=\"3\" fill=\"#b91c1c\"/></svg></div>\n",
            400 * share);
    }
}

//  Coverage: the headline numbers, then the eight provinces as tiles.
static void
s_coverage (FILE *out, const rpt_table_t *cov, const rpt_table_t *prov)
{
    fputs ("<div class=\"figures\">\n", out);
    //  Every figure but the last (the "8" not yet paired: the tiles below).
    for (int i = 0; cov && i < cov->nrows - 1; i++) {
        fputs ("<div class=\"figure\"><b>", out);
        s_num (out, rpt_cell (cov, i, 1));
        fputs ("</b>", out);
        s_esc (out, rpt_text (rpt_cell (cov, i, 0)));
        fputs ("</div>\n", out);
    }
    fputs ("</div>\n<p>", out);
    s_esc (out, _("The \"8\":"));
    fputs ("</p>\n<div class=\"tiles\" id=\"eight\">\n", out);
    for (int i = 0; prov && i < prov->nrows; i++) {
        if (strcmp (rpt_cell (prov, i, 2), "8") != 0)
            continue;
        bool on = atol (rpt_cell (prov, i, 3)) > 0;
        fprintf (out, "<div class=\"tile %s\" data-province=\"", on ? "on" : "off");
        s_esc (out, rpt_cell (prov, i, 0));
        fputs ("\">", out);
        s_esc (out, rpt_cell (prov, i, 1));
        fputs ("<small>", out);
        if (on)
            s_pairings (out, rpt_cell (prov, i, 3));
        else
            s_esc (out, _("no pairing yet"));
        fputs ("</small></div>\n", out);
    }
    fputs ("</div>\n<p>", out);
    s_esc (out, _("The \"N\":"));
    fputs ("</p>\n<div class=\"tiles\" id=\"n\">\n", out);
    int n = 0;
    for (int i = 0; prov && i < prov->nrows; i++) {
        if (strcmp (rpt_cell (prov, i, 2), "N") != 0 || atol (rpt_cell (prov, i, 3)) == 0)
            continue;
        fputs ("<div class=\"tile on\" data-province=\"", out);
        s_esc (out, rpt_cell (prov, i, 0));
        fputs ("\">", out);
        s_esc (out, rpt_cell (prov, i, 1));
        fputs ("<small>", out);
        s_pairings (out, rpt_cell (prov, i, 3));
        fputs ("</small></div>\n", out);
        n++;
    }
    if (n == 0) {
        fputs ("<div class=\"tile off\">", out);
        s_esc (out, _("none yet"));
        fputs ("</div>\n", out);
    }
    fputs ("</div>\n", out);
}

//  A round step for an axis up to MAX with about four intervals: 1, 2 or
//  5 times a power of ten.
static double
s_nice_step (double max)
{
    double raw = max / 4, power = 1;
    while (power * 10 <= raw)
        power *= 10;
    while (power > raw && power > 1)
        power /= 10;
    double step = power;
    if (raw > step * 5)
        step *= 10;
    else
    if (raw > step * 2)
        step *= 5;
    else
    if (raw > step)
        step *= 2;
    return step < 1 ? 1 : step;
}

//  Monthly activity: stacked bars (with "8", with "N", no partner), the
//  total above each bar, a round scale on the left.
static void
s_months_chart (FILE *out, const rpt_table_t *t)
{
    if (t->nrows == 0) {
        fputs ("<p>", out);
        s_esc (out, _("No events in the period."));
        fputs ("</p>\n", out);
        return;
    }
    const int w = 760, h = 300, left = 64, right = 10, top = 18, bottom = 56;
    double max = 0;
    for (int i = 0; i < t->nrows; i++)
        if (atof (rpt_cell (t, i, 1)) > max)
            max = atof (rpt_cell (t, i, 1));
    double step = s_nice_step (max > 0 ? max : 1);
    int ticks = (int) ((max > 0 ? max : 1) / step + 0.999);
    if (ticks < 1)
        ticks = 1;
    double scale_max = step * ticks;
    double plot_w = w - left - right, plot_h = h - top - bottom;
    double slot = plot_w / t->nrows;
    double bar = slot * 0.7;
    const char *colour [3] = { "#b91c1c", "#2563eb", "#9ca3af" };
    fprintf (out, "<svg id=\"months-chart\" viewBox=\"0 0 %d %d\" width=\"100%%\" role=\"img\""
                  " aria-label=\"", w, h);
    s_esc (out, _("events per month"));
    fputs ("\">\n", out);
    //  The scale: a line and its value at every step; the axis's name.
    for (int g = 0; g <= ticks; g++) {
        double y = top + plot_h - plot_h * g / ticks;
        char v [32], buf [64];
        snprintf (v, sizeof v, "%.0f", step * g);
        fprintf (out, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e7eb\"/>"
                      "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                 left, w - right, y, y, left - 6, y + 4, rpt_group_digits (v, buf, sizeof buf));
    }
    fprintf (out, "<text x=\"14\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 14 %.1f)\">",
             top + plot_h / 2, top + plot_h / 2);
    s_esc (out, rpt_text (t->cols [1]));
    fputs ("</text>\n", out);
    int every = t->nrows > 24 ? (t->nrows + 11) / 12 : 1;
    for (int i = 0; i < t->nrows; i++) {
        double x = left + slot * i + (slot - bar) / 2;
        double y = top + plot_h;
        fputs ("<g class=\"month\"><title>", out);
        s_esc (out, rpt_cell (t, i, 0));
        fputs (": ", out);
        s_events (out, rpt_cell (t, i, 1));
        fputs ("</title>", out);
        for (int k = 0; k < 3; k++) {
            double hk = plot_h * atof (rpt_cell (t, i, 2 + k)) / scale_max;
            if (hk <= 0)
                continue;
            y -= hk;
            fprintf (out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>",
                     x, y, bar, hk, colour [k]);
        }
        //  The month's total above its bar, when there is room for it.
        if (t->nrows <= 36 && atof (rpt_cell (t, i, 1)) > 0) {
            fprintf (out, "<text class=\"v\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
                     x + bar / 2, y - 3);
            s_num (out, rpt_cell (t, i, 1));
            fputs ("</text>", out);
        }
        fputs ("</g>\n", out);
        if (i % every == 0) {
            fprintf (out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"end\" transform=\"rotate(-45 %.1f %d)\">",
                     x + bar / 2, top + (int) plot_h + 14, x + bar / 2, top + (int) plot_h + 14);
            s_esc (out, rpt_cell (t, i, 0));
            fputs ("</text>\n", out);
        }
    }
    fprintf (out, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#6b7280\"/>"
                  "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%.1f\" stroke=\"#6b7280\"/>\n</svg>\n",
             left, w - right, top + plot_h, top + plot_h, left, left, top, top + plot_h);
    //  The legend: the months table's column names.
    fputs ("<p class=\"legend\">", out);
    for (int k = 0; k < 3 && 2 + k < t->ncols; k++) {
        fprintf (out, "<span style=\"background:%s\"></span>", colour [k]);
        s_esc (out, rpt_text (t->cols [2 + k]));
    }
    fputs ("</p>\n", out);
}

//  A card: a big figure (V, written the Chinese way when ZH and large,
//  with the exact number under it then), a label; CLASS "", "ok" or "bad".
static void
s_card (FILE *out, const char *id, const char *cls, const char *v, const char *label, bool zh)
{
    char big [128], exact [128];
    const char *shown = zh ? rpt_cn_amount (v, big, sizeof big) : rpt_group_digits (v, big, sizeof big);
    rpt_group_digits (v, exact, sizeof exact);
    fprintf (out, "<div class=\"figure%s%s\"", *cls ? " " : "", cls);
    if (id)
        fprintf (out, " id=\"%s\"", id);
    fputs ("><b>", out);
    s_esc (out, shown);
    fputs ("</b>", out);
    s_esc (out, label);
    if (strcmp (shown, exact) != 0) {
        fputs ("<small>", out);
        s_esc (out, exact);
        fputs ("</small>", out);
    }
    fputs ("</div>\n", out);
}

//  Completeness: cards (complete, silent, waiting), then the roll-up by
//  kind and the lists of silent units, waiting reports and nil returns.
static void
s_completeness (FILE *out, const rpt_t *self)
{
    const rpt_table_t *sum = rpt_table (self, "completeness");
    const rpt_table_t *silent = rpt_table (self, "silent");
    const rpt_table_t *waiting = rpt_table (self, "waiting");
    const rpt_table_t *nil = rpt_table (self, "nil_returns");
    if (!sum || !silent || !waiting || !nil)
        return;
    //  Row 0 of the roll-up is all units: units, reported, nil, silent, waiting.
    long units = sum->nrows ? atol (rpt_cell (sum, 0, 1)) : 0;
    long complete = sum->nrows ? atol (rpt_cell (sum, 0, 2)) + atol (rpt_cell (sum, 0, 3)) : 0;
    char v [32], label [256];
    fputs ("<div class=\"figures\">\n", out);
    snprintf (v, sizeof v, "%ld", complete);
    //  TRANSLATORS: under the number of complete units: "of 58 units complete".
    snprintf (label, sizeof label, _("of %ld units complete"), units);
    s_card (out, "complete", complete == units ? "ok" : "", v, label, false);
    snprintf (v, sizeof v, "%d", silent->nrows);
    s_card (out, "silent-units", silent->nrows ? "bad" : "ok", v, _("units silent"), false);
    snprintf (v, sizeof v, "%d", waiting->nrows);
    s_card (out, "waiting-units", waiting->nrows ? "bad" : "ok", v, _("units with reports waiting"), false);
    if (waiting->nrows) {
        //  The first row is the oldest.
        const char *days = rpt_cell (waiting, 0, 4);
        snprintf (label, sizeof label, _("days: the oldest waiting report (%s)"), rpt_cell (waiting, 0, 1));
        s_card (out, "oldest-waiting", "bad", *days ? days : "0", label, false);
    }
    snprintf (v, sizeof v, "%d", nil->nrows);
    s_card (out, "nil-units", "", v, _("units filed a nil return"), false);
    fputs ("</div>\n", out);
    s_table (out, sum);
    const rpt_table_t *lists [3] = { silent, waiting, nil };
    for (int i = 0; i < 3; i++) {
        fputs ("<h3>", out);
        s_esc (out, rpt_text (lists [i]->title));
        fputs ("</h3>\n", out);
        s_table (out, lists [i]);
    }
}

//  Outcomes: one card per figure.
static void
s_outcomes (FILE *out, const rpt_table_t *t, bool zh)
{
    fputs ("<div class=\"figures\" id=\"outcome-cards\">\n", out);
    for (int i = 0; i < t->nrows; i++)
        s_card (out, NULL, "", rpt_cell (t, i, 1), rpt_text (rpt_cell (t, i, 0)), zh);
    fputs ("</div>\n", out);
}

//  <section id="KEY"><h2>title</h2>
static void
s_section_start (FILE *out, const rpt_table_t *t)
{
    fprintf (out, "<section id=\"%s\">\n<h2>", t->key);
    s_esc (out, rpt_text (t->title));
    fputs ("</h2>\n", out);
}

int
rpt_write_html (const rpt_t *self, FILE *out)
{
    fprintf (out, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
             self->zh ? "zh-CN" : "en");
    s_esc (out, _("Tongxin report"));
    fputs (": ", out);
    s_esc (out, self->unit_name);
    fprintf (out, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>", s_style);
    s_esc (out, _("Tongxin report"));
    fputs (": ", out);
    s_esc (out, self->unit_name);
    fputs (" <small>(", out);
    s_esc (out, self->unit_code);
    fputs (")</small></h1>\n<p class=\"period\">", out);
    //  The table's line, each value in its element (escaped first).
    char *from = s_span ("from", *self->from ? self->from : _("the first event"));
    char *to = s_span ("to", *self->to ? self->to : self->today);
    char *zone = s_span (NULL, self->timezone);
    char *made = s_span (NULL, self->generated);
    if (from && to && zone && made)
        fprintf (out, _("Period: %s to %s, days in %s; generated %s\n"), from, to, zone, made);
    free (from);
    free (to);
    free (zone);
    free (made);
    fputs ("</p>\n", out);
    if (self->stale) {
        fputs ("<p class=\"warn\">", out);
        s_esc (out, _("WARNING: the rollups are stale; run SELECT analytics.rebuild_rollups()\n"));
        fputs ("</p>\n", out);
    }

    //  Every table once, in the report's order: as its graphic where it
    //  has one, else as a table (the completeness lists go with their cards).
    for (int i = 0; i < self->ntables; i++) {
        const rpt_table_t *t = self->tables [i];
        if (strcmp (t->key, "silent") == 0 || strcmp (t->key, "waiting") == 0
        ||  strcmp (t->key, "nil_returns") == 0)
            continue;
        s_section_start (out, t);
        if (strcmp (t->key, "completeness") == 0)
            s_completeness (out, self);
        else
        if (strcmp (t->key, "targets") == 0)
            s_targets (out, t);
        else
        if (strcmp (t->key, "coverage") == 0)
            s_coverage (out, t, rpt_table (self, "provinces"));
        else
        if (strcmp (t->key, "months") == 0)
            s_months_chart (out, t);
        else
        if (strcmp (t->key, "outcomes") == 0)
            s_outcomes (out, t, self->zh);
        else
            s_table (out, t);
        fputs ("</section>\n", out);
    }
    fputs ("</body>\n</html>\n", out);
    return 0;
}
