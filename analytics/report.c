/*  report.c: read the standard report from the analytics views.
 *
 *  Completeness comes first: per unit of the subtree, whether it reported
 *  in the period, filed a nil return for it or stayed silent
 *  (analytics.completeness), the roll-up by kind, and the producers with
 *  reports waiting in their spool (backlog, as the collectors last knew it).
 *  Figures for the period come from analytics.activity_monthly for the
 *  whole months inside [from, to] and from analytics.event_facts for the
 *  days of the partial months at either end, so a period need not start on
 *  the first of a month and the answer is still read from the rollups.
 *  Coverage is the state of today; quiet pairings are measured at the
 *  period's last day.
 */
#include "report.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "pgmsg.h"
#include "safetext.h"

//  Sections of the report: key, heading, columns.  Headings and column
//  names are English in the report (the CSV writes them so: scripts read
//  them) and translated by the renderers for people (table, page).
typedef struct {
    const char *name;               //  column name (a msgid)
    bool numeric;                   //  a number, right-aligned
    bool label;                     //  cells are our own words (msgids), not data
} column_t;

typedef struct {
    const char *key;
    const char *title;
    column_t cols [8];              //  up to the first without a name
} section_t;

//  The sections, in the order of s_sections.
enum { S_COMPLETE, S_SILENT, S_WAITING, S_NIL, S_TARGETS, S_COVERAGE, S_PROVINCES, S_MONTHS,
       S_TYPES, S_OUTCOMES, S_PARTNERS, S_QUIET };

#define TEXT(name)  { name, false, false }
#define NUM(name)   { name, true, false }
#define LABEL(name) { name, false, true }
static const section_t s_sections [] = {
    { "completeness", N_("Completeness of the period: units that reported, filed a nil return or stayed silent"),
      { LABEL (N_("kind")), NUM (N_("units")), NUM (N_("reported")), NUM (N_("nil return")),
        NUM (N_("silent")), NUM (N_("reports waiting")) } },
    { "silent", N_("Units silent in the period (no event, no nil return)"),
      { TEXT (N_("unit")), TEXT (N_("unit name")), LABEL (N_("kind")), TEXT (N_("under")),
        LABEL (N_("last event")), NUM (N_("days silent at the period's end")) } },
    { "waiting", N_("Units with reports waiting to be delivered (now)"),
      { TEXT (N_("unit")), TEXT (N_("unit name")), NUM (N_("reports waiting")),
        TEXT (N_("oldest waiting since")), NUM (N_("days waiting")), TEXT (N_("last seen")) } },
    { "nil_returns", N_("Nil returns for the period"),
      { TEXT (N_("unit")), TEXT (N_("unit name")), NUM (N_("nil returns")), TEXT (N_("filed")) } },
    { "targets", N_("百千万 targets: people paired across provinces"),
      { TEXT (N_("category")), NUM (N_("target")), NUM (N_("reached")),
        NUM (N_("percent")), TEXT (N_("description")) } },
    { "coverage", N_("\"8+N\" pairing coverage (today)"),
      { LABEL (N_("figure")), TEXT (N_("value")) } },
    { "provinces", N_("Partner provinces (today: pairings; period: events)"),
      { TEXT (N_("province")), TEXT (N_("name")), TEXT (N_("group")), NUM (N_("pairings")),
        NUM (N_("paired units")), NUM (N_("events")) } },
    { "months", N_("Activity by month"),
      { TEXT (N_("month")), NUM (N_("events")), NUM (N_("with \"8\"")),
        NUM (N_("with \"N\"")), NUM (N_("no partner")) } },
    { "types", N_("Activity by type"),
      { TEXT (N_("type")), NUM (N_("events")), TEXT (N_("description")), TEXT (N_("code")) } },
    { "outcomes", N_("Outcomes"),
      { LABEL (N_("figure")), NUM (N_("value")) } },
    { "partners", N_("Economic outcomes, donations and aid by partner"),
      { TEXT (N_("partner")), TEXT (N_("name")), NUM (N_("investment (yuan)")), NUM (N_("jobs")),
        NUM (N_("annual output (yuan)")), NUM (N_("donations (yuan)")),
        NUM (N_("aided students")) } },
    { "quiet", N_("Quiet pairings (no event for the set number of days, at the period's end)"),
      { TEXT (N_("unit")), TEXT (N_("unit name")), TEXT (N_("partner")), TEXT (N_("partner name")),
        LABEL (N_("last event")), NUM (N_("quiet days")) } },
};
#define NSECTIONS (int) (sizeof s_sections / sizeof s_sections [0])

//  Unit kinds (tongxin.units.kind) as people name them; "" is all kinds.
static const struct {
    const char *kind;
    const char *label;
} s_kinds [] = {
    { "", N_("all units") },
    { "district", N_("district") }, { "department", N_("departments") },
    { "township", N_("townships") }, { "subdistrict", N_("sub-districts") },
    { "village", N_("villages") }, { "community", N_("communities") },
    { "party_org", N_("party organisations") }, { "station", N_("stations") },
    { "enterprise", N_("enterprises") }, { "school", N_("schools") },
};

//  The rows of "outcomes" and "coverage", in the order of their numbers in
//  the queries below (1 is the first).
static const char *s_outcome_labels [] = {
    N_("investment (yuan)"), N_("jobs created"), N_("expected annual output (yuan)"),
    N_("donations (yuan)"), N_("students in one-to-one aid"),
    N_("party-building instructors dispatched"), N_("new-sector party organisations"),
    N_("health stations"), N_("rider homes"), N_("outdoor workers' stations"),
    N_("gig workers served"), N_("lane advisers enrolled"), N_("governance activities"),
    N_("governance reports filed"),
};
static const char *s_coverage_labels [] = {
    N_("units"), N_("departments taking part"), N_("townships and sub-districts taking part"),
    N_("units with a pairing"), N_("units paired with the \"8\""),
    N_("units paired with the \"N\""), N_("pairings"), N_("partner provinces"),
    N_("of the \"8\" (of 8)"), N_("of the \"N\""), N_("the \"8\" not yet paired"),
};
#define NLABELS(a) (int) (sizeof a / sizeof a [0])

//  "last event" of a pairing that never had one.
static const char *s_never = N_("never");

//  The period [from, to] as whole months (read from the rollups) and up to
//  two runs of days at its ends (read from the events); $1 from, $2 to.
static const char *s_bounds_sql =
    "WITH b AS ("
    "  SELECT coalesce($1::date, '-infinity') AS lo, coalesce($2::date, 'infinity') AS hi,"
    "         analytics.org_timezone() AS tz"
    "), m AS ("
    "  SELECT lo, hi, tz, hi + 1 AS h,"
    "         CASE WHEN isfinite(lo) THEN (date_trunc('month', lo - 1) + interval '1 month')::date"
    "              ELSE lo END AS mlo,"
    "         CASE WHEN isfinite(hi) THEN date_trunc('month', hi + 1)::date ELSE hi END AS mhi"
    "    FROM b"
    "), f AS (SELECT *, mlo < mhi AS whole FROM m) "
    "SELECT CASE WHEN whole THEN mlo ELSE 'infinity' END::text,"
    "       CASE WHEN whole THEN mhi ELSE 'infinity' END::text,"
    "       (lo::timestamp AT TIME ZONE tz)::text,"
    "       (CASE WHEN whole THEN mlo ELSE h END::timestamp AT TIME ZONE tz)::text,"
    "       (CASE WHEN whole THEN mhi ELSE h END::timestamp AT TIME ZONE tz)::text,"
    "       (h::timestamp AT TIME ZONE tz)::text"
    "  FROM f";

//  Every figure of the period in one pass: $1 unit, $2..$3 the whole
//  months [from, to), $4..$5 and $6..$7 the runs of days (timestamps), $8
//  the language of the registry's names ('zh' or 'en').  Nil returns are
//  not activity: they are left out (the completeness section lists them).
//  Rows: section number (S_*), row number, up to seven text cells.
static const char *s_period_sql =
    "WITH per AS MATERIALIZED ("
    "  SELECT a.month, a.type, a.variant, a.partner_region, a.partner_province, a.partner_group,"
    "         a.events, a.people, a.amount_yuan, a.jobs, a.annual_output_yuan, a.students,"
    "         a.workers, a.instructors, a.advisers, a.reports"
    "    FROM analytics.activity_monthly a"
    "   WHERE a.unit_code = $1 AND a.month >= $2::date AND a.month < $3::date"
    "     AND a.type <> 'nil_return'"
    "  UNION ALL"
    "  SELECT f.month, f.type, nullif(f.variant, ''), f.partner_region, g.province_code,"
    "         g.partner_group, 1, f.people, f.amount_yuan, f.jobs, f.annual_output_yuan,"
    "         f.students, f.workers, f.instructors, f.advisers, f.reports"
    "    FROM analytics.event_facts f"
    "    JOIN analytics.unit_tree t ON t.descendant = f.unit_code AND t.ancestor = $1"
    "    LEFT JOIN analytics.regions g ON g.region_code = f.partner_region"
    "   WHERE ((f.occurred_at >= $4::timestamptz AND f.occurred_at < $5::timestamptz)"
    "      OR (f.occurred_at >= $6::timestamptz AND f.occurred_at < $7::timestamptz))"
    "     AND f.type <> 'nil_return'"
    "), months AS ("
    "  SELECT month, sum(events) AS events,"
    "         coalesce(sum(events) FILTER (WHERE partner_group = '8'), 0) AS e8,"
    "         coalesce(sum(events) FILTER (WHERE partner_group = 'N'), 0) AS en,"
    "         coalesce(sum(events) FILTER (WHERE partner_region IS NULL), 0) AS e0"
    "    FROM per GROUP BY month"
    "), ev AS ("
    "  SELECT partner_province, sum(events) AS events FROM per"
    "   WHERE partner_province IS NOT NULL GROUP BY 1"
    "), s AS ("
    "  SELECT"
    "   coalesce(sum(amount_yuan) FILTER (WHERE type = 'investment'), 0) AS inv,"
    "   coalesce(sum(jobs) FILTER (WHERE type = 'investment'), 0) AS jobs,"
    "   coalesce(sum(annual_output_yuan) FILTER (WHERE type = 'investment'), 0) AS output,"
    "   coalesce(sum(amount_yuan) FILTER (WHERE type = 'donation'), 0) AS donated,"
    "   coalesce(sum(students) FILTER (WHERE type = 'student_aid'), 0) AS aided,"
    "   coalesce(sum(instructors) FILTER (WHERE type = 'instructor_dispatched'), 0) AS instructors,"
    "   coalesce(sum(events) FILTER (WHERE type = 'party_org_founded'), 0) AS orgs,"
    "   coalesce(sum(events) FILTER (WHERE type = 'station_opened' AND variant = 'health_station'), 0) AS health,"
    "   coalesce(sum(events) FILTER (WHERE type = 'station_opened' AND variant = 'rider_home'), 0) AS rider,"
    "   coalesce(sum(events) FILTER (WHERE type = 'station_opened' AND variant = 'outdoor_station'), 0) AS outdoor,"
    "   coalesce(sum(workers) FILTER (WHERE type = 'workers_served'), 0) AS workers,"
    "   coalesce(sum(advisers) FILTER (WHERE type = 'lane_adviser_enrolled'), 0) AS advisers,"
    "   coalesce(sum(events) FILTER (WHERE type = 'governance_activity'), 0) AS gov,"
    "   coalesce(sum(reports) FILTER (WHERE type = 'governance_report'), 0) AS reports"
    "   FROM per"
    ") "
    //  4 targets: those set for the unit (the root: also those set for no unit)
    "SELECT 4 AS s, row_number() OVER (ORDER BY t.target, t.category) AS n, t.category,"
    "       t.target::text, coalesce(sum(p.people), 0)::text,"
    "       round(100 * coalesce(sum(p.people), 0) / t.target, 1)::text,"
    "       CASE WHEN $8 = 'zh' THEN coalesce(t.description_zh, t.description) ELSE t.description END,"
    "       NULL, NULL"
    "  FROM analytics.targets t"
    "  LEFT JOIN per p ON p.type = 'people_paired' AND p.variant = t.category"
    " WHERE t.unit_code = $1"
    "    OR (t.unit_code IS NULL"
    "        AND (SELECT parent_code IS NULL FROM analytics.units WHERE unit_code = $1))"
    " GROUP BY t.category, t.target, t.description, t.description_zh "
    //  6 provinces: today's pairings, the period's events
    "UNION ALL "
    "SELECT 6, row_number() OVER (ORDER BY c.partner_group, c.pairings DESC,"
    "                                      coalesce(ev.events, 0) DESC, c.province_code),"
    "       c.province_code, c.province_name, c.partner_group, c.pairings::text,"
    "       c.paired_units::text, coalesce(ev.events, 0)::text, NULL"
    "  FROM analytics.province_coverage c"
    "  LEFT JOIN ev ON ev.partner_province = c.province_code"
    " WHERE c.unit_code = $1 AND (c.partner_group = '8' OR c.pairings > 0 OR ev.events > 0) "
    //  7 months, every month from the first to the last
    "UNION ALL "
    "SELECT 7, row_number() OVER (ORDER BY x.month), to_char(x.month, 'YYYY-MM'),"
    "       coalesce(months.events, 0)::text, coalesce(months.e8, 0)::text,"
    "       coalesce(months.en, 0)::text, coalesce(months.e0, 0)::text, NULL, NULL"
    "  FROM (SELECT generate_series(min(month), max(month), interval '1 month')::date AS month"
    "          FROM months) x"
    "  LEFT JOIN months ON months.month = x.month "
    //  8 types: the registry's name and description in the language
    "UNION ALL "
    "SELECT 8, row_number() OVER (ORDER BY sum(p.events) DESC, p.type),"
    "       CASE WHEN $8 = 'zh' THEN coalesce(et.name_zh, p.type) ELSE coalesce(et.name_en, p.type) END,"
    "       sum(p.events)::text,"
    "       CASE WHEN $8 = 'zh' THEN coalesce(et.description_zh, et.description, '')"
    "            ELSE coalesce(et.description, '') END,"
    "       p.type, NULL, NULL, NULL"
    "  FROM per p LEFT JOIN analytics.event_types et ON et.type_code = p.type"
    " GROUP BY p.type, et.name_zh, et.name_en, et.description, et.description_zh "
    //  9 outcomes
    "UNION ALL "
    //  (the labels are s_outcome_labels [n - 1])
    "SELECT 9, f.n, f.n::text, f.value::text, NULL, NULL, NULL, NULL, NULL FROM s,"
    " LATERAL (VALUES (1, s.inv), (2, s.jobs), (3, s.output), (4, s.donated), (5, s.aided),"
    "                 (6, s.instructors), (7, s.orgs), (8, s.health), (9, s.rider),"
    "                 (10, s.outdoor), (11, s.workers), (12, s.advisers), (13, s.gov),"
    "                 (14, s.reports))"
    "        AS f (n, value) "
    //  10 partners
    "UNION ALL "
    "SELECT 10, row_number() OVER (ORDER BY coalesce(sum(p.amount_yuan) FILTER (WHERE p.type = 'investment'), 0) DESC,"
    "                                      coalesce(sum(p.amount_yuan) FILTER (WHERE p.type = 'donation'), 0) DESC,"
    "                                      p.partner_region),"
    "       p.partner_region, coalesce(g.name, ''),"
    "       coalesce(sum(p.amount_yuan) FILTER (WHERE p.type = 'investment'), 0)::text,"
    "       coalesce(sum(p.jobs) FILTER (WHERE p.type = 'investment'), 0)::text,"
    "       coalesce(sum(p.annual_output_yuan) FILTER (WHERE p.type = 'investment'), 0)::text,"
    "       coalesce(sum(p.amount_yuan) FILTER (WHERE p.type = 'donation'), 0)::text,"
    "       coalesce(sum(p.students) FILTER (WHERE p.type = 'student_aid'), 0)::text"
    "  FROM per p LEFT JOIN analytics.regions g ON g.region_code = p.partner_region"
    " WHERE p.type IN ('investment', 'donation', 'student_aid') AND p.partner_region IS NOT NULL"
    " GROUP BY p.partner_region, g.name "
    "ORDER BY 1, 2";

//  Today's state: $1 unit (the labels are s_coverage_labels [n - 1]).
static const char *s_coverage_sql =
    "SELECT f.n::text, f.value FROM analytics.pairing_coverage c,"
    " LATERAL (SELECT coalesce(sum(k.reporting_units) FILTER (WHERE k.kind = 'department'), 0) AS depts,"
    "                 coalesce(sum(k.reporting_units) FILTER (WHERE k.kind IN ('township', 'subdistrict')), 0)"
    "                   AS towns"
    "            FROM analytics.coverage_by_kind k WHERE k.unit_code = c.unit_code) t,"
    " LATERAL (VALUES (1, c.units::text), (2, t.depts::text), (3, t.towns::text),"
    "                 (4, c.paired_units::text), (5, c.paired_units_8::text),"
    "                 (6, c.paired_units_n::text), (7, c.pairings::text),"
    "                 (8, c.provinces::text), (9, c.provinces_8::text),"
    "                 (10, c.provinces_n::text),"
    "                 (11, array_to_string(c.missing_8, ', ')))"
    "        AS f (n, value)"
    " WHERE c.unit_code = $1 ORDER BY f.n";

//  $1 unit, $2 quiet days, $3 s_never, $4 the period's last day.
static const char *s_quiet_sql =
    "SELECT a.unit_code, a.unit_name, a.region_code, coalesce(a.region_name, ''),"
    "       coalesce(a.last_event_day::text, $3), a.quiet_days::text"
    "  FROM analytics.pairing_activity_at($4::date) a"
    " WHERE $1 = ANY (a.path) AND (a.quiet_days >= $2::int OR a.last_event_day IS NULL)"
    " ORDER BY a.quiet_days DESC NULLS FIRST, a.unit_code, a.region_code";

//  Completeness of the days $2..$3 for the units of $1's subtree; $4
//  s_never.  Rows: section (S_COMPLETE..S_NIL), row number, cells.  The
//  kind cells hold kind codes ('' for all kinds): s_table_kinds names them.
static const char *s_complete_sql =
    "WITH c AS MATERIALIZED ("
    "  SELECT c.* FROM analytics.completeness($2::date, $3::date) c"
    "    JOIN analytics.unit_tree t ON t.descendant = c.unit_code AND t.ancestor = $1"
    "), z AS (SELECT analytics.org_timezone() AS tz) "
    "SELECT 0 AS s,"
    "       CASE WHEN grouping(c.unit_kind) = 1 THEN 0"
    "            ELSE coalesce(array_position(ARRAY['district', 'department', 'township',"
    "                   'subdistrict', 'village', 'community', 'party_org', 'station',"
    "                   'enterprise', 'school'], c.unit_kind::text), 99) END AS n,"
    "       CASE WHEN grouping(c.unit_kind) = 1 THEN '' ELSE c.unit_kind END,"
    "       count(*)::text, count(*) FILTER (WHERE c.status = 'reported')::text,"
    "       count(*) FILTER (WHERE c.status = 'nil_return')::text,"
    "       count(*) FILTER (WHERE c.status = 'silent')::text,"
    "       count(*) FILTER (WHERE c.backlog > 0)::text, NULL"
    "  FROM c GROUP BY ROLLUP (c.unit_kind) "
    "UNION ALL "
    "SELECT 1, row_number() OVER (ORDER BY c.silent_days DESC NULLS FIRST, c.unit_code),"
    "       c.unit_code, c.unit_name, c.unit_kind, coalesce(p.name, ''),"
    "       coalesce(to_char(c.last_event_at AT TIME ZONE z.tz, 'YYYY-MM-DD'), $4),"
    "       coalesce(c.silent_days::text, ''), NULL"
    "  FROM c CROSS JOIN z LEFT JOIN analytics.units p ON p.unit_code = c.parent_code"
    " WHERE c.status = 'silent' "
    "UNION ALL "
    "SELECT 2, row_number() OVER (ORDER BY c.oldest_waiting_at NULLS LAST, c.unit_code),"
    "       c.unit_code, c.unit_name, c.backlog::text,"
    "       coalesce(to_char(c.oldest_waiting_at AT TIME ZONE z.tz, 'YYYY-MM-DD HH24:MI'), ''),"
    "       coalesce(round(extract(epoch FROM now() - c.oldest_waiting_at) / 86400, 1)::text, ''),"
    "       coalesce(to_char(c.last_seen_at AT TIME ZONE z.tz, 'YYYY-MM-DD HH24:MI'), ''), NULL"
    "  FROM c CROSS JOIN z WHERE c.backlog > 0 "
    "UNION ALL "
    "SELECT 3, row_number() OVER (ORDER BY c.unit_code), c.unit_code, c.unit_name,"
    "       c.nil_returns::text,"
    "       coalesce(to_char(c.nil_return_filed_at AT TIME ZONE z.tz, 'YYYY-MM-DD HH24:MI'), ''),"
    "       NULL, NULL, NULL"
    "  FROM c CROSS JOIN z WHERE c.nil_returns > 0 "
    "ORDER BY 1, 2";

void
rpt_error (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    fputs ("tongxin-report: ", stderr);
    vfprintf (stderr, fmt, ap);
    fputc ('\n', stderr);
    va_end (ap);
}

static char *
s_strdup (const char *s)
{
    char *copy = strdup (s ? s : "");
    if (!copy) {
        rpt_error ("%s", _("out of memory"));
        exit (1);
    }
    return copy;
}

//  A value read from the database, with every control and direction
//  character written visibly (safetext.h): no renderer passes a name's
//  escape sequence or newline on to a terminal, a CSV reader or a page.
static char *
s_dbtext (const char *s)
{
    char *copy = tx_safetext_escape (s ? s : "");
    if (!copy) {
        rpt_error ("%s", _("out of memory"));
        exit (1);
    }
    return copy;
}

static void
s_table_destroy (rpt_table_t **self_p)
{
    rpt_table_t *self = *self_p;
    if (!self)
        return;
    for (int c = 0; c < self->ncols; c++)
        free (self->cols [c]);
    for (int i = 0; i < self->nrows * self->ncols; i++)
        free (self->cells [i]);
    free (self->cols);
    free (self->numeric);
    free (self->label);
    free (self->cells);
    free (self->key);
    free (self->title);
    free (self);
    *self_p = NULL;
}

void
rpt_destroy (rpt_t **self_p)
{
    rpt_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; i < self->ntables; i++)
        s_table_destroy (&self->tables [i]);
    free (self->unit_code);
    free (self->unit_name);
    free (self->from);
    free (self->to);
    free (self->today);
    free (self->timezone);
    free (self->generated);
    free (self);
    *self_p = NULL;
}

const rpt_table_t *
rpt_table (const rpt_t *self, const char *key)
{
    for (int i = 0; i < self->ntables; i++)
        if (strcmp (self->tables [i]->key, key) == 0)
            return self->tables [i];
    return NULL;
}

const char *
rpt_cell (const rpt_table_t *t, int row, int col)
{
    return t->cells [row * t->ncols + col];
}

//  The first line of the error, without "ERROR:  ".
static const char *
s_pg_error (PGconn *db, PGresult *r, char *buf, size_t len)
{
    const char *msg = r ? PQresultErrorField (r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    return tx_pg_first_line (msg ? msg : PQerrorMessage (db), buf, len);
}

static PGresult *
s_query (PGconn *db, const char *what, const char *sql, int nparams, const char *const *params)
{
    PGresult *r = PQexecParams (db, sql, nparams, NULL, params, NULL, NULL, 0);    if (PQresultStatus (r) == PGRES_TUPLES_OK || PQresultStatus (r) == PGRES_COMMAND_OK)
        return r;
    char line [512];
    const char *state = PQresultErrorField (r, PG_DIAG_SQLSTATE);
    if (state && (strcmp (state, "42P01") == 0 || strcmp (state, "3F000") == 0
              ||  strcmp (state, "42883") == 0))
        rpt_error (_("%s: the database has no analytics views (run 'tongxin-admin migrate'): %s"),
                   what, s_pg_error (db, r, line, sizeof line));
    else
        rpt_error ("%s: %s", what, s_pg_error (db, r, line, sizeof line));
    PQclear (r);
    return NULL;
}

static void *
s_calloc (size_t n, size_t size)
{
    void *p = calloc (n ? n : 1, size);
    if (!p) {
        rpt_error ("%s", _("out of memory"));
        exit (1);
    }
    return p;
}

//  A new, empty table for section S.
static rpt_table_t *
s_table_new (const section_t *sec)
{
    rpt_table_t *t = s_calloc (1, sizeof *t);
    t->key = s_strdup (sec->key);
    t->title = s_strdup (sec->title);
    while (t->ncols < (int) (sizeof sec->cols / sizeof sec->cols [0]) && sec->cols [t->ncols].name)
        t->ncols++;
    t->cols = s_calloc ((size_t) t->ncols, sizeof *t->cols);
    t->numeric = s_calloc ((size_t) t->ncols, sizeof *t->numeric);
    t->label = s_calloc ((size_t) t->ncols, sizeof *t->label);
    for (int c = 0; c < t->ncols; c++) {
        t->cols [c] = s_strdup (sec->cols [c].name);
        t->numeric [c] = sec->cols [c].numeric;
        t->label [c] = sec->cols [c].label;
    }
    return t;
}

//  Column 0 of T holds row numbers n: puts LABELS [n - 1] there instead.
static void
s_table_labels (rpt_table_t *t, const char **labels, int nlabels)
{
    for (int i = 0; i < t->nrows; i++) {
        char **cell = &t->cells [i * t->ncols];
        int n = atoi (*cell);
        free (*cell);
        *cell = s_strdup (n >= 1 && n <= nlabels ? labels [n - 1] : "");
    }
}

//  Column COL of T holds unit kinds: puts their labels (msgids) there.
static void
s_table_kinds (rpt_table_t *t, int col)
{
    for (int i = 0; i < t->nrows; i++) {
        char **cell = &t->cells [i * t->ncols + col];
        for (int k = 0; k < (int) (sizeof s_kinds / sizeof s_kinds [0]); k++)
            if (strcmp (*cell, s_kinds [k].kind) == 0) {
                free (*cell);
                *cell = s_strdup (s_kinds [k].label);
                break;
            }
    }
}

//  Adds the rows of R (column 0 a section number, 1 a row number, cells
//  from 2 on) to the tables of their sections.
static void s_table_add (rpt_table_t *t, PGresult *r, int first, int last, int offset);
static void
s_sections_add (rpt_t *self, PGresult *r)
{
    for (int i = 0; i < PQntuples (r); ) {
        int sec = atoi (PQgetvalue (r, i, 0));
        int j = i;
        while (j < PQntuples (r) && atoi (PQgetvalue (r, j, 0)) == sec)
            j++;
        if (sec >= 0 && sec < NSECTIONS)
            s_table_add (self->tables [sec], r, i, j, 2);
        i = j;
    }
}

const char *
rpt_text (const char *s)
{
    //  (gettext's answer to "" is the catalogue's header)
    return s && *s ? _(s) : "";
}

//  Appends rows [first, last) of R, cells from column OFFSET on.
static void
s_table_add (rpt_table_t *t, PGresult *r, int first, int last, int offset)
{
    int add = last - first;
    if (add <= 0)
        return;
    char **cells = realloc (t->cells, (size_t) ((t->nrows + add) * t->ncols) * sizeof *cells);
    if (!cells) {
        rpt_error ("%s", _("out of memory"));
        exit (1);
    }
    t->cells = cells;
    for (int i = first; i < last; i++, t->nrows++)
        for (int c = 0; c < t->ncols; c++) {
            int col = offset + c;
            bool null = col >= PQnfields (r) || PQgetisnull (r, i, col);
            t->cells [t->nrows * t->ncols + c] = s_dbtext (null ? "" : PQgetvalue (r, i, col));
        }
}

rpt_t *
rpt_load (PGconn *db, const rpt_opts_t *opts)
{
    rpt_t *self = calloc (1, sizeof *self);
    if (!self) {
        rpt_error ("%s", _("out of memory"));
        return NULL;
    }
    self->quiet_days = opts->quiet_days;
    self->zh = opts->zh;
    self->translate = opts->translate;
    //  One snapshot for every query; no JIT (its start-up costs more than
    //  these small queries take).
    PGresult *r = s_query (db, _("starting"), "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL);
    if (!r)
        goto fail;
    PQclear (r);
    r = s_query (db, _("starting"), "SET LOCAL jit = off", 0, NULL);
    if (!r)
        goto fail;
    PQclear (r);

    //  The unit: by code, else by its exact name (which must name one).
    const char *unit = opts->unit;
    r = s_query (db, _("finding the unit"),
        "SELECT u.unit_code, u.name, s.settings_timezone, s.stale,"
        "       to_char(now() AT TIME ZONE s.settings_timezone, 'YYYY-MM-DD HH24:MI'),"
        "       (now() AT TIME ZONE s.settings_timezone)::date::text,"
        "       coalesce($2::date::text, ''), coalesce($3::date::text, '')"
        "  FROM analytics.units u CROSS JOIN analytics.rollup_status s"
        " WHERE u.unit_code = $1::text"
        "    OR (u.name = $1::text"
        "        AND NOT EXISTS (SELECT 1 FROM analytics.units c WHERE c.unit_code = $1::text))"
        "    OR ($1::text IS NULL AND u.unit_code = (SELECT unit_code FROM analytics.units"
        "                                       WHERE parent_code IS NULL"
        "                                       ORDER BY descendants DESC, unit_code LIMIT 1))"
        " ORDER BY u.unit_code",
        3, (const char *[]) { unit, opts->from, opts->to });
    if (!r)
        goto fail;
    if (PQntuples (r) != 1) {
        if (PQntuples (r) > 1) {
            char *name = s_dbtext (unit);
            char codes [512] = "";
            size_t o = 0;
            for (int i = 0; i < PQntuples (r) && o < sizeof codes - 1; i++)
                o += (size_t) snprintf (codes + o, sizeof codes - o, "%s%s", i ? ", " : "",
                                        PQgetvalue (r, i, 0));
            rpt_error (_("'%s' is the name of %d units (%s): give the code"), name,
                       PQntuples (r), codes);
            free (name);
        }
        else
        if (unit) {
            char *name = s_dbtext (unit);
            rpt_error (_("unknown unit '%s'"), name);
            free (name);
        }
        else
            rpt_error ("%s", _("the database has no units yet"));
        PQclear (r);
        goto fail;
    }
    self->unit_code = s_strdup (PQgetvalue (r, 0, 0));     //  [a-z0-9._-] only (CHECK)
    self->unit_name = s_dbtext (PQgetvalue (r, 0, 1));
    self->timezone = s_dbtext (PQgetvalue (r, 0, 2));
    self->stale = strcmp (PQgetvalue (r, 0, 3), "t") == 0;
    self->generated = s_dbtext (PQgetvalue (r, 0, 4));
    self->today = s_dbtext (PQgetvalue (r, 0, 5));
    self->from = s_dbtext (PQgetvalue (r, 0, 6));
    self->to = s_dbtext (PQgetvalue (r, 0, 7));
    PQclear (r);

    for (int i = 0; i < NSECTIONS; i++)
        self->tables [self->ntables++] = s_table_new (&s_sections [i]);

    //  Completeness: the days of the period (from the subtree's first month
    //  when no start is given), to its last day.
    const char *last_day = *self->to ? self->to : self->today;
    r = s_query (db, _("reading the period"),
        "SELECT coalesce($2::date, (SELECT min(month) FROM analytics.activity_by_month"
        "                            WHERE unit_code = $1), $3::date)::text",
        3, (const char *[]) { self->unit_code, *self->from ? self->from : NULL, last_day });
    if (!r)
        goto fail;
    char first_day [64];
    snprintf (first_day, sizeof first_day, "%s", PQgetvalue (r, 0, 0));
    PQclear (r);
    if (strcmp (first_day, last_day) > 0)
        snprintf (first_day, sizeof first_day, "%s", last_day);
    r = s_query (db, _("reading the completeness of the period"), s_complete_sql, 4,
                 (const char *[]) { self->unit_code, first_day, last_day, s_never });
    if (!r)
        goto fail;
    s_sections_add (self, r);
    PQclear (r);
    s_table_kinds (self->tables [S_COMPLETE], 0);
    s_table_kinds (self->tables [S_SILENT], 2);

    //  The period: whole months and the days at its ends.
    r = s_query (db, _("reading the period"), s_bounds_sql, 2, (const char *[]) { opts->from, opts->to });
    if (!r)
        goto fail;
    char bounds [6][64];
    for (int c = 0; c < 6; c++)
        snprintf (bounds [c], sizeof bounds [c], "%s", PQgetvalue (r, 0, c));
    PQclear (r);
    const char *params [] = { self->unit_code, bounds [0], bounds [1], bounds [2], bounds [3],
                              bounds [4], bounds [5], self->zh ? "zh" : "en" };
    r = s_query (db, _("reading the figures of the period"), s_period_sql, 8, params);
    if (!r)
        goto fail;
    s_sections_add (self, r);
    PQclear (r);

    r = s_query (db, _("reading the coverage"), s_coverage_sql, 1, (const char *[]) { self->unit_code });
    if (!r)
        goto fail;
    s_table_add (self->tables [S_COVERAGE], r, 0, PQntuples (r), 0);
    PQclear (r);
    s_table_labels (self->tables [S_COVERAGE], s_coverage_labels, NLABELS (s_coverage_labels));
    s_table_labels (self->tables [S_OUTCOMES], s_outcome_labels, NLABELS (s_outcome_labels));

    char quiet [16];
    snprintf (quiet, sizeof quiet, "%d", opts->quiet_days);
    r = s_query (db, _("reading the quiet pairings"), s_quiet_sql, 4,
                 (const char *[]) { self->unit_code, quiet, s_never, last_day });
    if (!r)
        goto fail;
    s_table_add (self->tables [S_QUIET], r, 0, PQntuples (r), 0);
    PQclear (r);
    PQclear (PQexec (db, "COMMIT"));
    return self;
fail:
    PQclear (PQexec (db, "ROLLBACK"));
    rpt_destroy (&self);
    return NULL;
}
