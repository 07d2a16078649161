/*  tongxin-send: send Tongxin events from the command line.
 *
 *  One event comes from flags (--type, --at, --attr ...), many from JSON
 *  lines in a file or on standard input.  main() parses the flags, checks
 *  the flag event (if any) before anything is opened, opens the producer
 *  (libtongxin: the spool and its sender thread), then turns each input
 *  line into a tongxin_event_t, checking it here first so that a bad line
 *  is reported with its number and never reaches the spool, and spools
 *  the events in batches (one fsync each; a batch also goes out whenever
 *  the input would block).  Every spooled event's id is mapped to its
 *  input line; verdicts arrive by id on the library's sender thread
 *  (s_on_verdict), so the map and the counters sit under one mutex.
 *  Finally it waits (--wait) until the collector has answered for
 *  everything in the spool, and the worst outcome decides the exit status.
 *  See tongxin-send(1).
 */
#include "clock.h"
#include "lex.h"
#include "tongxin.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

//  Exit status; when several apply, the highest wins.
enum {
    RC_OK = 0,                  //  every event stored or already stored
    RC_REJECTED = 1,            //  some event rejected, here or by the collector
    RC_USAGE = 2,               //  bad command line; nothing was sent
    RC_TIMEOUT = 3,             //  --wait ran out with events unacknowledged
    RC_FULL = 4,                //  the spool is full: the rest of the input was not read
    RC_RUNTIME = 5              //  spool unusable, input unreadable, collector said stop,
                                //  key refused or no handshake (tongxin_stats_t.link)
};

#define MAX_ENDPOINTS   16              //  as tongxin_opts_t allows
#define MAX_LINE        (16 << 20)      //  bytes of one JSON line
#define BATCH           256             //  events spooled with one fsync
#define PROGRESS_LINES  1000            //  inputs longer than this show progress
#define PROGRESS_MS     250             //  redraw at most 4 times a second
#define MAX_NUMBERS     1024            //  number tokens, and values, in one JSON line
#define SHOW_MAX        48              //  bytes of a value quoted in a message
#define SHOW_SIZE       (SHOW_MAX * 4 + 8)

static volatile sig_atomic_t s_interrupted;     //  the signal that asked us to stop

//  ---------------------------------------------------------------- options

typedef struct {
    const char *unit;                   //  --unit: the producer's unit
    const char *endpoints [MAX_ENDPOINTS];  //  --endpoint, in order
    size_t n_endpoints;
    const char *spool;                  //  --spool, NULL: the default
    uint64_t spool_cap_mb;              //  --spool-cap, 0: the library's (1 GiB)
    int fsync_ms;                       //  --fsync-ms
    bool insecure;                      //  --insecure
    const char *key_file;               //  --key
    const char *server_key;             //  --server-key
    int wait_s;                         //  --wait, 0: do not wait
    const char *type;                   //  --type  (one event from flags)
    const char *at;                     //  --at
    const char *partner;                //  --partner
    const char *id;                     //  --id
    const char **attrs;                 //  --attr, n_attrs of them (argv strings)
    size_t n_attrs;
    const char *input;                  //  FILE, "-" for stdin; NULL in the flag form
} args_t;

static void
s_help (void)
{
    printf (
"usage: tongxin-send --unit CODE SECURITY [OPTIONS] --type TYPE --at TIME\n"
"           [--partner REGION] [--attr NAME[:KIND]=VALUE ...] [--id UUID]\n"
"       tongxin-send --unit CODE SECURITY [OPTIONS] FILE\n"
"where SECURITY is --key FILE --server-key KEY (CURVE) or --insecure.\n"
"\n"
"Send events to a Tongxin collector.  Each event is checked, written to a\n"
"local spool and sent from there; tongxin-send then waits until the collector\n"
"has stored or refused every one.  Events the collector has not acknowledged\n"
"stay in the spool and go out with the next tongxin-send on it.\n"
"\n"
"One event from flags:\n"
"  --type TYPE             event type code, as in the registry\n"
"  --at TIME               when it happened: ISO 8601 with Z or an offset,\n"
"                          e.g. 2025-04-01T05:00:00+08:00, 2025-03-31T21:00Z\n"
"  --partner REGION        partner region: 6-digit GB/T 2260 code\n"
"  --attr NAME=VALUE       an attribute; repeat for several.  VALUE is sent\n"
"                          as int if it is an integer of 64 bits, numeric if\n"
"                          another number (1.5, 2e3; exactly as written), bool\n"
"                          if true or false, date if YYYY-MM-DD, else as text\n"
"  --attr NAME:KIND=VALUE  force the kind: int, numeric, text, bool or date\n"
"                          (e.g. --attr code:text=007)\n"
"  --id UUID               the event id, a UUIDv7 (default: a new one);\n"
"                          sending again with the same id stores it once\n"
"\n"
"Many events: FILE (- for standard input) holds one JSON object per line:\n"
"  {\"id\": UUIDv7, \"unit\": CODE, \"type\": TYPE, \"occurred_at\": TIME,\n"
"   \"partner\": REGION, \"attrs\": {NAME: VALUE, ...}}\n"
"  type and occurred_at are required; id, unit (default --unit), partner and\n"
"  attrs are optional.  Values: integers, other numbers (sent exactly as\n"
"  written, never rounded: at most 64 characters; an integer past 64 bits\n"
"  is refused, write it as a string for a numeric attribute), strings,\n"
"  true/false.  Blank lines are skipped.\n"
"\n"
"Producer:\n"
"  --unit CODE             this producer's unit (required)\n"
"  --key FILE              CURVE: the unit's secret key file\n"
"  --server-key KEY        CURVE: the collector's public key (.pub file or Z85)\n"
"  --insecure              plain transport, no CURVE (tests, closed networks)\n"
"  --endpoint E            collector endpoint; repeat for several (at most 16)\n"
"                          (default tcp://127.0.0.1:7450)\n"
"  --spool DIR             spool directory, created mode 0700 (default\n"
"                          $XDG_STATE_HOME/tongxin/spool/UNIT, else\n"
"                          ~/.local/state/tongxin/spool/UNIT)\n"
"  --spool-cap MB          most MiB the spool may hold (default 1024)\n"
"  --fsync-ms N            group fsync of the spool every N ms; 0: every event\n"
"                          (default 10)\n"
"  --wait SECONDS          wait at most this long for the collector's answers;\n"
"                          0: spool and exit (default 30)\n"
"  --help, --version\n"
"\n"
"Every refused event is reported on stderr as LINE: CODE: message (LINE is\n"
"the input line, - for the flag form).  Exit status: 0 every event stored or\n"
"already stored, 1 some refused, 2 usage error, 3 timed out waiting, 4 spool\n"
"full, 5 other error: the spool, the input, or the keys (the collector refused\n"
"the unit's key, no CURVE handshake succeeded: check --server-key); the\n"
"highest that applies.  See tongxin-send(1).\n");
}

static int s_usage (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

static int
s_usage (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    fputs ("tongxin-send: ", stderr);
    vfprintf (stderr, fmt, ap);
    fputs ("\ntry 'tongxin-send --help'\n", stderr);
    va_end (ap);
    return RC_USAGE;
}

static void
s_oom (void)
{
    fputs ("tongxin-send: out of memory\n", stderr);
    exit (RC_RUNTIME);
}

//  A whole decimal number from min to max, nothing else.
static bool
s_parse_long (const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol (s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

//  Fills args from argv.  Returns -1 to go on, or the exit code (after
//  --help, --version or a usage error).
static int
s_parse_args (int argc, char **argv, args_t *args)
{
    enum { O_UNIT = 1000, O_TYPE, O_AT, O_PARTNER, O_ATTR, O_ID, O_ENDPOINT, O_SPOOL,
           O_SPOOL_CAP, O_FSYNC_MS, O_INSECURE, O_KEY, O_SERVER_KEY, O_WAIT, O_VERSION };
    static const struct option longopts [] = {
        { "unit", required_argument, NULL, O_UNIT },
        { "type", required_argument, NULL, O_TYPE },
        { "at", required_argument, NULL, O_AT },
        { "partner", required_argument, NULL, O_PARTNER },
        { "attr", required_argument, NULL, O_ATTR },
        { "id", required_argument, NULL, O_ID },
        { "endpoint", required_argument, NULL, O_ENDPOINT },
        { "spool", required_argument, NULL, O_SPOOL },
        { "spool-cap", required_argument, NULL, O_SPOOL_CAP },
        { "fsync-ms", required_argument, NULL, O_FSYNC_MS },
        { "insecure", no_argument, NULL, O_INSECURE },
        { "key", required_argument, NULL, O_KEY },
        { "server-key", required_argument, NULL, O_SERVER_KEY },
        { "wait", required_argument, NULL, O_WAIT },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, O_VERSION },
        { 0 }
    };
    memset (args, 0, sizeof *args);
    args->fsync_ms = 10;
    args->wait_s = 30;
    args->attrs = calloc ((size_t) argc, sizeof *args->attrs);
    if (!args->attrs)
        s_oom ();
    opterr = 0;
    int c;
    long v;
    while ((c = getopt_long (argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
            case 'h':
                s_help ();
                return RC_OK;
            case O_VERSION:
                printf ("tongxin-send %s (libtongxin %d.%d, protocol %d)\n", TONGXIN_VERSION,
                        TONGXIN_VERSION_MAJOR, TONGXIN_VERSION_MINOR, TONGXIN_PROTOCOL_VERSION);
                return RC_OK;
            case O_UNIT:        args->unit = optarg; break;
            case O_TYPE:        args->type = optarg; break;
            case O_AT:          args->at = optarg; break;
            case O_PARTNER:     args->partner = optarg; break;
            case O_ID:          args->id = optarg; break;
            case O_ATTR:        args->attrs [args->n_attrs++] = optarg; break;
            case O_SPOOL:
                if (!*optarg)
                    return s_usage ("--spool: the directory name is empty");
                args->spool = optarg;
                break;
            case O_INSECURE:    args->insecure = true; break;
            case O_KEY:         args->key_file = optarg; break;
            case O_SERVER_KEY:  args->server_key = optarg; break;
            case O_ENDPOINT:
                if (args->n_endpoints == MAX_ENDPOINTS)
                    return s_usage ("--endpoint: at most %d", MAX_ENDPOINTS);
                args->endpoints [args->n_endpoints++] = optarg;
                break;
            case O_SPOOL_CAP:
                if (!s_parse_long (optarg, 1, 1L << 20, &v))
                    return s_usage ("--spool-cap: '%s' is not a number of MiB from 1 to 1048576",
                                    optarg);
                args->spool_cap_mb = (uint64_t) v;
                break;
            case O_FSYNC_MS:
                if (!s_parse_long (optarg, 0, 10000, &v))
                    return s_usage ("--fsync-ms: '%s' is not a number of ms from 0 to 10000", optarg);
                args->fsync_ms = (int) v;
                break;
            case O_WAIT:
                if (!s_parse_long (optarg, 0, 2000000, &v))
                    return s_usage ("--wait: '%s' is not a number of seconds from 0 to 2000000",
                                    optarg);
                args->wait_s = (int) v;
                break;
            default:
                return s_usage ("unknown option or missing value: %s", argv [optind - 1]);
        }
    }
    if (optind < argc)
        args->input = argv [optind++];
    if (optind < argc)
        return s_usage ("unexpected argument '%s': give one FILE at most", argv [optind]);

    if (!args->unit)
        return s_usage ("--unit CODE is required (this producer's unit)");
    if (!tx_lex_unit_code (args->unit, strlen (args->unit)))
        return s_usage ("--unit: bad unit code '%s': use 1-64 of a-z 0-9 . _ -, starting with a "
                        "letter or digit", args->unit);
    bool flags = args->type || args->at || args->partner || args->id || args->n_attrs;
    if (args->input && flags)
        return s_usage ("give either FILE or one event's flags (--type, --at, --partner, --attr, "
                        "--id), not both");
    if (!args->input && !flags)
        return s_usage ("nothing to send: give --type and --at for one event, or a FILE of JSON "
                        "lines (- for standard input)");
    if (flags && !args->type)
        return s_usage ("--type TYPE is required for an event given by flags");
    if (flags && !args->at)
        return s_usage ("--at TIME is required for an event given by flags");
    if (args->insecure && (args->key_file || args->server_key))
        return s_usage ("--insecure excludes --key and --server-key");
    if (!args->insecure && !args->key_file && !args->server_key)
        return s_usage ("choose CURVE (--key FILE --server-key KEY) or plain transport "
                        "(--insecure)");
    if (args->key_file && !args->server_key)
        return s_usage ("--key needs --server-key: the collector's public key, a .pub file or its "
                        "40-character Z85 text");
    if (args->server_key && !args->key_file)
        return s_usage ("--server-key needs --key: the secret key file of unit %s", args->unit);
    if (args->n_endpoints == 0)
        args->endpoints [args->n_endpoints++] = "tcp://127.0.0.1:7450";
    return -1;
}

//  ---------------------------------------------------------------- id -> line

//  Events waiting for their verdict, by id.  Open addressing with linear
//  probing, at most half full; an id may appear more than once (a file
//  that repeats an id), and then the earliest line is answered first.
typedef struct {
    uint8_t id [16];            //  event id
    uint64_t line;              //  input line; 0 marks a free slot
} slot_t;

typedef struct {
    slot_t *slots;              //  cap slots
    size_t cap;                 //  0 or a power of two
    size_t count;               //  slots in use
} idmap_t;

static size_t
s_hash (const uint8_t id [16])
{
    uint64_t a, b;
    memcpy (&a, id, 8);
    memcpy (&b, id + 8, 8);
    uint64_t h = a ^ (b * 0x9E3779B97F4A7C15ULL);
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 29;
    return (size_t) h;
}

static int
s_idmap_put (idmap_t *m, const uint8_t id [16], uint64_t line)
{
    if ((m->count + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        slot_t *slots = calloc (cap, sizeof *slots);
        if (!slots)
            return -1;
        for (size_t i = 0; i < m->cap; i++)
            if (m->slots [i].line) {
                size_t j = s_hash (m->slots [i].id) & (cap - 1);
                while (slots [j].line)
                    j = (j + 1) & (cap - 1);
                slots [j] = m->slots [i];
            }
        free (m->slots);
        m->slots = slots;
        m->cap = cap;
    }
    size_t j = s_hash (id) & (m->cap - 1);
    while (m->slots [j].line)
        j = (j + 1) & (m->cap - 1);
    memcpy (m->slots [j].id, id, 16);
    m->slots [j].line = line;
    m->count++;
    return 0;
}

//  Removes the entry of id with exactly this line, or (line 0) the one with
//  the lowest line.  Returns its line, or 0 if there is none.
static uint64_t
s_idmap_take (idmap_t *m, const uint8_t id [16], uint64_t line)
{
    if (m->count == 0)
        return 0;
    size_t mask = m->cap - 1;
    size_t best = SIZE_MAX;
    for (size_t j = s_hash (id) & mask; m->slots [j].line; j = (j + 1) & mask) {
        if (memcmp (m->slots [j].id, id, 16) != 0)
            continue;
        if (line ? m->slots [j].line == line
                 : best == SIZE_MAX || m->slots [j].line < m->slots [best].line)
            best = j;
    }
    if (best == SIZE_MAX)
        return 0;
    uint64_t found = m->slots [best].line;
    //  Backward-shift deletion: pull later members of the run into the hole.
    size_t hole = best;
    for (size_t j = (hole + 1) & mask; m->slots [j].line; j = (j + 1) & mask) {
        size_t home = s_hash (m->slots [j].id) & mask;
        bool stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
        if (!stays) {
            m->slots [hole] = m->slots [j];
            hole = j;
        }
    }
    m->slots [hole].line = 0;
    m->count--;
    return found;
}

//  ---------------------------------------------------------------- state

//  jansson reads a number as a long long or a double: it would round
//  123456789012345678901234567890.123456789 to a double without a word, and
//  it refuses a whole line for an integer past 64 bits.  So before jansson
//  parses a line, each number token in it (outside strings) is replaced by
//  its index in this table; an attribute whose value is a number is then
//  an index, and the number is taken from the line exactly as written.
typedef struct {
    char *text;                     //  the line, numbers replaced (owned)
    size_t len;
    size_t cap;
    size_t n;                       //  number tokens
    size_t at [MAX_NUMBERS];        //  each one's offset in the line
    size_t size [MAX_NUMBERS];      //  its length
    size_t new_at [MAX_NUMBERS];    //  its index's offset in text
} numbers_t;

//  Events checked and waiting to be spooled together.
typedef struct {
    tongxin_event_t *ev [BATCH];    //  owned
    uint8_t id [BATCH][16];         //  their ids
    uint64_t line [BATCH];          //  their input lines
    size_t n;
    char errs [BATCH][160];         //  libtongxin's reasons, per event
} batch_t;

typedef struct {
    const args_t *args;
    tongxin_t *tx;              //  the producer
    char *spool;                //  the spool directory in use
    bool flag_form;             //  one event from flags: its line prints as "-"
    bool tty;                   //  stderr is a terminal
    bool stopped;               //  the collector said stop (reported once)
    int64_t start_ms;           //  when reading began
    int64_t drawn_ms;           //  last progress line
    uint64_t lines;             //  input lines read (main thread only)
    batch_t batch;              //  events to spool next (main thread only)
    numbers_t numbers;          //  the current line's numbers (main thread only)
    pthread_mutex_t lock;       //  guards the rest; verdicts arrive on the sender thread
    idmap_t pending;            //  this run's events without a verdict
    uint64_t events;            //  non-blank input lines
    uint64_t stored;            //  verdicts on them, by kind
    uint64_t duplicate;
    uint64_t rejected;
    uint64_t invalid;           //  refused here, never spooled
    bool progress_shown;        //  a progress line is on the screen (no newline yet)
} send_t;


static void
s_sleep_ms (int ms)
{
    struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };
    nanosleep (&ts, NULL);
}

//  Lock held.  Takes an unfinished progress line off the screen.
static void
s_progress_clear (send_t *self)
{
    if (self->progress_shown) {
        fputs ("\r\033[K", stderr);
        self->progress_shown = false;
    }
}

//  Draws the progress line: only on a terminal, only for large inputs,
//  at most every PROGRESS_MS unless final (which ends it with a newline).
static void
s_progress (send_t *self, bool final)
{
    if (!self->tty || self->lines <= PROGRESS_LINES)
        return;
    int64_t now = tx_clock_ms ();
    if (!final && now - self->drawn_ms < PROGRESS_MS)
        return;
    self->drawn_ms = now;
    pthread_mutex_lock (&self->lock);
    uint64_t acked = self->stored + self->duplicate + self->rejected;
    double secs = (double) (now - self->start_ms) / 1000.0;
    fprintf (stderr, "\r\033[K%" PRIu64 " read, %" PRIu64 " acknowledged, %" PRIu64
             " rejected, %.0f/s", self->events, acked, self->rejected + self->invalid,
             secs > 0.05 ? (double) acked / secs : 0.0);
    self->progress_shown = !final;
    if (final)
        fputc ('\n', stderr);
    pthread_mutex_unlock (&self->lock);
}

//  Lock held.  Writes the LINE part of a report.
static void
s_put_line (const send_t *self, uint64_t line)
{
    if (self->flag_form)
        fputc ('-', stderr);
    else
        fprintf (stderr, "%" PRIu64, line);
}

//  Writes s with control characters as '?', so that a report stays one line.
static void
s_put_clean (const char *s)
{
    for (; s && *s; s++)
        fputc ((unsigned char) *s < 0x20 || *s == 0x7f ? '?' : *s, stderr);
}

//  A printable copy of s[0..len) for a message: control bytes as \xNN, cut
//  after SHOW_MAX bytes (on a character boundary) and marked "...".
static const char *
s_show (const char *s, size_t len, char out [SHOW_SIZE])
{
    size_t n = len;
    if (n > SHOW_MAX)
        for (n = SHOW_MAX; tongxin_text_valid (s, len) && ((unsigned char) s [n] & 0xc0) == 0x80; n--)
            ;                   //  text: cut on a character boundary
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s [i];
        if (c < 0x20 || c == 0x7f)
            o += (size_t) snprintf (out + o, SHOW_SIZE - o, "\\x%02x", c);
        else
            out [o++] = (char) c;
    }
    if (n < len) {
        memcpy (out + o, "...", 3);
        o += 3;
    }
    out [o] = 0;
    return out;
}

static void s_invalid (send_t *self, uint64_t line, const char *code, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

//  Reports an event refused here: "LINE: CODE: message".
static void
s_invalid (send_t *self, uint64_t line, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    char *msg;
    if (vasprintf (&msg, fmt, ap) < 0)
        s_oom ();
    va_end (ap);
    pthread_mutex_lock (&self->lock);
    self->invalid++;
    s_progress_clear (self);
    s_put_line (self, line);
    fprintf (stderr, ": %s: %s\n", code, msg);
    pthread_mutex_unlock (&self->lock);
    free (msg);
}

//  Reports an event libtongxin refused.  Its reason starts with the
//  protocol's reject code ("too_long: ..."); keep that as the code.
static void
s_refused (send_t *self, uint64_t line, const char *err)
{
    size_t n = strspn (err, "abcdefghijklmnopqrstuvwxyz_");
    if (n > 0 && n < 64 && err [n] == ':' && err [n + 1] == ' ') {
        char code [64];
        memcpy (code, err, n);
        code [n] = 0;
        s_invalid (self, line, code, "%s", err + n + 2);
    }
    else
        s_invalid (self, line, "invalid_event", "%s", *err ? err : "refused by libtongxin");
}

static void s_error (send_t *self, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

//  One line about the run as a whole.
static void
s_error (send_t *self, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    pthread_mutex_lock (&self->lock);
    s_progress_clear (self);
    fputs ("tongxin-send: ", stderr);
    vfprintf (stderr, fmt, ap);
    fputc ('\n', stderr);
    pthread_mutex_unlock (&self->lock);
    va_end (ap);
}

//  The verdict callback, on the library's sender thread.
static void
s_on_verdict (void *arg, const uint8_t id [16], int verdict, const char *code, const char *msg)
{
    send_t *self = arg;
    pthread_mutex_lock (&self->lock);
    uint64_t line = s_idmap_take (&self->pending, id, 0);
    bool rejected = verdict != TONGXIN_STORED && verdict != TONGXIN_DUPLICATE;
    //  No line: an event an earlier run left in the spool; not counted.
    if (line && verdict == TONGXIN_STORED)
        self->stored++;
    else
    if (line && verdict == TONGXIN_DUPLICATE)
        self->duplicate++;
    else
    if (line)
        self->rejected++;
    if (rejected) {
        s_progress_clear (self);
        if (line)
            s_put_line (self, line);
        else
            fputs ("spool", stderr);
        fputs (": ", stderr);
        s_put_clean (code && *code ? code : "rejected");
        fputs (": ", stderr);
        s_put_clean (msg);
        if (!line) {
            char text [37];
            tongxin_id_format (id, text);
            fprintf (stderr, " (event %s of an earlier run)", text);
        }
        fputc ('\n', stderr);
    }
    pthread_mutex_unlock (&self->lock);
}

//  ---------------------------------------------------------------- values

//  Parses a date and time with Z or a UTC offset (common/lex.c: RFC 3339
//  and the ISO 8601 forms people write) into unix microseconds.  0, or -1
//  with the reason in err.
static int
s_parse_time (const char *s, int64_t *us_out, char *err, size_t errlen)
{
    char show [SHOW_SIZE];
    s_show (s, strlen (s), show);
    tx_time_t rc = tx_lex_time (s, strlen (s), us_out);
    switch (rc) {
        case TX_TIME_OK:
            return 0;
        case TX_TIME_NO_CLOCK:
            snprintf (err, errlen, "'%s' is a date without a time of day: use e.g. %sT09:30:00+08:00",
                      show, show);
            break;
        case TX_TIME_NO_OFFSET:
            snprintf (err, errlen, "'%s' has no UTC offset: add Z or the offset, e.g. +08:00", show);
            break;
        case TX_TIME_BAD_OFFSET:
            snprintf (err, errlen, "'%s': the UTC offset is out of range", show);
            break;
        case TX_TIME_BAD_DATE:
            snprintf (err, errlen, "'%s': no such date", show);
            break;
        case TX_TIME_BAD_CLOCK:
        case TX_TIME_LEAP_SECOND:
            snprintf (err, errlen, "'%s': no such time of day%s", show,
                      rc == TX_TIME_LEAP_SECOND ? " (leap seconds cannot be represented)" : "");
            break;
        default:
            snprintf (err, errlen, "'%s' is not an ISO 8601 time with an offset, such as "
                      "2025-04-01T05:00:00+08:00 or 2025-03-31T21:00:00Z", show);
    }
    return -1;
}

//  Sets the event's id from its text (NULL: none given, the library makes
//  one).  Its version is the library's check.  0, or -1 after reporting.
static int
s_set_id (send_t *self, uint64_t line, const char *field, tongxin_event_t *ev, const char *text,
          size_t len)
{
    char show [SHOW_SIZE];
    if (text && (strlen (text) != len || tongxin_event_set_id (ev, text) != TONGXIN_OK)) {
        s_invalid (self, line, "bad_id", "%s: '%s' is not a UUID "
                   "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", field, s_show (text, len, show));
        return -1;
    }
    return 0;
}

//  A setter's result: they fail only when memory runs out.
static void
s_stored (int rc)
{
    if (rc != TONGXIN_OK)
        s_oom ();
}

//  ---------------------------------------------------------------- flag form

typedef enum { K_AUTO, K_INT, K_NUMERIC, K_TEXT, K_BOOL, K_DATE } kind_t;

static const char *s_kinds [] = { "", "int", "numeric", "text", "bool", "date", NULL };

//  ---------------------------------------------------------------- numbers

//  Adds the number written as s[0..len) as attribute NAME, exactly as
//  written: one rule for JSON lines and --attr, with the collector's own
//  lexical rule (common/lex.c).  An integer within int64 goes as an int,
//  any other number as its decimal text (numeric); an integer outside
//  int64 only where numeric is asked for (--attr NAME:numeric=...).  A
//  number is never rounded: anything else is refused with a message that
//  says how to write it.  kind is K_AUTO, K_INT or K_NUMERIC.  0, or -1
//  after reporting.
static int
s_number_attr (send_t *self, uint64_t line, const char *field, tongxin_event_t *ev,
               const char *name, const char *s, size_t len, kind_t kind)
{
    char show [SHOW_SIZE];
    s_show (s, len, show);
    int64_t i64 = 0;
    tx_num_t num = tx_lex_number (s, len, &i64, NULL);
    bool integer = num != TX_NUM_SYNTAX && !memchr (s, '.', len) && !memchr (s, 'e', len)
                && !memchr (s, 'E', len);
    if (num == TX_NUM_SYNTAX) {
        s_invalid (self, line, "bad_field", "%s: '%s' is not %s", field, show,
                   kind == K_INT ? "an integer" : "a decimal number (like 12, -0.5, 1.2e3)");
        return -1;
    }
    if (kind == K_INT && num != TX_NUM_INT) {
        if (integer)
            s_invalid (self, line, "out_of_range", "%s: %s is outside the int range (64 bits: "
                       "%" PRId64 " to %" PRId64 ")", field, show, INT64_MIN, INT64_MAX);
        else
            s_invalid (self, line, "bad_field", "%s: '%s' is not an integer", field, show);
        return -1;
    }
    if (num == TX_NUM_TOO_LONG) {
        s_invalid (self, line, "bad_number", "%s: the number has %zu characters; it is sent "
                   "exactly as written, in at most %d, and never rounded: write it with fewer "
                   "digits", field, len, TX_LEX_MAX_DECIMAL);
        return -1;
    }
    if (num == TX_NUM_RANGE) {
        s_invalid (self, line, "bad_number", "%s: %s is beyond the range of a decimal (its value "
                   "must fit a binary64 float: 0, or a magnitude from about 2.3e-308 to 1.7e308)",
                   field, show);
        return -1;
    }
    if (num == TX_NUM_BIG_INT && kind == K_AUTO) {
        if (self->flag_form)
            s_invalid (self, line, "out_of_range", "%s: %s is an integer outside the int range "
                       "(64 bits) and is never rounded; for a numeric attribute give "
                       "--attr %s:numeric=%s", field, show, name, show);
        else
            s_invalid (self, line, "out_of_range", "%s: %s is an integer outside the int range "
                       "(64 bits) and is never rounded; for a numeric attribute write it as a "
                       "string, \"%s\"", field, show, show);
        return -1;
    }
    char text [TX_LEX_MAX_DECIMAL + 1];
    memcpy (text, s, len);
    text [len] = 0;
    s_stored (num == TX_NUM_INT && kind != K_NUMERIC ? tongxin_event_add_int (ev, name, i64)
              : tongxin_event_add_numeric (ev, name, text));
    return 0;
}

//  The NAME[:KIND] of an --attr spec: its name's length and its kind.  0,
//  or -1 after reporting.
static int
s_flag_attr_name (send_t *self, const char *spec, size_t *name_len, kind_t *kind, char *field,
                  size_t fieldsize)
{
    char show [SHOW_SIZE];
    const char *eq = strchr (spec, '=');
    if (!eq || eq == spec) {
        s_invalid (self, 1, "bad_field", "--attr '%s': expected NAME=VALUE or NAME:KIND=VALUE",
                   s_show (spec, strlen (spec), show));
        return -1;
    }
    const char *colon = memrchr (spec, ':', (size_t) (eq - spec));
    *name_len = (size_t) ((colon ? colon : eq) - spec);
    snprintf (field, fieldsize, *name_len ? "--attr %s" : "--attr", s_show (spec, *name_len, show));
    *kind = K_AUTO;
    if (!colon)
        return 0;
    size_t klen = (size_t) (eq - colon - 1);
    *kind = K_INT;
    while (s_kinds [*kind] && (strlen (s_kinds [*kind]) != klen
                               || memcmp (s_kinds [*kind], colon + 1, klen) != 0))
        (*kind)++;
    if (!s_kinds [*kind]) {
        s_invalid (self, 1, "bad_field", "%s: unknown kind '%s' (int, numeric, text, bool, "
                   "date)", field, s_show (colon + 1, klen, show));
        return -1;
    }
    return 0;
}

//  Adds one --attr NAME[:KIND]=VALUE to ev.  The library checks the
//  event (names, lengths, dates) once it is whole.  0, or -1 after reporting.
static int
s_flag_attr (send_t *self, tongxin_event_t *ev, const char *spec)
{
    char show [SHOW_SIZE], field [SHOW_SIZE + 16];
    size_t name_len;
    kind_t kind;
    if (s_flag_attr_name (self, spec, &name_len, &kind, field, sizeof field) != 0)
        return -1;
    const char *value = strchr (spec, '=') + 1;
    size_t vlen = strlen (value);
    kind_t asked = kind;
    if (kind == K_AUTO)
        kind = tx_lex_number (value, vlen, NULL, NULL) != TX_NUM_SYNTAX ? K_NUMERIC
             : strcmp (value, "true") == 0 || strcmp (value, "false") == 0 ? K_BOOL
             : tx_lex_date_shaped (value, vlen) ? K_DATE
             : K_TEXT;
    if (kind == K_BOOL && strcmp (value, "true") != 0 && strcmp (value, "false") != 0) {
        s_invalid (self, 1, "bad_field", "%s: '%s' is not true or false", field,
                   s_show (value, vlen, show));
        return -1;
    }
    char *name = strndup (spec, name_len);
    if (!name)
        s_oom ();
    int rc = 0;
    switch (kind) {
        case K_INT:
        case K_NUMERIC:
            rc = s_number_attr (self, 1, field, ev, name, value, vlen, asked);
            break;
        case K_BOOL: s_stored (tongxin_event_add_bool (ev, name, value [0] == 't')); break;
        case K_DATE: s_stored (tongxin_event_add_date (ev, name, value)); break;
        default:     s_stored (tongxin_event_add_text (ev, name, value)); break;
    }
    free (name);
    return rc;
}

//  The event given by flags, checked by the library before anything is
//  opened.  NULL after reporting why.
static tongxin_event_t *
s_event_from_flags (send_t *self)
{
    const args_t *a = self->args;
    char err [512];
    int64_t at;
    if (s_parse_time (a->at, &at, err, sizeof err) != 0) {
        s_invalid (self, 1, "bad_time", "--at: %s", err);
        return NULL;
    }
    tongxin_event_t *ev = tongxin_event_new (a->type, at);
    if (!ev)
        s_oom ();
    if (a->partner)
        s_stored (tongxin_event_set_partner (ev, a->partner));
    for (size_t i = 0; i < a->n_attrs; i++)
        if (s_flag_attr (self, ev, a->attrs [i]) != 0)
            goto fail;
    if (s_set_id (self, 1, "--id", ev, a->id, a->id ? strlen (a->id) : 0) != 0)
        goto fail;
    int rc = tongxin_event_check (ev, err, sizeof err);
    if (rc == TONGXIN_ENOMEM)
        s_oom ();
    if (rc != TONGXIN_OK) {
        s_refused (self, 1, err);
        goto fail;
    }
    return ev;
fail:
    tongxin_event_destroy (&ev);
    return NULL;
}

//  ---------------------------------------------------------------- JSON lines


//  s[i] is '"': the index after the closing quote (len if there is none).
static size_t
s_skip_string (const char *s, size_t len, size_t i)
{
    for (i++; i < len && s [i] != '"'; i++)
        if (s [i] == '\\')
            i++;
    return i < len ? i + 1 : len;
}

//  The 1-based column (in characters) of byte offset i of s.
static size_t
s_column (const char *s, size_t i)
{
    size_t col = 1;
    for (size_t k = 0; k < i; k++)
        if (((unsigned char) s [k] & 0xc0) != 0x80)
            col++;
    return col;
}

static bool
s_number_char (char c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

//  Fills nums from line[0..len) (valid UTF-8).  0, or -1 after reporting.
static int
s_numbers_scan (send_t *self, uint64_t lineno, const char *line, size_t len, numbers_t *nums)
{
    size_t need = len + MAX_NUMBERS * 4 + 1;    //  an index has at most 4 digits
    if (nums->cap < need) {
        char *text = realloc (nums->text, need);
        if (!text)
            s_oom ();
        nums->text = text;
        nums->cap = need;
    }
    nums->n = 0;
    size_t o = 0, commas = 0;
    for (size_t i = 0; i < len; ) {
        char c = line [i];
        if (c == '"') {
            size_t j = s_skip_string (line, len, i);
            memcpy (nums->text + o, line + i, j - i);
            o += j - i;
            i = j;
            continue;
        }
        if (c != '-' && (c < '0' || c > '9')) {
            //  jansson would allocate for every value of a 16 MiB line of
            //  [{},{},...] (over 1 GB): refuse lines with far more values
            //  than an event can have (each value past a container's
            //  first follows a comma).
            if (c == ',' && ++commas == MAX_NUMBERS) {
                s_invalid (self, lineno, "bad_field", "the line holds more than %d values; an "
                           "event has at most %d attributes", MAX_NUMBERS, TONGXIN_MAX_ATTRS);
                return -1;
            }
            nums->text [o++] = c;
            i++;
            continue;
        }
        size_t j = i;
        while (j < len && s_number_char (line [j]))
            j++;
        char show [SHOW_SIZE];
        if (!tx_lex_json_number (line + i, j - i)) {
            s_invalid (self, lineno, "invalid_json", "column %zu: '%s' is not a JSON number "
                       "(like 12, -0.5, 1.2e3)", s_column (line, i), s_show (line + i, j - i, show));
            return -1;
        }
        if (nums->n == MAX_NUMBERS) {
            s_invalid (self, lineno, "bad_field", "the line holds more than %d numbers; an event "
                       "has at most %d attributes", MAX_NUMBERS, TONGXIN_MAX_ATTRS);
            return -1;
        }
        nums->at [nums->n] = i;
        nums->size [nums->n] = j - i;
        nums->new_at [nums->n] = o;
        o += (size_t) sprintf (nums->text + o, "%zu", nums->n);
        nums->n++;
        i = j;
    }
    nums->text [o] = 0;
    nums->len = o;
    return 0;
}

//  The offset in the line of offset pos of nums->text.
static size_t
s_numbers_orig (const numbers_t *nums, size_t pos)
{
    long delta = 0;                 //  line offset - text offset, so far
    for (size_t k = 0; k < nums->n && nums->new_at [k] < pos; k++) {
        size_t digits = (size_t) snprintf (NULL, 0, "%zu", k);
        if (pos < nums->new_at [k] + digits)
            return nums->at [k];
        delta += (long) nums->size [k] - (long) digits;
    }
    return (size_t) ((long) pos + delta);
}

//  Reports a line jansson refused.  Its message is the one for the line
//  as written, unless that one is about a number jansson cannot hold (not
//  a fault here): then the message for the text with numbers replaced, at
//  the column of the line.
static void
s_json_error (send_t *self, uint64_t lineno, const char *line, size_t len, const numbers_t *nums,
              const json_error_t *jerr)
{
    json_error_t orig;
    json_t *again = json_loadb (line, len, JSON_REJECT_DUPLICATES, &orig);
    json_decref (again);
    if (!again && !strstr (orig.text, "too big") && !strstr (orig.text, "real number")) {
        s_invalid (self, lineno, "invalid_json", "column %d: %s", orig.column, orig.text);
        return;
    }
    size_t pos = jerr->position > 0 ? (size_t) jerr->position : 0;
    size_t at = s_numbers_orig (nums, pos);
    if (at > len)
        at = len;
    char text [JSON_ERROR_TEXT_LENGTH];
    snprintf (text, sizeof text, "%s", jerr->text);
    char *near = strstr (text, " near ");
    if (near)
        *near = 0;
    //  jansson's column is that of the last character it read.
    s_invalid (self, lineno, "invalid_json", "column %zu: %s", s_column (line, at) - 1, text);
}

//  Adds attrs.NAME = value (a JSON value) to ev.  0, or -1 after reporting.
static int
s_json_attr (send_t *self, uint64_t lineno, const char *line, const numbers_t *nums,
             tongxin_event_t *ev, const char *name, json_t *value)
{
    char show [SHOW_SIZE], field [SHOW_SIZE + 8];
    size_t name_len = strlen (name);
    snprintf (field, sizeof field, name_len ? "attrs.%s" : "attrs", s_show (name, name_len, show));
    switch (json_typeof (value)) {
        case JSON_INTEGER: {
            //  An index into nums (s_numbers_scan): the number as written.
            json_int_t k = json_integer_value (value);
            if (k < 0 || (size_t) k >= nums->n) {
                s_invalid (self, lineno, "bad_field", "%s: a number lost on the way", field);
                return -1;
            }
            return s_number_attr (self, lineno, field, ev, name, line + nums->at [k],
                                  nums->size [k], K_AUTO);
        }
        case JSON_STRING:
            if (strlen (json_string_value (value)) != json_string_length (value)) {
                s_invalid (self, lineno, "bad_utf8", "%s: holds a NUL character", field);
                return -1;
            }
            s_stored (tongxin_event_add_text (ev, name, json_string_value (value)));
            return 0;
        case JSON_TRUE:
        case JSON_FALSE:
            s_stored (tongxin_event_add_bool (ev, name, json_is_true (value)));
            return 0;
        case JSON_NULL:
            s_invalid (self, lineno, "bad_field", "%s: null is not a value (leave an absent "
                       "attribute out)", field);
            return -1;
        default:
            s_invalid (self, lineno, "bad_field", "%s: an %s is not a value (attributes are "
                       "numbers, strings or booleans)", field,
                       json_is_array (value) ? "array" : "object");
            return -1;
    }
}

//  A string field of the line's object: NULL if absent; *bad set if it is
//  not a string (reported).
static const char *
s_json_str (send_t *self, uint64_t lineno, json_t *root, const char *key, size_t *len, bool *bad)
{
    json_t *v = json_object_get (root, key);
    if (!v)
        return NULL;
    if (!json_is_string (v)) {
        s_invalid (self, lineno, "bad_field", "%s: must be a string", key);
        *bad = true;
        return NULL;
    }
    *len = json_string_length (v);
    if (strlen (json_string_value (v)) != *len) {
        s_invalid (self, lineno, "bad_utf8", "%s: holds a NUL character", key);
        *bad = true;
        return NULL;
    }
    return json_string_value (v);
}

//  The event of one non-blank JSON line, checked.  NULL after reporting why.
static tongxin_event_t *
s_event_from_json (send_t *self, uint64_t lineno, const char *line, size_t len, uint8_t id [16])
{
    static const char *known [] = { "id", "unit", "type", "occurred_at", "partner", "attrs", NULL };
    if (!tongxin_text_valid (line, len)) {
        s_invalid (self, lineno, "bad_utf8", "the line is not valid UTF-8 or holds a NUL byte");
        return NULL;
    }
    numbers_t *nums = &self->numbers;
    if (s_numbers_scan (self, lineno, line, len, nums) != 0)
        return NULL;
    json_error_t jerr;
    json_t *root = json_loadb (nums->text, nums->len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        s_json_error (self, lineno, line, len, nums, &jerr);
        return NULL;
    }
    tongxin_event_t *ev = NULL;
    char err [512], show [SHOW_SIZE];
    if (!json_is_object (root)) {
        s_invalid (self, lineno, "invalid_json", "an array, not an object");
        goto fail;
    }
    const char *key;
    json_t *value;
    json_object_foreach (root, key, value) {
        int k = 0;
        while (known [k] && strcmp (known [k], key) != 0)
            k++;
        if (!known [k]) {
            s_invalid (self, lineno, "unknown_field", "'%s' is not a field (id, unit, type, "
                       "occurred_at, partner, attrs)", s_show (key, strlen (key), show));
            goto fail;
        }
    }
    bool bad = false;
    size_t type_len = 0, at_len = 0, unit_len = 0, partner_len = 0, id_len = 0;
    const char *type = s_json_str (self, lineno, root, "type", &type_len, &bad);
    const char *at = bad ? NULL : s_json_str (self, lineno, root, "occurred_at", &at_len, &bad);
    const char *unit = bad ? NULL : s_json_str (self, lineno, root, "unit", &unit_len, &bad);
    const char *partner = bad ? NULL : s_json_str (self, lineno, root, "partner", &partner_len, &bad);
    const char *idtext = bad ? NULL : s_json_str (self, lineno, root, "id", &id_len, &bad);
    if (bad)
        goto fail;
    if (!type || !at) {
        s_invalid (self, lineno, "missing_field", "%s is required", !type ? "type" : "occurred_at");
        goto fail;
    }
    int64_t at_us;
    if (s_parse_time (at, &at_us, err, sizeof err) != 0) {
        s_invalid (self, lineno, "bad_time", "occurred_at: %s", err);
        goto fail;
    }
    json_t *attrs = json_object_get (root, "attrs");
    if (attrs && !json_is_object (attrs)) {
        s_invalid (self, lineno, "bad_field", "attrs: must be an object {\"name\": value, ...}");
        goto fail;
    }
    ev = tongxin_event_new (type, at_us);
    if (!ev)
        s_oom ();
    if (unit)
        s_stored (tongxin_event_set_unit (ev, unit));
    if (partner)
        s_stored (tongxin_event_set_partner (ev, partner));
    if (attrs)
        json_object_foreach (attrs, key, value)
            if (s_json_attr (self, lineno, line, nums, ev, key, value) != 0)
                goto fail;
    if (s_set_id (self, lineno, "id", ev, idtext, id_len) != 0)
        goto fail;
    if (tongxin_event_id (self->tx, ev, id) != TONGXIN_OK) {
        s_error (self, "cannot make an event id: %s", strerror (errno));
        exit (RC_RUNTIME);
    }
    json_decref (root);
    return ev;
fail:
    tongxin_event_destroy (&ev);
    json_decref (root);
    return NULL;
}

//  ---------------------------------------------------------------- sending

//  The line for a link that the handshakes say is broken (libtongxin's
//  stats.link), naming the flag to check.
static void
s_link_report (send_t *self, const tongxin_stats_t *stats)
{
    const args_t *a = self->args;
    const char *ep = stats->link_endpoint;
    int n = stats->link_failures;
    switch (stats->link) {
        case TONGXIN_LINK_KEY_REFUSED:
            s_error (self, "the collector at %s refused the key of unit %s (--key %s) %d times: it "
                     "is unknown or revoked; ask the administrator to issue one (tongxin-admin key "
                     "issue %s); the events stay in %s", ep, a->unit, a->key_file, n, a->unit,
                     self->spool);
            break;
        case TONGXIN_LINK_SERVER_KEY:
            //  A CURVE collector often closes on a plain client before
            //  libzmq reports the mechanism mismatch: say so.
            if (a->insecure)
                s_error (self, "no handshake with the collector at %s succeeded (%d tries, it "
                         "closed the connection each time): it may require CURVE (give --key and "
                         "--server-key instead of --insecure); else check --endpoint; the events "
                         "stay in %s", ep, n, self->spool);
            else
                s_error (self, "no CURVE handshake with the collector at %s succeeded (%d tries, "
                         "it closed the connection each time): check --server-key (the "
                         "collector's public key) and --endpoint; the events stay in %s", ep, n,
                         self->spool);
            break;
        case TONGXIN_LINK_MECHANISM:
            if (a->insecure)
                s_error (self, "the collector at %s requires CURVE: give --key and --server-key "
                         "instead of --insecure; the events stay in %s", ep, self->spool);
            else
                s_error (self, "the collector at %s does not use CURVE (is it running with "
                         "--insecure?): check --endpoint; the events stay in %s", ep, self->spool);
            break;
        case TONGXIN_LINK_NOT_ZMTP:
            s_error (self, "%s closed the connection before the ZeroMQ greeting (%d tries): it is "
                     "not a Tongxin collector; check --endpoint; the events stay in %s", ep, n,
                     self->spool);
            break;
    }
}

//  True if the run cannot go on: the collector told the producer to stop,
//  or the handshakes say that no collector will take our events until a
//  key or a flag is fixed (reported once).
static bool
s_stopped (send_t *self)
{
    tongxin_stats_t stats;
    tongxin_stats (self->tx, &stats);
    bool broken = stats.link > TONGXIN_LINK_UP;
    if ((stats.stopped || broken) && !self->stopped) {
        self->stopped = true;
        if (stats.stopped)
            s_error (self, "the collector refused to go on: %s", stats.last_error);
        else
            s_link_report (self, &stats);
    }
    return stats.stopped || broken;
}

//  Spools the batched events with one fsync for all of them.  Returns 0
//  (events refused by libtongxin are reported), or the exit code that ends
//  reading.
static int
s_spool (send_t *self)
{
    batch_t *b = &self->batch;
    if (b->n == 0)
        return 0;
    //  Mapped before they are spooled: a verdict may come before
    //  tongxin_submit_many returns.
    pthread_mutex_lock (&self->lock);
    for (size_t i = 0; i < b->n; i++)
        if (s_idmap_put (&self->pending, b->id [i], b->line [i]) != 0)
            s_oom ();
    pthread_mutex_unlock (&self->lock);

    tongxin_event_t *todo [BATCH];          //  not yet stored, in input order
    size_t which [BATCH];                   //  their index in b
    int results [BATCH];
    size_t n = b->n;
    for (size_t i = 0; i < n; i++) {
        todo [i] = b->ev [i];
        which [i] = i;
    }
    int rc = 0;
    int wait_ms = self->args->wait_s * 1000;
    int64_t deadline = 0;
    uint64_t low = UINT64_MAX;
    while (n > 0) {
        tongxin_submit_many (self->tx, todo, n, NULL, results, b->errs [0], sizeof b->errs [0]);
        size_t full = 0;
        for (size_t i = 0; i < n; i++) {
            size_t k = which [i];
            if (results [i] == TONGXIN_OK)
                continue;
            if (results [i] == TONGXIN_EFULL && rc == 0) {
                todo [full] = todo [i];         //  full <= i: kept for a retry
                which [full++] = k;
                continue;
            }
            pthread_mutex_lock (&self->lock);
            s_idmap_take (&self->pending, b->id [k], b->line [k]);
            pthread_mutex_unlock (&self->lock);
            if (results [i] == TONGXIN_EINVAL)
                s_refused (self, b->line [k], b->errs [i]);
            else
            if (rc == 0) {
                char where [40] = "";
                if (!self->flag_form)
                    snprintf (where, sizeof where, "line %" PRIu64 ": ", b->line [k]);
                s_error (self, "%scannot spool the event: %s", where,
                         *b->errs [i] ? b->errs [i] : "I/O error");
                rc = RC_RUNTIME;
            }
        }
        n = full;
        if (n == 0)
            break;
        //  A full spool drains as the collector acknowledges: retry while
        //  it does; give up after --wait seconds without progress.
        tongxin_stats_t stats;
        tongxin_stats (self->tx, &stats);
        int64_t now = tx_clock_ms ();
        if (stats.queued < low) {
            low = stats.queued;
            deadline = now + wait_ms;
        }
        bool give_up = rc || wait_ms == 0 || now >= deadline || s_interrupted || s_stopped (self);
        if (!give_up) {
            s_sleep_ms (50);
            s_progress (self, false);
            continue;
        }
        pthread_mutex_lock (&self->lock);
        for (size_t i = 0; i < n; i++)
            s_idmap_take (&self->pending, b->id [which [i]], b->line [which [i]]);
        pthread_mutex_unlock (&self->lock);
        if (rc == 0 && s_interrupted)
            rc = 128 + s_interrupted;
        else
        if (rc == 0 && self->stopped)
            rc = RC_RUNTIME;
        else
        if (rc == 0) {
            char where [40] = "";
            if (!self->flag_form)
                snprintf (where, sizeof where, "line %" PRIu64 ": ", b->line [which [0]]);
            //  The library says which limit: the cap or the file system.
            bool disk = tongxin_full_cause (self->tx) == TONGXIN_FULL_DISK;
            char cap [48];
            snprintf (cap, sizeof cap, "cap %" PRIu64 " MiB",
                      self->args->spool_cap_mb ? self->args->spool_cap_mb : 1024);
            s_error (self, "%sthe spool %s is full (%s)%s: this event and the "
                     "rest of the input were not sent", where, self->spool,
                     disk ? "no room left on its file system" : cap,
                     wait_ms ? " and the collector did not drain it" : "");
            rc = RC_FULL;
        }
        break;
    }
    for (size_t i = 0; i < b->n; i++)
        tongxin_event_destroy (&b->ev [i]);
    b->n = 0;
    return rc;
}

//  Adds an event to the batch; spools the batch when it is full.  Returns
//  0 or the exit code that ends reading.
static int
s_add (send_t *self, tongxin_event_t **ev_p, const uint8_t id [16], uint64_t line)
{
    batch_t *b = &self->batch;
    b->ev [b->n] = *ev_p;
    memcpy (b->id [b->n], id, 16);
    b->line [b->n++] = line;
    *ev_p = NULL;
    return b->n == BATCH ? s_spool (self) : 0;
}

//  ---------------------------------------------------------------- reading

//  Lines of any length from a file descriptor, and whether reading the
//  next one would block (then the batch is spooled first, so that events
//  trickling in through a pipe are not held back).
typedef struct {
    int fd;                     //  borrowed
    char *buf;                  //  owned; unread bytes are buf [start..end)
    size_t cap;
    size_t start;
    size_t end;
    bool eof;                   //  read returned 0
    size_t skipped;             //  bytes of an overlong line being dropped
} reader_t;

//  The next line, without its newline, in *line (valid until the next call)
//  and *len.  Returns 1, 2 for a line over MAX_LINE bytes (dropped, *len is
//  its length), 0 at the end, or -1 on a read error (errno).
static int
s_reader_next (reader_t *r, const char **line, size_t *len)
{
    for (;;) {
        char *from = r->buf + r->start;
        char *nl = r->end > r->start ? memchr (from, '\n', r->end - r->start) : NULL;
        if (nl || (r->eof && r->end > r->start) || (r->eof && r->skipped)) {
            size_t n = nl ? (size_t) (nl - from) : r->end - r->start;
            r->start += n + (nl ? 1 : 0);
            *line = from;
            *len = r->skipped + n;
            if (*len <= MAX_LINE)
                return 1;
            r->skipped = 0;
            return 2;
        }
        if (r->eof)
            return 0;
        if (r->end - r->start > MAX_LINE) {
            r->skipped += r->end - r->start;        //  drop what we have of it
            r->start = r->end;
        }
        if (r->start > 0) {
            memmove (r->buf, r->buf + r->start, r->end - r->start);
            r->end -= r->start;
            r->start = 0;
        }
        if (r->end == r->cap) {
            size_t cap = r->cap ? r->cap * 2 : 65536;
            char *buf = realloc (r->buf, cap);
            if (!buf)
                s_oom ();
            r->buf = buf;
            r->cap = cap;
        }
        ssize_t got = read (r->fd, r->buf + r->end, r->cap - r->end);
        if (got < 0)
            return -1;
        if (got == 0)
            r->eof = true;
        r->end += (size_t) (got > 0 ? got : 0);
    }
}

//  True if the next s_reader_next returns at once.
static bool
s_reader_ready (const reader_t *r)
{
    if (r->eof || (r->end > r->start && memchr (r->buf + r->start, '\n', r->end - r->start)))
        return true;
    struct pollfd p = { .fd = r->fd, .events = POLLIN };
    return poll (&p, 1, 0) > 0;
}

//  The start of the input: a UTF-8 byte order mark (Windows editors write
//  one) is skipped; UTF-16 is refused saying how to convert it.  0, or -1
//  after reporting (the line is then done with).
static int
s_input_bom (send_t *self, const char **line, size_t *len)
{
    const unsigned char *u = (const unsigned char *) *line;
    if (*len >= 3 && u [0] == 0xef && u [1] == 0xbb && u [2] == 0xbf) {
        *line += 3;
        *len -= 3;
        return 0;
    }
    if (*len >= 2 && ((u [0] == 0xff && u [1] == 0xfe) || (u [0] == 0xfe && u [1] == 0xff))) {
        pthread_mutex_lock (&self->lock);
        self->events++;
        pthread_mutex_unlock (&self->lock);
        s_invalid (self, 1, "bad_utf8", "the input is UTF-16 (it starts with a byte order "
                   "mark): convert it to UTF-8, e.g. iconv -f UTF-16 -t UTF-8");
        return -1;
    }
    return 0;
}

//  Reads JSON lines from fd and spools their events.  0, or the exit code
//  that stopped it.
static int
s_read (send_t *self, int fd)
{
    reader_t r = { .fd = fd };
    int rc = 0;
    while (!s_interrupted) {
        if (self->batch.n && !s_reader_ready (&r) && (rc = s_spool (self)) != 0)
            break;
        const char *line;
        size_t len;
        int got = s_reader_next (&r, &line, &len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            s_error (self, "reading %s: %s", self->args->input, strerror (errno));
            rc = RC_RUNTIME;
            break;
        }
        if (got == 0)
            break;
        uint64_t lineno = ++self->lines;
        if (lineno == 1 && s_input_bom (self, &line, &len) != 0)
            continue;
        if (got == 2) {
            pthread_mutex_lock (&self->lock);
            self->events++;
            pthread_mutex_unlock (&self->lock);
            s_invalid (self, lineno, "too_long", "the line has %zu bytes; at most %d", len,
                       MAX_LINE);
            continue;
        }
        size_t i = 0;
        while (i < len && (line [i] == ' ' || line [i] == '\t' || line [i] == '\r'))
            i++;
        if (i == len)
            continue;
        pthread_mutex_lock (&self->lock);
        self->events++;
        pthread_mutex_unlock (&self->lock);
        uint8_t id [16];
        tongxin_event_t *ev = s_event_from_json (self, lineno, line, len, id);
        if (ev && (rc = s_add (self, &ev, id, lineno)) != 0)
            break;
        if (lineno % BATCH == 0 && s_stopped (self)) {
            rc = RC_RUNTIME;
            break;
        }
        s_progress (self, false);
    }
    if (rc == 0)
        rc = s_spool (self);
    else {
        for (size_t i = 0; i < self->batch.n; i++)
            tongxin_event_destroy (&self->batch.ev [i]);
        self->batch.n = 0;
    }
    if (rc == 0 && s_interrupted)
        rc = 128 + s_interrupted;
    free (r.buf);
    return rc;
}

//  Lines of this run still without a verdict, in order, for a message:
//  "3, 17, 18 and 40 more".  The caller frees it.
static char *
s_pending_lines (send_t *self)
{
    pthread_mutex_lock (&self->lock);
    size_t n = 0, cap = self->pending.count;
    uint64_t *lines = malloc ((cap ? cap : 1) * sizeof *lines);
    if (!lines)
        s_oom ();
    for (size_t i = 0; i < self->pending.cap; i++)
        if (self->pending.slots [i].line)
            lines [n++] = self->pending.slots [i].line;
    pthread_mutex_unlock (&self->lock);
    for (size_t i = 1; i < n; i++)         //  few, usually; insertion sort
        for (size_t j = i; j > 0 && lines [j - 1] > lines [j]; j--) {
            uint64_t t = lines [j];
            lines [j] = lines [j - 1];
            lines [j - 1] = t;
        }
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    if (!out)
        s_oom ();
    for (size_t i = 0; i < n && i < 10; i++)
        fprintf (out, "%s%" PRIu64, i ? ", " : "", lines [i]);
    if (n > 10)
        fprintf (out, " and %zu more", n - 10);
    fclose (out);
    free (lines);
    return text;
}

//  Waits until everything in the spool has a verdict, at most --wait
//  seconds.  0, or an exit code.
static int
s_wait (send_t *self)
{
    int64_t deadline = tx_clock_ms () + (int64_t) self->args->wait_s * 1000;
    int rc;
    for (;;) {
        int64_t left = deadline - tx_clock_ms ();
        rc = tongxin_flush (self->tx, left <= 0 ? 0 : left < PROGRESS_MS ? (int) left : PROGRESS_MS);
        s_progress (self, false);
        if (rc != TONGXIN_ETIMEDOUT || left <= 0 || s_interrupted)
            break;
        if (s_stopped (self))       //  a refused key, a wrong server key: no use waiting
            return RC_RUNTIME;
    }
    if (rc == TONGXIN_OK) {
        //  The spool is answered for; let the last callbacks finish.
        for (int i = 0; i < 200; i++) {
            pthread_mutex_lock (&self->lock);
            size_t left = self->pending.count;
            pthread_mutex_unlock (&self->lock);
            if (left == 0)
                return 0;
            s_sleep_ms (10);
        }
    }
    if (s_interrupted)
        return 128 + s_interrupted;
    if (s_stopped (self) || rc == TONGXIN_ESTOPPED) {
        if (!self->stopped) {
            self->stopped = true;
            s_error (self, "the collector refused to go on");
        }
        return RC_RUNTIME;
    }
    tongxin_stats_t stats;
    tongxin_stats (self->tx, &stats);
    char *lines = s_pending_lines (self);
    pthread_mutex_lock (&self->lock);
    size_t mine = self->pending.count;
    pthread_mutex_unlock (&self->lock);
    uint64_t others = stats.queued > mine ? stats.queued - mine : 0;
    if (mine + others == 0) {
        free (lines);
        return 0;                       //  answered just as time ran out
    }
    char *what = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&what, &size);
    if (!out)
        s_oom ();
    if (mine && self->flag_form)
        fprintf (out, "the event");
    else
    if (mine)
        fprintf (out, "%zu event%s (line%s %s)", mine, mine == 1 ? "" : "s", mine == 1 ? "" : "s",
                 lines);
    if (others)
        fprintf (out, "%s%" PRIu64 " event%s of earlier runs", mine ? " and " : "", others,
                 others == 1 ? "" : "s");
    fclose (out);
    char last [sizeof stats.last_error + 24] = "";
    if (*stats.last_error)
        snprintf (last, sizeof last, " (last problem: %s)", stats.last_error);
    s_error (self, "no answer from the collector within %d s for %s; %s in %s for the next "
             "tongxin-send%s", self->args->wait_s, what,
             mine + others == 1 ? "it stays" : "they stay", self->spool, last);
    free (what);
    free (lines);
    return RC_TIMEOUT;
}

//  ---------------------------------------------------------------- main

//  Creates dir and any missing parent with mode 0700.  0, or -1 (errno).
static int
s_mkdirs (const char *dir)
{
    char *path = strdup (dir);
    if (!path)
        s_oom ();
    int rc = 0;
    for (char *p = path + 1; ; p++) {
        if (*p != '/' && *p != 0)
            continue;
        char c = *p;
        *p = 0;
        if (mkdir (path, 0700) != 0 && errno != EEXIST)
            rc = -1;
        *p = c;
        if (rc || c == 0)
            break;
    }
    free (path);
    return rc;
}

//  --spool, else $XDG_STATE_HOME/tongxin/spool/UNIT, else
//  ~/.local/state/tongxin/spool/UNIT: one spool per unit, so events left in
//  a spool never go out under another unit's key.
static char *
s_spool_dir (const char *given, const char *unit)
{
    char *dir = NULL;
    const char *state = getenv ("XDG_STATE_HOME");
    const char *home = getenv ("HOME");
    if (!home || !*home) {
        struct passwd *pw = getpwuid (getuid ());
        home = pw ? pw->pw_dir : NULL;
    }
    int n;
    if (given)
        n = asprintf (&dir, "%s", given);
    else
    if (state && state [0] == '/')
        n = asprintf (&dir, "%s/tongxin/spool/%s", state, unit);
    else
    if (home && *home)
        n = asprintf (&dir, "%s/.local/state/tongxin/spool/%s", home, unit);
    else {
        fprintf (stderr, "tongxin-send: no home directory for the default spool: give --spool DIR\n");
        return NULL;
    }
    if (n < 0)
        s_oom ();
    return dir;
}

static void
s_on_signal (int sig)
{
    s_interrupted = sig;
}

int
main (int argc, char **argv)
{
    args_t args;
    int rc = s_parse_args (argc, argv, &args);
    if (rc >= 0) {
        free (args.attrs);
        return rc;
    }
    send_t self = { .args = &args, .flag_form = !args.input, .tty = isatty (STDERR_FILENO) };
    pthread_mutex_init (&self.lock, NULL);
    tongxin_event_t *one = NULL;
    uint8_t one_id [16];
    int in = -1;
    rc = RC_RUNTIME;

    //  The flag event is checked before anything is opened.
    if (self.flag_form) {
        one = s_event_from_flags (&self);
        if (!one) {
            rc = RC_REJECTED;
            goto done;
        }
    }
    else {
        in = strcmp (args.input, "-") == 0 ? STDIN_FILENO : open (args.input, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (in < 0 || fstat (in, &st) != 0) {
            fprintf (stderr, "tongxin-send: %s: %s\n", args.input, strerror (errno));
            rc = RC_USAGE;
            goto done;
        }
        if (S_ISDIR (st.st_mode)) {
            fprintf (stderr, "tongxin-send: %s: is a directory\n", args.input);
            rc = RC_USAGE;
            goto done;
        }
    }
    self.spool = s_spool_dir (args.spool, args.unit);
    if (!self.spool)
        goto done;
    if (s_mkdirs (self.spool) != 0) {
        fprintf (stderr, "tongxin-send: cannot create the spool %s: %s\n", self.spool,
                 strerror (errno));
        goto done;
    }
    tongxin_opts_t opts = {
        .endpoints = args.endpoints,
        .n_endpoints = args.n_endpoints,
        .unit = args.unit,
        .spool_dir = self.spool,
        .spool_cap_bytes = args.spool_cap_mb << 20,
        .fsync_ms = args.fsync_ms,
        .insecure = args.insecure,
        .key_file = args.key_file,
        .server_key = args.server_key,
        .on_verdict = s_on_verdict,
        .verdict_arg = &self,
    };
    //  The library's threads start with SIGINT and SIGTERM blocked, so the
    //  signals come to this thread and interrupt its reads and waits.
    sigset_t stop, old;
    sigemptyset (&stop);
    sigaddset (&stop, SIGINT);
    sigaddset (&stop, SIGTERM);
    pthread_sigmask (SIG_BLOCK, &stop, &old);
    char err [256] = "";
    self.tx = tongxin_new (&opts, err, sizeof err);
    struct sigaction sa = { .sa_handler = s_on_signal };    //  no SA_RESTART
    sigemptyset (&sa.sa_mask);
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
    pthread_sigmask (SIG_SETMASK, &old, NULL);
    if (!self.tx) {
        fprintf (stderr, "tongxin-send: %s\n", *err ? err : "cannot start the producer");
        goto done;
    }
    self.start_ms = tx_clock_ms ();
    if (one) {
        self.lines = self.events = 1;
        if (tongxin_event_id (self.tx, one, one_id) != TONGXIN_OK) {
            s_error (&self, "cannot make an event id: %s", strerror (errno));
            rc = RC_RUNTIME;
        }
        else
        if ((rc = s_add (&self, &one, one_id, 1)) == 0)
            rc = s_spool (&self);
    }
    else
        rc = s_read (&self, in);
    if (rc == 0 && args.wait_s > 0)
        rc = s_wait (&self);
    if (rc > 128)
        s_error (&self, "interrupted; what was spooled stays in %s for the next tongxin-send",
                 self.spool);
    s_progress (&self, true);
    tongxin_stats_t spool_stats;
    tongxin_stats (self.tx, &spool_stats);
    tongxin_destroy (&self.tx);

    //  No callback runs any more.
    if (self.rejected + self.invalid > 0 && rc < RC_REJECTED)
        rc = RC_REJECTED;
    if (!self.flag_form && self.rejected + self.invalid > 0)
        fprintf (stderr, "tongxin-send: %" PRIu64 " of %" PRIu64 " event%s refused (%" PRIu64
                 " here, %" PRIu64 " by the collector)\n", self.rejected + self.invalid,
                 self.events, self.events == 1 ? "" : "s", self.invalid, self.rejected);
    //  Events the spool had reported durable and could not read back
    if (spool_stats.lost > 0) {
        fprintf (stderr, "tongxin-send: %" PRIu64 " spooled event%s could not be read back and %s"
                 " lost (spool %s, seqs %" PRIu64 "-%" PRIu64 ": a spool file was deleted or"
                 " damaged); send %s again from the source\n", spool_stats.lost,
                 spool_stats.lost == 1 ? "" : "s", spool_stats.lost == 1 ? "is" : "are",
                 self.spool, spool_stats.lost_first, spool_stats.lost_last,
                 spool_stats.lost == 1 ? "it" : "them");
        if (rc < RC_RUNTIME)
            rc = RC_RUNTIME;
    }
done:
    if (in > STDIN_FILENO)
        close (in);
    tongxin_event_destroy (&one);
    free (self.pending.slots);
    free (self.numbers.text);
    free (self.spool);
    free (args.attrs);
    pthread_mutex_destroy (&self.lock);
    return rc;
}
