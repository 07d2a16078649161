/*  test_wire_cases: the wire verdict cases, read from case files and
    decoded by the real decoder (common/wire.c).  One case a line:

        KIND FRAME... => VERDICT...

    KIND says what the frame is and how it is decoded:
        event   one event; the driver sends it as the middle one of three
                (batch 42: [valid event, FRAME, valid event]) and checks the
                neighbours are untouched
        batch   a whole message, tx_wire_decode_batch
        reply   a whole message, tx_wire_decode_reply
        status  a whole message from a producer, tx_wire_decode_message
                (revision 1.3); batch cases are decoded that way too, and
                must come out the same

    FRAME, a msgpack value written as tokens (each in its smallest form):
        M3  A2            map of 3 pairs, array of 2 (headers only)
        "text"            str, C escapes (\n \0 \xff \" \\ \@); "x"*65 repeats,
                          "\xff"+"x"*9 joins
        bin:"..."         bin (bin:"x"*16 repeats)
        uuid:017f22e2-79b0-7cc3-98c4-dc0c0c07398f   bin 16
        id                bin 16: a fresh UUIDv7
        V                 the four required event pairs: "id" (fresh), "unit":
                          "unit-1", "type":"sale", "at" ts:1700000000:5
        5  -5  18446744073709551615   integers
        f64:1.5  f64:nan  f64:-inf  f32:1.5   floats
        nil  true  false
        ts:SEC:NSEC       timestamp (ext -1, 4, 8 or 12 bytes)
        ext:TYPE:"..."    any ext
        hex:84a1...       raw bytes (hex:00*1048577 repeats)
        spec:NAME         the bytes of the example NAME in docs/protocol.md
        ( ... )*N         the tokens N times; inside, @ is the round (0..N-1),
                          as an integer token or within a string ("k@")

    VERDICT:
        event:  none | REJECT_CODE ["message"]
        batch:  ok|malformed|unsupported|too_large  then any of
                batch=N  rev=N  events=CODE,none,...  err="exact"  err~"part"
                unit.I="..."  type.I="..."  partner.I="..."  msg.I="..."  nth.I=N
                attrs.I=COUNT  attr.I.NAME=INT   (of event I, from 0)
        reply:  ok|malformed|unsupported|too_large  then any of
                type=ack|error  batch=N  results=stored,duplicate,rejected
                rejected=I:CODE,...  error=CODE  versions=1,...  msg="..."
                dups=I:UUID@SEC.NSEC,... (empty: none) | absent (no "dups" key)
                rev=N (0: no "rev" key)
        regreq, regrep (revision 1.3):  ok|malformed|other (not a registry
                message) then any of  req=N  have="..."|none (regreq)
                version="..."  body=none|BYTES (regrep)
        status: ok|malformed|unsupported|too_large  then any of
                type=status|batch  backlog=N  oldest=SEC.NSEC|absent
                verdict=SEC.NSEC|absent  software="..."|absent

    Blank lines and lines starting with # are ignored; any other line that
    does not parse fails the run.  On a failure the case's file:line and
    both values are printed (TAP).  Run from the top of the tree; without
    arguments it reads every tests/wire/cases/NAME.txt, then
    tests/fuzz/regressions.txt.

    --emit DIR FILE...  writes each case's frame to DIR/NAME-LINE instead
    (the fuzzer replays tests/fuzz/regressions.txt that way).
*/

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uuid.h"
#include "wire.h"

#define MAX_LINE 8192

static tx_uuid_gen_t *s_gen;
static tx_wire_decoder_t *s_dec;
static int s_tests;             //  cases run
static int s_failed;            //  cases failed

//  One case being read: where it is, and what went wrong first.
typedef struct {
    const char *file;
    int line;
    char why [512];             //  "" while all is well
} case_t;

static void s_fail (case_t *c, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_fail (case_t *c, const char *fmt, ...)
{
    if (c->why [0])
        return;                 //  the first failure says it
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (c->why, sizeof c->why, fmt, ap);
    va_end (ap);
}

//  ---------------------------------------------------------------------
//  Tokens

//  The next token of *P (quoted parts may hold spaces) into TOK; false at
//  the end of the text.
static bool
s_token (const char **p, char *tok, size_t max)
{
    const char *s = *p;
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = 0;
    bool quoted = false;
    for (; *s && *s != '\n' && (quoted || (*s != ' ' && *s != '\t')); s++) {
        if (*s == '\\' && quoted && s [1] && n + 2 < max) {
            tok [n++] = *s++;
            tok [n++] = *s;
            continue;
        }
        if (*s == '"')
            quoted = !quoted;
        if (n + 1 < max)
            tok [n++] = *s;
    }
    tok [n] = 0;
    *p = s;
    return n > 0;
}

//  Decodes one quoted part at *Q ("...", C escapes, @ replaced by ROUND
//  when ROUND >= 0, an optional *N suffix) onto OUT + *N; 0 or -1.
static int
s_unquote_part (const char **qp, char *out, size_t max, size_t *np, long round)
{
    const char *q = *qp;
    size_t start = *np, n = *np;
    if (*q++ != '"')
        return -1;
    for (; *q && *q != '"'; q++) {
        char ch = *q;
        if (ch == '@' && round >= 0) {
            n += (size_t) snprintf (out + n, max - n, "%ld", round);
            continue;
        }
        if (ch == '\\') {
            q++;
            switch (*q) {
                case 'n': ch = '\n'; break;
                case 't': ch = '\t'; break;
                case '0': ch = 0; break;
                case 'x': {
                    unsigned v;
                    if (!isxdigit ((unsigned char) q [1]) || sscanf (q + 1, "%2x", &v) != 1)
                        return -1;
                    ch = (char) v;
                    q += 2;
                    break;
                }
                case '"': case '\\': case '@': ch = *q; break;
                default: return -1;
            }
        }
        if (n >= max)
            return -1;
        out [n++] = ch;
    }
    if (*q++ != '"')
        return -1;
    long times = 1;
    if (*q == '*')
        times = strtol (q + 1, (char **) &q, 10);
    size_t len = n - start;
    if (times < 0 || start + len * (size_t) times > max)
        return -1;
    for (long t = 1; t < times; t++)
        memcpy (out + start + len * (size_t) t, out + start, len);
    *np = start + len * (size_t) times;
    *qp = q;
    return 0;
}

//  Decodes the quoted string at Q, parts joined by + ("\xff"+"x"*4097),
//  into OUT; its length, or -1 if it is not one.
static long
s_unquote (const char *q, char *out, size_t max, long round)
{
    size_t n = 0;
    do {
        if (s_unquote_part (&q, out, max, &n, round) != 0)
            return -1;
    } while (*q == '+' && *++q == '"');
    return *q ? -1 : (long) n;
}

//  ---------------------------------------------------------------------
//  Frames

//  Everything needed to write one frame.
typedef struct {
    msgpack_sbuffer sb;
    msgpack_packer pk;
    char *buf;                  //  scratch for strings, MAX_FRAME + 1 bytes
    case_t *c;
} frame_t;

static void
s_pack_ts (msgpack_packer *pk, int64_t sec, uint32_t nsec)
{
    char b [12];
    if (sec >= 0 && (sec >> 34) == 0 && nsec < (1u << 30)) {
        uint64_t d = ((uint64_t) nsec << 34) | (uint64_t) sec;
        size_t len = (d >> 32) == 0 ? 4 : 8;
        for (size_t i = 0; i < len; i++)
            b [i] = (char) (d >> (8 * (len - 1 - i)));
        msgpack_pack_ext_with_body (pk, b, len, -1);
        return;
    }
    for (int i = 0; i < 4; i++)
        b [i] = (char) (nsec >> (24 - 8 * i));
    for (int i = 0; i < 8; i++)
        b [4 + i] = (char) ((uint64_t) sec >> (56 - 8 * i));
    msgpack_pack_ext_with_body (pk, b, 12, -1);
}

static void
s_pack_id (msgpack_packer *pk)
{
    uint8_t id [16];
    tx_uuid_gen_next (s_gen, id);
    msgpack_pack_bin_with_body (pk, id, 16);
}

//  The V token: the four required pairs of an event.
static void
s_pack_required (msgpack_packer *pk)
{
    msgpack_pack_str_with_body (pk, "id", 2);
    s_pack_id (pk);
    msgpack_pack_str_with_body (pk, "unit", 4);
    msgpack_pack_str_with_body (pk, "unit-1", 6);
    msgpack_pack_str_with_body (pk, "type", 4);
    msgpack_pack_str_with_body (pk, "sale", 4);
    msgpack_pack_str_with_body (pk, "at", 2);
    s_pack_ts (pk, 1700000000, 5);
}

//  hex:... into the frame (with an optional *N).
static int
s_pack_hex (frame_t *f, const char *hex)
{
    const char *star = strchr (hex, '*');
    size_t digits = star ? (size_t) (star - hex) : strlen (hex);
    long times = star ? strtol (star + 1, NULL, 10) : 1;
    if (digits % 2 || times < 0)
        return -1;
    for (long t = 0; t < times; t++)
        for (size_t i = 0; i < digits; i += 2) {
            unsigned v;
            if (!isxdigit ((unsigned char) hex [i]) || !isxdigit ((unsigned char) hex [i + 1])
            ||  sscanf (hex + i, "%2x", &v) != 1)
                return -1;
            char b = (char) v;
            msgpack_sbuffer_write (&f->sb, &b, 1);
        }
    return 0;
}

//  spec:NAME: the hex block after "<!-- example: NAME -->" in docs/protocol.md.
static int
s_pack_spec (frame_t *f, const char *name)
{
    FILE *in = fopen ("docs/protocol.md", "r");
    if (!in)
        return -1;
    char marker [128], line [MAX_LINE];
    snprintf (marker, sizeof marker, "<!-- example: %s -->", name);
    int state = 0, rc = -1;             //  0 looking, 1 before ```hex, 2 in it
    while (fgets (line, sizeof line, in)) {
        line [strcspn (line, "\n")] = 0;
        if (state == 0)
            state = strcmp (line, marker) == 0;
        else
        if (state == 1)
            state = strcmp (line, "```hex") == 0 ? 2 : 0;
        else
        if (strcmp (line, "```") == 0)
            break;
        else
        if ((rc = s_pack_hex (f, line)) != 0)
            break;
    }
    fclose (in);
    return rc;
}

//  A number after PREFIX: (f64:, f32:, ts:, ext:).
static int
s_pack_tagged (frame_t *f, const char *tok, long round)
{
    char *end;
    if (strncmp (tok, "f64:", 4) == 0 || strncmp (tok, "f32:", 4) == 0) {
        double d = strtod (tok + 4, &end);
        if (*end)
            return -1;
        if (tok [1] == '6')
            msgpack_pack_double (&f->pk, d);
        else
            msgpack_pack_float (&f->pk, (float) d);
        return 0;
    }
    if (strncmp (tok, "ts:", 3) == 0) {
        long long sec = strtoll (tok + 3, &end, 10);
        if (*end != ':')
            return -1;
        unsigned long nsec = strtoul (end + 1, &end, 10);
        if (*end)
            return -1;
        s_pack_ts (&f->pk, sec, (uint32_t) nsec);
        return 0;
    }
    if (strncmp (tok, "ext:", 4) == 0) {
        long type = strtol (tok + 4, &end, 10);
        long n = *end == ':' ? s_unquote (end + 1, f->buf, TX_WIRE_MAX_FRAME, round) : -1;
        if (n < 0)
            return -1;
        msgpack_pack_ext_with_body (&f->pk, f->buf, (size_t) n, (int8_t) type);
        return 0;
    }
    return -1;
}

//  A string-like token: "...", bin:"...", uuid:...
static int
s_pack_bytes (frame_t *f, const char *tok, long round)
{
    if (tok [0] == '"' || strncmp (tok, "bin:", 4) == 0) {
        bool bin = tok [0] != '"';
        long n = s_unquote (bin ? tok + 4 : tok, f->buf, TX_WIRE_MAX_FRAME, round);
        if (n < 0)
            return -1;
        if (bin)
            msgpack_pack_bin_with_body (&f->pk, f->buf, (size_t) n);
        else
            msgpack_pack_str_with_body (&f->pk, f->buf, (size_t) n);
        return 0;
    }
    uint8_t id [16];
    if (strncmp (tok, "uuid:", 5) != 0 || tx_uuid_parse (tok + 5, strlen (tok + 5), id) != 0)
        return -1;
    msgpack_pack_bin_with_body (&f->pk, id, 16);
    return 0;
}

//  An integer token (or @, the round); 1 if TOK is not one.
static int
s_pack_int (frame_t *f, const char *tok, long round)
{
    if (strcmp (tok, "@") == 0 && round >= 0) {
        msgpack_pack_int64 (&f->pk, round);
        return 0;
    }
    const char *digits = tok [0] == '-' ? tok + 1 : tok;
    if (!*digits || strspn (digits, "0123456789") != strlen (digits))
        return 1;
    errno = 0;
    if (tok [0] == '-')
        msgpack_pack_int64 (&f->pk, strtoll (tok, NULL, 10));
    else
        msgpack_pack_uint64 (&f->pk, strtoull (tok, NULL, 10));
    return errno ? -1 : 0;
}

//  One token (not a group) into the frame; 0 or -1.
static int
s_pack_token (frame_t *f, const char *tok, long round)
{
    int rc = s_pack_int (f, tok, round);
    if (rc <= 0)
        return rc;
    if ((tok [0] == 'M' || tok [0] == 'A') && isdigit ((unsigned char) tok [1])) {
        char *end;
        unsigned long n = strtoul (tok + 1, &end, 10);
        if (*end)
            return -1;
        if (tok [0] == 'M')
            msgpack_pack_map (&f->pk, n);
        else
            msgpack_pack_array (&f->pk, n);
        return 0;
    }
    if (strcmp (tok, "V") == 0)
        s_pack_required (&f->pk);
    else
    if (strcmp (tok, "id") == 0)
        s_pack_id (&f->pk);
    else
    if (strcmp (tok, "nil") == 0)
        msgpack_pack_nil (&f->pk);
    else
    if (strcmp (tok, "true") == 0)
        msgpack_pack_true (&f->pk);
    else
    if (strcmp (tok, "false") == 0)
        msgpack_pack_false (&f->pk);
    else
    if (strncmp (tok, "hex:", 4) == 0)
        return s_pack_hex (f, tok + 4);
    else
    if (strncmp (tok, "spec:", 5) == 0)
        return s_pack_spec (f, tok + 5);
    else
    if (tok [0] == '"' || strncmp (tok, "bin:", 4) == 0 || strncmp (tok, "uuid:", 5) == 0)
        return s_pack_bytes (f, tok, round);
    else
        return s_pack_tagged (f, tok, round);
    return 0;
}

//  A line cut into tokens (owned, freed by s_tokens_free).
#define MAX_TOKENS 1024
typedef struct {
    char *tok [MAX_TOKENS];
    int n;
} tokens_t;

static void
s_tokens_free (tokens_t *t)
{
    for (int i = 0; i < t->n; i++)
        free (t->tok [i]);
    t->n = 0;
}

static int
s_split (const char *text, tokens_t *t)
{
    char tok [MAX_LINE];
    t->n = 0;
    while (s_token (&text, tok, sizeof tok)) {
        if (t->n == MAX_TOKENS)
            return -1;
        t->tok [t->n++] = strdup (tok);
    }
    return 0;
}

//  Packs tokens FROM..TO-1 of T; ( ... )*N groups repeat.  0 or -1.
static int
s_pack_range (frame_t *f, const tokens_t *t, int from, int to, long round)
{
    for (int i = from; i < to; i++) {
        if (strcmp (t->tok [i], "(") != 0) {
            if (s_pack_token (f, t->tok [i], round) == 0)
                continue;
            s_fail (f->c, "bad token '%s'", t->tok [i]);
            return -1;
        }
        int depth = 1, j = i + 1;
        for (; j < to && depth; j++)
            depth += strcmp (t->tok [j], "(") == 0 ? 1 : t->tok [j][0] == ')' ? -1 : 0;
        char *end;
        long times = depth ? -1 : strtol (t->tok [j - 1] + 2, &end, 10);
        if (times < 0 || t->tok [j - 1][1] != '*' || *end) {
            s_fail (f->c, "a group '(' needs its ')*N'");
            return -1;
        }
        for (long r = 0; r < times; r++)
            if (s_pack_range (f, t, i + 1, j - 1, r) != 0)
                return -1;
        i = j - 1;
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Verdicts

static const char *s_rcs [] = { "ok", "malformed", "unsupported", "too_large", "other" };
static const int s_rc_values [] = { TX_WIRE_OK, TX_WIRE_MALFORMED, TX_WIRE_UNSUPPORTED,
                                    TX_WIRE_TOO_LARGE, TX_WIRE_NOT_THIS };
static const char *s_results [] = { "stored", "duplicate", "rejected" };

static const char *
s_rc_name (int rc)
{
    for (size_t i = 0; i < sizeof s_rcs / sizeof s_rcs [0]; i++)
        if (s_rc_values [i] == rc)
            return s_rcs [i];
    return "nomem";
}

//  "none" or the reject code's name.
static const char *
s_reject_name (int code)
{
    const char *s = tx_reject_code_str (code);
    return s ? s : code == TX_REJECT_NONE ? "none" : "?";
}

//  Compares GOT with WANT (both text), naming WHAT on a difference.
static void
s_same (case_t *c, const char *what, const char *got, size_t got_len, const char *want)
{
    if (got_len != strlen (want) || (got_len && memcmp (got, want, got_len) != 0))
        s_fail (c, "%s: got '%.*s', expected '%s'", what, (int) got_len, got ? got : "", want);
}

//  KEY=VALUE or KEY~VALUE of a verdict; VALUE unquoted into VAL.  Returns
//  the operator ('=' or '~') or 0 if TOK is not one.
static char
s_keyval (const char *tok, char *key, size_t keymax, char *val, size_t valmax)
{
    size_t k = strcspn (tok, "=~");
    if (!tok [k] || k >= keymax)
        return 0;
    memcpy (key, tok, k);
    key [k] = 0;
    const char *v = tok + k + 1;
    if (*v == '"') {
        long n = s_unquote (v, val, valmax - 1, -1);
        if (n < 0)
            return 0;
        val [n] = 0;
    }
    else
        snprintf (val, valmax, "%s", v);
    return tok [k];
}

//  Event I's field named by KEY ("unit.0", "attr.0.participants").
static void
s_check_event_field (case_t *c, const tx_batch_t *b, const char *key, const char *val)
{
    char field [16], attr [80];
    unsigned long i;
    int n = sscanf (key, "%15[a-z].%lu.%79s", field, &i, attr);
    if (n < 2) {
        s_fail (c, "unknown verdict key '%s'", key);
        return;
    }
    if (i >= b->count) {
        s_fail (c, "%s: no such event (%zu decoded)", key, b->count);
        return;
    }
    const tx_event_t *e = &b->events [i];
    if (n == 2 && strcmp (field, "unit") == 0)
        s_same (c, key, e->unit, e->unit_len, val);
    else
    if (n == 2 && strcmp (field, "type") == 0)
        s_same (c, key, e->type, e->type_len, val);
    else
    if (n == 2 && strcmp (field, "partner") == 0)
        s_same (c, key, e->partner, e->partner_len, val);
    else
    if (n == 2 && strcmp (field, "msg") == 0)
        s_same (c, key, e->reject_msg, e->reject_msg ? strlen (e->reject_msg) : 0, val);
    else
    if (n == 2 && strcmp (field, "attrs") == 0) {
        char got [32];
        snprintf (got, sizeof got, "%zu", e->attr_count);
        s_same (c, key, got, strlen (got), val);
    }
    else
    if (n == 2 && strcmp (field, "nth") == 0) {
        char got [32];
        snprintf (got, sizeof got, "%u", e->nth);
        s_same (c, key, got, strlen (got), val);
    }
    else
    if (n == 3 && strcmp (field, "attr") == 0) {
        for (size_t j = 0; j < e->attr_count; j++) {
            const tx_attr_t *a = &e->attrs [j];
            if (a->name_len != strlen (attr) || memcmp (a->name, attr, a->name_len) != 0)
                continue;
            char got [32];
            snprintf (got, sizeof got, "%lld", (long long) a->value.u.i);
            if (a->value.type != TX_VAL_INT)
                s_fail (c, "%s: not an integer", key);
            s_same (c, key, got, strlen (got), val);
            return;
        }
        s_fail (c, "%s: no such attribute", key);
    }
    else
        s_fail (c, "unknown verdict key '%s'", key);
}

//  events=CODE,CODE,...: every event's reject code.
static void
s_check_events (case_t *c, const tx_batch_t *b, const char *want)
{
    char got [4096] = "";
    size_t n = 0;
    for (size_t i = 0; i < b->count && n < sizeof got - 64; i++)
        n += (size_t) snprintf (got + n, sizeof got - n, "%s%s", i ? "," : "",
                                s_reject_name (b->events [i].reject));
    s_same (c, "events", got, n, want);
}

static void
s_check_batch_key (case_t *c, const tx_batch_t *b, const char *err, const char *tok)
{
    char key [64], val [MAX_LINE], got [32];
    char op = s_keyval (tok, key, sizeof key, val, sizeof val);
    if (op == '~' && strcmp (key, "err") == 0) {
        if (!strstr (err, val))
            s_fail (c, "err: got '%s', expected it to hold '%s'", err, val);
    }
    else
    if (op == '=' && strcmp (key, "err") == 0)
        s_same (c, "err", err, strlen (err), val);
    else
    if (op == '=' && strcmp (key, "batch") == 0) {
        snprintf (got, sizeof got, "%llu", (unsigned long long) b->batch_id);
        s_same (c, "batch", got, strlen (got), val);
    }
    else
    if (op == '=' && strcmp (key, "rev") == 0) {
        snprintf (got, sizeof got, "%llu", (unsigned long long) b->rev);
        s_same (c, "rev", got, strlen (got), val);
    }
    else
    if (op == '=' && strcmp (key, "events") == 0)
        s_check_events (c, b, val);
    else
    if (op == '=')
        s_check_event_field (c, b, key, val);
    else
        s_fail (c, "bad verdict '%s'", tok);
}

//  The whole-message outcome: the first verdict token against RC.
static bool
s_check_rc (case_t *c, int rc, const char *err, const char *want)
{
    size_t i = 0;
    for (; i < sizeof s_rcs / sizeof s_rcs [0]; i++)
        if (strcmp (want, s_rcs [i]) == 0)
            break;
    if (i == sizeof s_rcs / sizeof s_rcs [0]) {
        s_fail (c, "unknown outcome '%s'", want);
        return false;
    }
    if (rc != s_rc_values [i])
        s_fail (c, "outcome: got %s (%s), expected %s", s_rc_name (rc), err, want);
    return rc == s_rc_values [i];
}

static void
s_run_batch (case_t *c, frame_t *f, const tokens_t *t, int verdict)
{
    tx_batch_t b;
    char err [512] = "";
    int rc = tx_wire_decode_batch ((const uint8_t *) f->sb.data, f->sb.size, &b, s_dec,
                                   err, sizeof err);
    s_check_rc (c, rc, err, t->tok [verdict]);
    if (rc != TX_WIRE_OK && (b.events || b.count || !err [0]))
        s_fail (c, "a refused batch keeps no events and says why");
    //  The collector's decoder (revision 1.3) takes it the same way.
    tx_message_t m;
    char err2 [512] = "";
    int rc2 = tx_wire_decode_message ((const uint8_t *) f->sb.data, f->sb.size, &m, s_dec,
                                      err2, sizeof err2);
    if (m.type != TX_MSG_BATCH || rc2 != rc || strcmp (err, err2) != 0
    ||  m.batch.batch_id != b.batch_id || m.batch.count != b.count || m.batch.rev != b.rev)
        s_fail (c, "tx_wire_decode_message: type %d, %s (%s); tx_wire_decode_batch: %s (%s)",
                (int) m.type, s_rc_name (rc2), err2, s_rc_name (rc), err);
    rc = tx_wire_decode_batch ((const uint8_t *) f->sb.data, f->sb.size, &b, s_dec,
                               err, sizeof err);
    for (int i = verdict + 1; i < t->n; i++)
        s_check_batch_key (c, &b, err, t->tok [i]);
}

//  event: the middle one of three; VERDICT none or CODE ["message"].
static void
s_run_event (case_t *c, const tx_batch_t *b, const tokens_t *t, int verdict)
{
    if (verdict + 2 < t->n) {
        s_fail (c, "an event's verdict is none or CODE [\"message\"]");
        return;
    }
    const tx_event_t *e = &b->events [1];
    s_same (c, "reject", s_reject_name (e->reject), strlen (s_reject_name (e->reject)),
            t->tok [verdict]);
    bool none = e->reject == TX_REJECT_NONE;
    if (none != (e->reject_msg == NULL))
        s_fail (c, "reject %d with message %s", e->reject, e->reject_msg ? e->reject_msg : "NULL");
    if (verdict + 1 < t->n && e->reject_msg) {
        char want [MAX_LINE];
        long n = s_unquote (t->tok [verdict + 1], want, sizeof want - 1, -1);
        if (n < 0)
            s_fail (c, "bad message %s", t->tok [verdict + 1]);
        else
            s_same (c, "message", e->reject_msg, strlen (e->reject_msg), (want [n] = 0, want));
    }
}

static void
s_check_event_neighbours (case_t *c, const tx_batch_t *b)
{
    if (b->batch_id != 42 || b->count != 3)
        s_fail (c, "batch %llu of %zu events, expected 42 of 3",
                (unsigned long long) b->batch_id, b->count);
    else
    if (b->events [0].reject || b->events [2].reject || b->events [2].attr_count != 1
    ||  b->events [2].attrs [0].value.u.i != 7)
        s_fail (c, "the neighbours were touched: rejects %d, %d",
                b->events [0].reject, b->events [2].reject);
}

//  A time of a status, or "absent".
static size_t
s_status_time (char *got, size_t size, bool has, int64_t sec, uint32_t nsec)
{
    return (size_t) (has ? snprintf (got, size, "%lld.%09u", (long long) sec, nsec)
                         : snprintf (got, size, "absent"));
}

//  status: decoded with tx_wire_decode_message (revision 1.3).
static void
s_run_status (case_t *c, frame_t *f, const tokens_t *t, int verdict)
{
    tx_message_t m;
    char err [512] = "";
    int rc = tx_wire_decode_message ((const uint8_t *) f->sb.data, f->sb.size, &m, s_dec,
                                     err, sizeof err);
    if (!s_check_rc (c, rc, err, t->tok [verdict]))
        return;
    const tx_status_msg_t *st = &m.status;
    for (int i = verdict + 1; i < t->n; i++) {
        char key [64], val [MAX_LINE], got [512] = "";
        size_t n = 0;
        if (s_keyval (t->tok [i], key, sizeof key, val, sizeof val) != '=') {
            s_fail (c, "bad verdict '%s'", t->tok [i]);
            return;
        }
        if (strcmp (key, "type") == 0)
            n = (size_t) snprintf (got, sizeof got, "%s", m.type == TX_MSG_STATUS ? "status" : "batch");
        else
        if (strcmp (key, "backlog") == 0)
            n = (size_t) snprintf (got, sizeof got, "%llu", (unsigned long long) st->backlog);
        else
        if (strcmp (key, "oldest") == 0)
            n = s_status_time (got, sizeof got, st->has_oldest, st->oldest_sec, st->oldest_nsec);
        else
        if (strcmp (key, "verdict") == 0)
            n = s_status_time (got, sizeof got, st->has_verdict, st->verdict_sec, st->verdict_nsec);
        else
        if (strcmp (key, "software") == 0) {
            if (!st->software) {
                s_same (c, key, "absent", 6, val);
                continue;
            }
            n = (size_t) snprintf (got, sizeof got, "%.*s", (int) st->software_len, st->software);
        }
        else {
            s_fail (c, "unknown verdict key '%s'", key);
            return;
        }
        s_same (c, key, got, n, val);
    }
}

//  reply: KEY=VALUE checks after the outcome.
static void
s_check_reply_key (case_t *c, const tx_reply_t *r, const char *tok)
{
    char key [64], val [MAX_LINE], got [4096] = "";
    size_t n = 0;
    if (s_keyval (tok, key, sizeof key, val, sizeof val) != '=') {
        s_fail (c, "bad verdict '%s'", tok);
        return;
    }
    if (strcmp (key, "type") == 0)
        n = (size_t) snprintf (got, sizeof got, "%s", r->type == TX_REPLY_ACK ? "ack" : "error");
    else
    if (strcmp (key, "batch") == 0)
        n = (size_t) snprintf (got, sizeof got, "%llu", (unsigned long long) r->batch_id);
    else
    if (strcmp (key, "results") == 0)
        for (size_t i = 0; i < r->n_results && n < sizeof got - 16; i++)
            n += (size_t) snprintf (got + n, sizeof got - n, "%s%s", i ? "," : "",
                                    r->results [i] < 3 ? s_results [r->results [i]] : "?");
    else
    if (strcmp (key, "rejected") == 0)
        for (size_t i = 0; i < r->n_rejected && n < sizeof got - 200; i++) {
            const tx_rejected_t *x = &r->rejected [i];
            if (x->code != tx_reject_code_from_str (x->code_str, x->code_len))
                s_fail (c, "rejected[%zu]: code %d for '%.*s'", i, x->code,
                        (int) x->code_len, x->code_str);
            n += (size_t) snprintf (got + n, sizeof got - n, "%s%zu:%.*s", i ? "," : "",
                                    x->index, (int) x->code_len, x->code_str);
        }
    else
    if (strcmp (key, "error") == 0) {
        if (r->error != tx_error_code_from_str (r->code, r->code_len))
            s_fail (c, "error %d for '%.*s'", r->error, (int) r->code_len, r->code);
        n = (size_t) snprintf (got, sizeof got, "%.*s", (int) r->code_len, r->code);
    }
    else
    if (strcmp (key, "versions") == 0)
        for (size_t i = 0; i < r->n_versions; i++)
            n += (size_t) snprintf (got + n, sizeof got - n, "%s%u", i ? "," : "", r->versions [i]);
    else
    if (strcmp (key, "msg") == 0)
        n = (size_t) snprintf (got, sizeof got, "%.*s", (int) r->msg_len, r->msg ? r->msg : "");
    else
    if (strcmp (key, "rev") == 0)
        n = (size_t) snprintf (got, sizeof got, "%llu", (unsigned long long) r->rev);
    else
    if (strcmp (key, "dups") == 0) {
        if (!r->has_dups)
            n = (size_t) snprintf (got, sizeof got, "absent");
        for (size_t i = 0; r->has_dups && i < r->n_dups && n < sizeof got - 80; i++) {
            const uint8_t *d = r->dups [i].id;
            n += (size_t) snprintf (got + n, sizeof got - n, "%s%zu:", i ? "," : "", r->dups [i].index);
            for (int b = 0; b < 16; b++)
                n += (size_t) snprintf (got + n, sizeof got - n, "%s%02x",
                                        b == 4 || b == 6 || b == 8 || b == 10 ? "-" : "", d [b]);
            n += (size_t) snprintf (got + n, sizeof got - n, "@%lld.%09u",
                                    (long long) r->dups [i].at_sec, r->dups [i].at_nsec);
        }
    }
    else {
        s_fail (c, "unknown verdict key '%s'", key);
        return;
    }
    s_same (c, key, got, n, val);
}

static void
s_run_reply (case_t *c, frame_t *f, const tokens_t *t, int verdict)
{
    tx_reply_t r;
    char err [512] = "";
    int rc = tx_wire_decode_reply ((const uint8_t *) f->sb.data, f->sb.size, &r, s_dec,
                                   err, sizeof err);
    if (!s_check_rc (c, rc, err, t->tok [verdict]))
        return;
    for (int i = verdict + 1; i < t->n; i++)
        s_check_reply_key (c, &r, t->tok [i]);
}

//  Registry request (regreq) and reply (regrep), revision 1.3: req=N,
//  have="..."|none, version="...", body=none|N (its bytes).
static void
s_run_registry (case_t *c, frame_t *f, const tokens_t *t, int verdict, bool request)
{
    tx_registry_req_t q;
    tx_registry_rep_t p;
    char err [512] = "";
    const uint8_t *data = (const uint8_t *) f->sb.data;
    int rc = request ? tx_wire_decode_registry_request (data, f->sb.size, &q, err, sizeof err)
                     : tx_wire_decode_registry_reply (data, f->sb.size, &p, err, sizeof err);
    if (!s_check_rc (c, rc, err, t->tok [verdict]))
        return;
    for (int i = verdict + 1; i < t->n; i++) {
        char key [32], val [512], got [64];
        if (s_keyval (t->tok [i], key, sizeof key, val, sizeof val) != '=') {
            s_fail (c, "bad verdict '%s'", t->tok [i]);
            continue;
        }
        if (strcmp (key, "req") == 0) {
            snprintf (got, sizeof got, "%llu", (unsigned long long) (request ? q.req : p.req));
            s_same (c, key, got, strlen (got), val);
        }
        else
        if (strcmp (key, "have") == 0 && request)
            s_same (c, key, q.have ? q.have : "none", q.have ? q.have_len : 4, val);
        else
        if (strcmp (key, "version") == 0 && !request)
            s_same (c, key, p.version, p.version_len, val);
        else
        if (strcmp (key, "body") == 0 && !request) {
            if (p.body)
                snprintf (got, sizeof got, "%zu", p.body_len);
            else
                snprintf (got, sizeof got, "none");
            s_same (c, key, got, strlen (got), val);
        }
        else
            s_fail (c, "unknown verdict key '%s'", key);
    }
}

//  ---------------------------------------------------------------------
//  Cases

//  An event case is sent as [valid, EVENT, valid] in batch 42.
static void
s_pack_event_prefix (msgpack_packer *pk)
{
    msgpack_pack_map (pk, 4);
    msgpack_pack_str_with_body (pk, "v", 1);
    msgpack_pack_int (pk, 1);
    msgpack_pack_str_with_body (pk, "t", 1);
    msgpack_pack_str_with_body (pk, "batch", 5);
    msgpack_pack_str_with_body (pk, "batch", 5);
    msgpack_pack_int (pk, 42);
    msgpack_pack_str_with_body (pk, "events", 6);
    msgpack_pack_array (pk, 3);
    msgpack_pack_map (pk, 4);
    s_pack_required (pk);
}

static void
s_pack_event_suffix (msgpack_packer *pk)
{
    msgpack_pack_map (pk, 5);
    s_pack_required (pk);
    msgpack_pack_str_with_body (pk, "attrs", 5);
    msgpack_pack_map (pk, 1);
    msgpack_pack_str_with_body (pk, "n", 1);
    msgpack_pack_int (pk, 7);
}

//  Builds the frame of case T (KIND FRAME... => ...) into F; the index of
//  the first verdict token, or -1.
static int
s_build (case_t *c, frame_t *f, const tokens_t *t)
{
    int arrow = 1;
    while (arrow < t->n && strcmp (t->tok [arrow], "=>") != 0)
        arrow++;
    if (arrow + 1 >= t->n) {
        s_fail (c, arrow == t->n ? "no '=>'" : "no verdict after '=>'");
        return -1;
    }
    bool event = strcmp (t->tok [0], "event") == 0;
    if (!event && strcmp (t->tok [0], "batch") != 0 && strcmp (t->tok [0], "reply") != 0
    &&  strcmp (t->tok [0], "regreq") != 0 && strcmp (t->tok [0], "regrep") != 0
    &&  strcmp (t->tok [0], "status") != 0) {
        s_fail (c, "unknown kind '%s' (event, batch, reply, regreq, regrep, status)", t->tok [0]);
        return -1;
    }
    msgpack_sbuffer_clear (&f->sb);
    if (event)
        s_pack_event_prefix (&f->pk);
    if (s_pack_range (f, t, 1, arrow, -1) != 0)
        return -1;
    if (event)
        s_pack_event_suffix (&f->pk);
    return arrow + 1;
}

//  Runs case LINE of FILE (TEXT) and prints its TAP line.
static void
s_run_case (frame_t *f, const char *file, int line, const char *text)
{
    case_t c = { .file = file, .line = line };
    f->c = &c;
    tokens_t t;
    if (s_split (text, &t) != 0 || t.n < 3)
        s_fail (&c, "a case is KIND FRAME... => VERDICT...");
    int verdict = c.why [0] ? -1 : s_build (&c, f, &t);
    if (verdict > 0 && strcmp (t.tok [0], "event") == 0) {
        tx_batch_t b;
        char err [512] = "";
        int rc = tx_wire_decode_batch ((const uint8_t *) f->sb.data, f->sb.size, &b, s_dec,
                                       err, sizeof err);
        if (rc != TX_WIRE_OK)
            s_fail (&c, "the batch around the event: got %s (%s), expected ok", s_rc_name (rc), err);
        else {
            s_check_event_neighbours (&c, &b);
            s_run_event (&c, &b, &t, verdict);
        }
    }
    else
    if (verdict > 0 && strcmp (t.tok [0], "batch") == 0)
        s_run_batch (&c, f, &t, verdict);
    else
    if (verdict > 0 && strncmp (t.tok [0], "reg", 3) == 0)
        s_run_registry (&c, f, &t, verdict, strcmp (t.tok [0], "regreq") == 0);
    else
    if (verdict > 0 && strcmp (t.tok [0], "status") == 0)
        s_run_status (&c, f, &t, verdict);
    else
    if (verdict > 0)
        s_run_reply (&c, f, &t, verdict);
    s_tests++;
    if (c.why [0]) {
        s_failed++;
        printf ("not ok %d - %s:%d: %s\n", s_tests, file, line, c.why);
    }
    else
        printf ("ok %d - %s:%d\n", s_tests, file, line);
    s_tokens_free (&t);
}

//  Calls FN for every case line of FILE; -1 if it cannot be read.
static int
s_each_case (const char *file, void (*fn) (frame_t *, const char *, int, const char *),
             frame_t *f)
{
    FILE *in = fopen (file, "r");
    if (!in) {
        printf ("not ok %d - %s: %s\n", ++s_tests, file, strerror (errno));
        s_failed++;
        return -1;
    }
    char text [MAX_LINE];
    for (int line = 1; fgets (text, sizeof text, in); line++) {
        size_t skip = strspn (text, " \t");
        if (text [skip] == '#' || text [skip] == '\n' || text [skip] == 0)
            continue;
        fn (f, file, line, text);
    }
    fclose (in);
    return 0;
}

//  --emit: the frame of case LINE of FILE into s_emit_dir/NAME-LINE.
static const char *s_emit_dir;

static void
s_emit_case (frame_t *f, const char *file, int line, const char *text)
{
    case_t c = { .file = file, .line = line };
    f->c = &c;
    tokens_t t;
    if (s_split (text, &t) != 0 || t.n < 3 || s_build (&c, f, &t) < 0) {
        printf ("not ok %d - %s:%d: %s\n", ++s_tests, file, line, c.why);
        s_failed++;
    }
    else {
        const char *base = strrchr (file, '/');
        char path [4096];
        snprintf (path, sizeof path, "%s/%s-%d", s_emit_dir, base ? base + 1 : file, line);
        FILE *out = fopen (path, "wb");
        if (!out || fwrite (f->sb.data, 1, f->sb.size, out) != f->sb.size || fclose (out) != 0) {
            printf ("not ok %d - %s: %s\n", ++s_tests, path, strerror (errno));
            s_failed++;
        }
    }
    s_tokens_free (&t);
}

int
main (int argc, char **argv)
{
    int first = 1;
    if (argc > 2 && strcmp (argv [1], "--emit") == 0) {
        s_emit_dir = argv [2];
        first = 3;
    }
    glob_t g = { 0 };
    if (first >= argc) {
        glob ("tests/wire/cases/*.txt", 0, NULL, &g);
        glob ("tests/fuzz/regressions.txt", GLOB_APPEND, NULL, &g);
    }
    int nfiles = first < argc ? argc - first : (int) g.gl_pathc;
    char **files = first < argc ? argv + first : g.gl_pathv;
    s_gen = tx_uuid_gen_new ();
    s_dec = tx_wire_decoder_new ();
    frame_t f = { .buf = malloc (TX_WIRE_MAX_FRAME + 1) };
    if (!s_gen || !s_dec || !f.buf || nfiles == 0) {
        printf ("Bail out! no case files, or out of memory\n");
        return 1;
    }
    msgpack_sbuffer_init (&f.sb);
    msgpack_packer_init (&f.pk, &f.sb, msgpack_sbuffer_write);
    for (int i = 0; i < nfiles; i++)
        s_each_case (files [i], s_emit_dir ? s_emit_case : s_run_case, &f);
    if (!s_emit_dir)
        printf ("1..%d\n", s_tests);
    msgpack_sbuffer_destroy (&f.sb);
    free (f.buf);
    globfree (&g);
    tx_uuid_gen_destroy (&s_gen);
    tx_wire_decoder_destroy (&s_dec);
    return s_failed ? 1 : 0;
}
