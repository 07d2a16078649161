/*  tx-driver: a test producer built on libtongxin.
 *
 *  Submits COUNT events and records, one line each, what it submitted and
 *  what it was told, so tests can compare that with the database:
 *      S <id>                    accepted by tongxin_submit (durable in the spool)
 *      T <id> <original> with|after
 *                                a retyped event accepted (below)
 *      V <id> stored|duplicate   verdict
 *      V <id> rejected <code>
 *      O <id> <original>         after "V <id> duplicate": the stored event
 *                                it repeats, as the collector named it
 *                                (protocol revision 1.2)
 *      F <n>                     submit refused: spool full (n-th event)
 *      E <n> <rc>                submit failed otherwise (rc: TONGXIN_E*)
 *  Every --bad-every'th event is invalid (participants = 0: out_of_range).
 *  --at-offset shifts each event's time, --id-offset the clock its id is
 *  made from (a producer with a wrong clock has both).
 *
 *  No two events have the same content (the collector stores a content
 *  once): each one's topic is "tx-driver NONCE.N", NONCE this process's,
 *  N the event's number.  --retype PCT submits that share of the valid
 *  events a second time with a new id and the same content, as a clerk
 *  who retypes a command would; the collector must answer them duplicate.
 *  Alternately a copy goes right behind its original ("with": both may be
 *  in flight at once, so either may be the one stored) and once the
 *  original's verdict came ("after": the copy must not be stored).
 *
 *  usage: tx-driver --endpoint E [--endpoint E2] --unit U --spool DIR
 *                   (--insecure | --key F --server-key K) [--count N]
 *                   [--bad-every K] [--out FILE] [--wait SECONDS]
 *                   [--rate EVENTS_PER_S] [--cap-bytes N] [--fsync-ms N]
 *                   [--at-offset SECONDS] [--id-offset SECONDS] [--batch N]
 *                   [--retype PCT] [--batch-events N] [--status-ms MS]
 *  --batch N submits N events per tongxin_submit_many call (one spool sync).
 *  --batch-events N: at most N events per batch sent; --status-ms MS: a
 *  status (revision 1.3) every MS ms; the producer names itself
 *  "tx-driver 1.0".
 *  Exit: 0 when every accepted event got a verdict, 3 on timeout, 4 when
 *  the spool filled, 1 otherwise.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "tongxin.h"
#include "uuid.h"

//  An event to submit again with a new id: the content of event N.
typedef struct retype_ {
    struct retype_ *next;           //  in a bucket of s_waiting, or in s_ready
    uint8_t original [16];          //  the first one's id
    int64_t at_us;                  //  its time
    long n;                         //  its number
    bool after;                     //  once the first one's verdict came
} retype_t;

#define S_BUCKETS 4096

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *s_out;
static unsigned s_nonce;            //  this process's, in every topic
static retype_t *s_waiting [S_BUCKETS];     //  "after" copies whose original has no verdict yet
static size_t s_n_waiting;
static retype_t *s_ready;           //  copies to submit now

static size_t
s_bucket (const uint8_t id [16])
{
    uint32_t h = 2166136261u;
    for (int k = 0; k < 16; k++)
        h = (h ^ id [k]) * 16777619u;
    return h % S_BUCKETS;
}

//  Event N (its content; the library gives it a new id unless gen is set).
static tongxin_event_t *
s_event (long n, int64_t at_us, bool bad, tx_uuid_gen_t *gen, int64_t id_ms)
{
    char topic [48];
    snprintf (topic, sizeof topic, "tx-driver %08x.%ld", s_nonce, n);
    tongxin_event_t *ev = tongxin_event_new ("cloud_meeting", at_us);
    if (!ev
    ||  tongxin_event_add_int (ev, "participants", bad ? 0 : 1 + n % 50) != TONGXIN_OK
    ||  tongxin_event_add_text (ev, "topic", topic) != TONGXIN_OK) {
        fprintf (stderr, "tx-driver: out of memory\n");
        exit (1);
    }
    uint8_t id [16];
    char text [37];
    if (gen && tx_uuid_gen_next_at (gen, (uint64_t) id_ms, id) == 0) {
        tongxin_id_format (id, text);
        tongxin_event_set_id (ev, text);
    }
    return ev;
}

static void
s_on_result (void *arg, const tongxin_result_t *r)
{
    (void) arg;
    char text [37], original [37];
    tongxin_id_format (r->id, text);
    pthread_mutex_lock (&s_lock);
    if (r->verdict == TONGXIN_REJECTED)
        fprintf (s_out, "V %s rejected %s\n", text, r->code ? r->code : "?");
    else
        fprintf (s_out, "V %s %s\n", text, r->verdict == TONGXIN_STORED ? "stored" : "duplicate");
    if (r->verdict == TONGXIN_DUPLICATE && r->has_original) {
        tongxin_id_format (r->original, original);
        fprintf (s_out, "O %s %s\n", text, original);
    }
    fflush (s_out);
    //  An original whose copy waits for its verdict: the copy is due.
    for (retype_t **p = &s_waiting [s_bucket (r->id)]; *p; p = &(*p)->next)
        if (memcmp ((*p)->original, r->id, 16) == 0) {
            retype_t *rt = *p;
            *p = rt->next;
            rt->next = s_ready;
            s_ready = rt;
            s_n_waiting--;
            break;
        }
    pthread_mutex_unlock (&s_lock);
}

static retype_t *
s_ready_pop (void)
{
    pthread_mutex_lock (&s_lock);
    retype_t *rt = s_ready;
    if (rt)
        s_ready = rt->next;
    pthread_mutex_unlock (&s_lock);
    return rt;
}

static int64_t
s_now_us (void)
{
    struct timeval now;
    gettimeofday (&now, NULL);
    return (int64_t) now.tv_sec * 1000000 + now.tv_usec;
}

int
main (int argc, char **argv)
{
    const char *endpoints [16];
    size_t n_endpoints = 0;
    tongxin_opts_t o = { .software = "tx-driver 1.0" };
    long count = 100, bad_every = 0, rate = 0, at_offset = 0, id_offset = 0, batch = 1, retype = 0;
    int wait = 60;
    const char *out = NULL;
    static struct option lo [] = {
        { "endpoint", required_argument, 0, 'e' }, { "unit", required_argument, 0, 'u' },
        { "spool", required_argument, 0, 's' }, { "insecure", no_argument, 0, 'i' },
        { "key", required_argument, 0, 'k' }, { "server-key", required_argument, 0, 'K' },
        { "count", required_argument, 0, 'n' }, { "bad-every", required_argument, 0, 'b' },
        { "out", required_argument, 0, 'o' }, { "wait", required_argument, 0, 'w' },
        { "rate", required_argument, 0, 'r' }, { "cap-bytes", required_argument, 0, 'c' },
        { "fsync-ms", required_argument, 0, 'f' }, { "at-offset", required_argument, 0, 'a' },
        { "window", required_argument, 0, 'W' }, { "batch", required_argument, 0, 'B' }, { "ack-timeout-ms", required_argument, 0, 'T' },
        { "id-offset", required_argument, 0, 'I' }, { "retype", required_argument, 0, 'R' },
        { "batch-events", required_argument, 0, 'E' }, { "status-ms", required_argument, 0, 'P' },
        { 0, 0, 0, 0 }
    };
    int c;
    while ((c = getopt_long (argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
            case 'e': if (n_endpoints < 16) endpoints [n_endpoints++] = optarg; break;
            case 'u': o.unit = optarg; break;
            case 's': o.spool_dir = optarg; break;
            case 'i': o.insecure = true; break;
            case 'k': o.key_file = optarg; break;
            case 'K': o.server_key = optarg; break;
            case 'n': count = atol (optarg); break;
            case 'b': bad_every = atol (optarg); break;
            case 'o': out = optarg; break;
            case 'w': wait = atoi (optarg); break;
            case 'r': rate = atol (optarg); break;
            case 'c': o.spool_cap_bytes = strtoull (optarg, NULL, 10); break;
            case 'f': o.fsync_ms = atoi (optarg); break;
            case 'a': at_offset = atol (optarg); break;
            case 'W': o.window = atoi (optarg); break;
            case 'B': batch = atol (optarg) > 0 ? atol (optarg) : 1; break;
            case 'T': o.ack_timeout_ms = atoi (optarg); break;
            case 'I': id_offset = atol (optarg); break;
            case 'R': retype = atol (optarg); break;
            case 'E': o.batch_events = atoi (optarg); break;
            case 'P': o.status_interval_ms = atoi (optarg); break;
            default: fprintf (stderr, "tx-driver: bad option\n"); return 2;
        }
    }
    if (retype < 0 || retype > 100) {
        fprintf (stderr, "tx-driver: --retype takes a percentage, 0 to 100\n");
        return 2;
    }
    o.endpoints = endpoints;
    o.n_endpoints = n_endpoints;
    o.on_result = s_on_result;
    s_out = out ? fopen (out, "a") : stdout;
    if (!s_out) {
        perror (out);
        return 1;
    }
    char err [256];
    tongxin_t *tx = tongxin_new (&o, err, sizeof err);
    if (!tx) {
        fprintf (stderr, "tx-driver: %s\n", err);
        return 1;
    }
    int64_t t0 = s_now_us ();
    s_nonce = (unsigned) getpid () * 2654435761u ^ (unsigned) t0;
    tx_uuid_gen_t *gen = id_offset ? tx_uuid_gen_new () : NULL;
    int rc = 0;
    tongxin_event_t **evs = calloc ((size_t) batch, sizeof *evs);
    uint8_t (*ids) [16] = calloc ((size_t) batch, 16);
    int *results = calloc ((size_t) batch, sizeof (int));
    retype_t **copies = calloc ((size_t) batch, sizeof *copies);    //  the copy each slot is, or NULL
    long good = 0, retyped = 0;         //  valid events made; copies decided
    int64_t waited_from = 0;            //  when every original was submitted
    for (long i = 0; rc == 0; ) {
        long n = 0;
        while (n < batch) {
            retype_t *rt = s_ready_pop ();
            if (rt) {
                int64_t now_us = s_now_us ();
                evs [n] = s_event (rt->n, rt->at_us, false, gen, now_us / 1000 + id_offset * 1000);
                //  Declared before the submit ("P copy original"): killed
                //  between the submit and its T line, the pair is still
                //  known, and the checker can tell a copy its successor
                //  delivered first from a wrong original.
                uint8_t cid [16];
                char ctext [37], otext [37];
                if (tongxin_event_id (tx, evs [n], cid) != TONGXIN_OK) {
                    fprintf (stderr, "tx-driver: cannot make an id\n");
                    return 1;
                }
                tongxin_id_format (cid, ctext);
                tongxin_id_format (rt->original, otext);
                pthread_mutex_lock (&s_lock);
                fprintf (s_out, "P %s %s %s\n", ctext, otext, rt->after ? "after" : "with");
                fflush (s_out);
                pthread_mutex_unlock (&s_lock);
                copies [n++] = rt;
                continue;
            }
            if (i >= count)
                break;
            int64_t now_us = s_now_us ();
            if (rate > 0) {
                int64_t due = t0 + i * 1000000 / rate;
                if (due > now_us) {
                    usleep ((useconds_t) (due - now_us));
                    now_us = s_now_us ();
                }
            }
            int64_t at_us = now_us - 60000000 + at_offset * 1000000;
            bool bad = bad_every > 0 && (i + 1) % bad_every == 0;
            evs [n] = s_event (i, at_us, bad, gen, now_us / 1000 + id_offset * 1000);
            copies [n] = NULL;
            //  Every (100 / PCT)th valid event is retyped.
            if (!bad && (good + 1) * retype / 100 > good * retype / 100) {
                rt = calloc (1, sizeof *rt);
                if (!rt || tongxin_event_id (tx, evs [n], rt->original) != TONGXIN_OK) {
                    fprintf (stderr, "tx-driver: cannot make an id\n");
                    return 1;
                }
                rt->at_us = at_us;
                rt->n = i;
                rt->after = retyped++ % 2 == 1;
                //  Known before the submit, so that no verdict comes first.
                pthread_mutex_lock (&s_lock);
                if (rt->after) {
                    size_t b = s_bucket (rt->original);
                    rt->next = s_waiting [b];
                    s_waiting [b] = rt;
                    s_n_waiting++;
                }
                else {
                    rt->next = s_ready;
                    s_ready = rt;
                }
                pthread_mutex_unlock (&s_lock);
            }
            if (!bad)
                good++;
            n++, i++;
        }
        if (n == 0) {
            //  Every original is submitted; copies wait for verdicts.
            pthread_mutex_lock (&s_lock);
            size_t waiting = s_n_waiting;
            pthread_mutex_unlock (&s_lock);
            if (waiting == 0 || wait <= 0)
                break;
            if (!waited_from)
                waited_from = s_now_us ();
            if (s_now_us () - waited_from > (int64_t) wait * 1000000) {
                rc = 3;
                break;
            }
            usleep (10000);
            continue;
        }
        if (batch == 1)
            results [0] = tongxin_submit (tx, evs [0], ids [0], err, sizeof err);
        else
            tongxin_submit_many (tx, evs, (size_t) n, ids, results, NULL, 0);
        pthread_mutex_lock (&s_lock);
        for (long k = 0; k < n; k++) {
            char text [37], original [37];
            long which = copies [k] ? copies [k]->n : i - n + k;
            tongxin_id_format (ids [k], text);
            if (results [k] == TONGXIN_OK && copies [k]) {
                tongxin_id_format (copies [k]->original, original);
                fprintf (s_out, "T %s %s %s\n", text, original, copies [k]->after ? "after" : "with");
            }
            else
            if (results [k] == TONGXIN_OK)
                fprintf (s_out, "S %s\n", text);
            else
            if (results [k] == TONGXIN_EFULL) {
                fprintf (s_out, "F %ld\n", which);
                rc = 4;
            }
            else {
                fprintf (s_out, "E %ld %d\n", which, results [k]);
                fprintf (stderr, "tx-driver: submit failed: %d\n", results [k]);
                rc = 1;
            }
            tongxin_event_destroy (&evs [k]);
            free (copies [k]);
            copies [k] = NULL;
        }
        fflush (s_out);
        pthread_mutex_unlock (&s_lock);
    }
    tx_uuid_gen_destroy (&gen);
    free (evs);
    free (ids);
    free (results);
    free (copies);
    if (wait > 0 && rc != 3) {
        int64_t left_ms = wait * 1000 - (waited_from ? (s_now_us () - waited_from) / 1000 : 0);
        int f = tongxin_flush (tx, left_ms > 0 ? (int) left_ms : 0);
        if (f != TONGXIN_OK && rc == 0)
            rc = f == TONGXIN_ETIMEDOUT ? 3 : 1;
    }
    tongxin_stats_t st;
    tongxin_stats (tx, &st);
    fprintf (stderr, "tx-driver: submitted=%llu stored=%llu duplicate=%llu rejected=%llu queued=%llu "
             "resent_batches=%llu retyped=%ld%s%s\n",
             (unsigned long long) st.submitted, (unsigned long long) st.stored,
             (unsigned long long) st.duplicate, (unsigned long long) st.rejected,
             (unsigned long long) st.queued, (unsigned long long) st.resent_batches, retyped,
             *st.last_error ? " last_error=" : "", st.last_error);
    tongxin_destroy (&tx);
    //  Copies never submitted (the run stopped first).
    for (retype_t *rt; (rt = s_ready_pop ()); )
        free (rt);
    for (size_t b = 0; b < S_BUCKETS; b++)
        while (s_waiting [b]) {
            retype_t *rt = s_waiting [b];
            s_waiting [b] = rt->next;
            free (rt);
        }
    if (out)
        fclose (s_out);
    return rc;
}
