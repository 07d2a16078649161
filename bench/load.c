/*  load: a producer for benchmarks, built on libtongxin.
 *
 *  Submits COUNT events (type cloud_meeting, attrs participants and topic)
 *  with tongxin_submit_many, SUBMIT_BATCH events per call, from THREADS
 *  threads, as fast as it can or at a steady RATE (events/s, all threads
 *  together), waits until every event has its verdict, and prints one line
 *  of key=value figures on stdout:
 *
 *    first_submit_us last_submit_us last_verdict_us   wall clock (unix µs):
 *        start of the first submit call, end of the last, the last verdict
 *    events stored duplicate rejected failed            counts
 *    submit_eps        events / (last_submit - first_submit)
 *    call_p50_us call_p99_us call_max_us   time a submit call takes
 *        (building the events and tongxin_submit_many until durable)
 *    ack_p50_us ack_p99_us ack_max_us      (with --latency) submit call
 *        start to the event's verdict
 *    cpu_us            user + system CPU time of this process
 *
 *  Clocks are CLOCK_REALTIME so that several processes can be combined.
 *
 *  usage: load --endpoint E --unit U --spool DIR (--insecure | --key F --server-key K)
 *              [--count N] [--submit-batch B] [--threads T] [--rate R]
 *              [--fsync-ms MS] [--window W] [--batch-events N]
 *              [--start-at UNIX_MS] [--latency FILE] [--no-wait] [--wait S]
 *              [--ack-timeout-ms MS]
 *  --latency FILE  track each event's id and write its submit-to-verdict
 *                  latency (µs) to FILE, one per line (ids are made here,
 *                  so a verdict can never arrive before its id is known)
 *  --no-wait       measure submission only: do not wait for verdicts
 *  --start-at      sleep until this wall-clock time (ms) before submitting,
 *                  so that several processes start together
 *  Exit: 0, 1 on failure (submit errors, missing verdicts), 2 on bad usage.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "tongxin.h"
#include "uuid.h"

static int64_t
s_wall_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
s_cmp64 (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

//  The p-th percentile (0..100) of n sorted values: nearest rank.
static int64_t
s_pct (const int64_t *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t k = (size_t) (p / 100.0 * (double) n + 0.999999);
    return v [k == 0 ? 0 : k > n ? n - 1 : k - 1];
}

//  ------------------------------------------------------- id -> submit time

typedef struct {
    uint8_t id [16];
    int64_t t;                  //  0: free slot
} entry_t;

static struct {
    pthread_mutex_t lock;
    entry_t *table;             //  cap entries, open addressing
    size_t mask;
    int64_t *lat;               //  latencies so far (µs)
    size_t n_lat;
    atomic_llong last_verdict_us;
    atomic_llong verdicts;
} s_track = { .lock = PTHREAD_MUTEX_INITIALIZER };

static size_t
s_slot (const uint8_t id [16])
{
    uint64_t h;
    memcpy (&h, id + 8, 8);     //  the random half of a UUIDv7
    return (size_t) (h ^ (h >> 31)) & s_track.mask;
}

static void
s_on_verdict (void *arg, const uint8_t id [16], int verdict, const char *code, const char *msg)
{
    (void) arg; (void) verdict; (void) code; (void) msg;
    int64_t now = s_wall_us ();
    atomic_store (&s_track.last_verdict_us, now);
    atomic_fetch_add (&s_track.verdicts, 1);
    if (!s_track.table)
        return;
    pthread_mutex_lock (&s_track.lock);
    for (size_t i = s_slot (id); s_track.table [i].t; i = (i + 1) & s_track.mask)
        if (memcmp (s_track.table [i].id, id, 16) == 0) {
            s_track.lat [s_track.n_lat++] = now - s_track.table [i].t;
            s_track.table [i].t = -1;       //  counted; a duplicate verdict is not
            break;
        }
    pthread_mutex_unlock (&s_track.lock);
}

//  ----------------------------------------------------------------- submit

typedef struct {
    pthread_t thread;
    tongxin_t *tx;
    long count;                 //  this thread's share
    long batch;                 //  events per submit call
    double rate;                //  this thread's events/s, 0 = flat out
    bool track;
    int64_t *calls;             //  call durations (µs)
    size_t n_calls, cap_calls;
    int64_t first_us, last_us;  //  first call start, last call end
    long failed;
} worker_t;

static void *
s_worker (void *arg)
{
    worker_t *w = arg;
    tongxin_event_t **evs = calloc ((size_t) w->batch, sizeof *evs);
    int *results = calloc ((size_t) w->batch, sizeof (int));
    tx_uuid_gen_t *gen = w->track ? tx_uuid_gen_new () : NULL;
    w->cap_calls = 1024;
    w->calls = calloc (w->cap_calls, sizeof (int64_t));
    if (!evs || !results || !w->calls || (w->track && !gen)) {
        w->failed = w->count;
        return NULL;
    }
    int64_t t0 = s_wall_us ();
    w->first_us = t0;
    for (long i = 0; i < w->count; ) {
        long n = w->count - i < w->batch ? w->count - i : w->batch;
        if (w->rate > 0) {
            //  Steady pace: submit what is due now, or sleep until one is.
            long due = (long) ((double) (s_wall_us () - t0) * w->rate / 1e6) + 1 - i;
            if (due <= 0) {
                int64_t next = t0 + (int64_t) ((double) (i + 1) * 1e6 / w->rate);
                int64_t wait = next - s_wall_us ();
                if (wait > 0)
                    usleep ((useconds_t) wait);
                continue;
            }
            if (due < n)
                n = due;
        }
        int64_t start = s_wall_us ();
        for (long k = 0; k < n; k++) {
            //  Each its own time, so its own content: the i-th event of
            //  this producer (its unit) at t0 - 60 s + i µs.
            evs [k] = tongxin_event_new ("cloud_meeting", t0 - 60000000 + i + k);
            tongxin_event_add_int (evs [k], "participants", 1 + (i + k) % 50);
            tongxin_event_add_text (evs [k], "topic", "bench");
            if (gen) {
                uint8_t id [16];
                char text [37];
                tx_uuid_gen_next (gen, id);
                tx_uuid_format (id, text);
                tongxin_event_set_id (evs [k], text);
                pthread_mutex_lock (&s_track.lock);
                size_t j = s_slot (id);
                while (s_track.table [j].t)
                    j = (j + 1) & s_track.mask;
                memcpy (s_track.table [j].id, id, 16);
                s_track.table [j].t = start;
                pthread_mutex_unlock (&s_track.lock);
            }
        }
        tongxin_submit_many (w->tx, evs, (size_t) n, NULL, results, NULL, 0);
        for (long k = 0; k < n; k++) {
            if (results [k] != TONGXIN_OK && w->failed++ == 0)
                fprintf (stderr, "load: submit failed: %d\n", results [k]);
            tongxin_event_destroy (&evs [k]);
        }
        int64_t end = s_wall_us ();
        if (w->n_calls == w->cap_calls) {
            int64_t *more = realloc (w->calls, 2 * w->cap_calls * sizeof *more);
            if (!more) {
                w->failed += w->count - i - n;
                break;
            }
            w->calls = more;
            w->cap_calls *= 2;
        }
        w->calls [w->n_calls++] = end - start;
        w->last_us = end;
        i += n;
    }
    tx_uuid_gen_destroy (&gen);
    free (evs);
    free (results);
    return NULL;
}

int
main (int argc, char **argv)
{
    const char *endpoints [16];
    size_t n_endpoints = 0;
    tongxin_opts_t o = { 0 };
    long count = 100000, batch = 1000, threads = 1;
    double rate = 0;
    int wait_s = 600;
    int64_t start_at_ms = 0;
    bool no_wait = false;
    const char *lat_file = NULL;
    o.fsync_ms = 10;
    static struct option lo [] = {
        { "endpoint", required_argument, 0, 'e' }, { "unit", required_argument, 0, 'u' },
        { "spool", required_argument, 0, 's' }, { "insecure", no_argument, 0, 'i' },
        { "key", required_argument, 0, 'k' }, { "server-key", required_argument, 0, 'K' },
        { "count", required_argument, 0, 'n' }, { "submit-batch", required_argument, 0, 'b' },
        { "threads", required_argument, 0, 't' }, { "rate", required_argument, 0, 'r' },
        { "fsync-ms", required_argument, 0, 'f' }, { "window", required_argument, 0, 'W' },
        { "batch-events", required_argument, 0, 'E' }, { "start-at", required_argument, 0, 'S' },
        { "latency", required_argument, 0, 'l' }, { "no-wait", no_argument, 0, 'N' },
        { "wait", required_argument, 0, 'w' }, { "ack-timeout-ms", required_argument, 0, 'T' },
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
            case 'b': batch = atol (optarg); break;
            case 't': threads = atol (optarg); break;
            case 'r': rate = atof (optarg); break;
            case 'f': o.fsync_ms = atoi (optarg); break;
            case 'W': o.window = atoi (optarg); break;
            case 'E': o.batch_events = atoi (optarg); break;
            case 'S': start_at_ms = atoll (optarg); break;
            case 'l': lat_file = optarg; break;
            case 'N': no_wait = true; break;
            case 'w': wait_s = atoi (optarg); break;
            case 'T': o.ack_timeout_ms = atoi (optarg); break;
            default: return 2;
        }
    }
    if (count <= 0 || batch <= 0 || threads <= 0 || threads > 64 || rate < 0) {
        fprintf (stderr, "load: bad --count, --submit-batch, --threads or --rate\n");
        return 2;
    }
    o.endpoints = endpoints;
    o.n_endpoints = n_endpoints;
    o.on_verdict = s_on_verdict;
    if (lat_file) {
        size_t cap = 1024;
        while (cap < (size_t) count * 2)
            cap *= 2;
        s_track.table = calloc (cap, sizeof (entry_t));
        s_track.lat = calloc ((size_t) count, sizeof (int64_t));
        s_track.mask = cap - 1;
        if (!s_track.table || !s_track.lat) {
            fprintf (stderr, "load: out of memory\n");
            return 1;
        }
    }
    char err [256];
    tongxin_t *tx = tongxin_new (&o, err, sizeof err);
    if (!tx) {
        fprintf (stderr, "load: %s\n", err);
        return 1;
    }
    if (start_at_ms) {
        int64_t wait = start_at_ms * 1000 - s_wall_us ();
        if (wait > 0)
            usleep ((useconds_t) wait);
    }
    worker_t *w = calloc ((size_t) threads, sizeof *w);
    for (long t = 0; t < threads; t++) {
        w [t] = (worker_t) { .tx = tx, .count = count / threads + (t < count % threads),
                             .batch = batch, .rate = rate / (double) threads, .track = lat_file != NULL };
        if (pthread_create (&w [t].thread, NULL, s_worker, &w [t]) != 0) {
            fprintf (stderr, "load: cannot start a thread\n");
            return 1;
        }
    }
    int64_t first = 0, last = 0;
    long failed = 0;
    size_t n_calls = 0;
    for (long t = 0; t < threads; t++) {
        pthread_join (w [t].thread, NULL);
        if (!first || w [t].first_us < first)
            first = w [t].first_us;
        if (w [t].last_us > last)
            last = w [t].last_us;
        failed += w [t].failed;
        n_calls += w [t].n_calls;
    }
    int rc = failed ? 1 : 0;
    if (!no_wait) {
        int f = tongxin_flush (tx, wait_s * 1000);
        if (f != TONGXIN_OK) {
            fprintf (stderr, "load: flush: %s\n", f == TONGXIN_ETIMEDOUT ? "timed out" : "stopped");
            rc = 1;
        }
    }
    tongxin_stats_t st;
    tongxin_stats (tx, &st);
    tongxin_destroy (&tx);

    int64_t *calls = calloc (n_calls + 1, sizeof *calls);
    size_t k = 0;
    for (long t = 0; t < threads; t++) {
        memcpy (calls + k, w [t].calls, w [t].n_calls * sizeof *calls);
        k += w [t].n_calls;
        free (w [t].calls);
    }
    qsort (calls, n_calls, sizeof *calls, s_cmp64);
    double secs = last > first ? (double) (last - first) / 1e6 : 0;
    printf ("first_submit_us=%lld last_submit_us=%lld last_verdict_us=%lld events=%ld stored=%llu "
            "duplicate=%llu rejected=%llu failed=%ld submit_eps=%.0f call_p50_us=%lld call_p99_us=%lld "
            "call_max_us=%lld",
            (long long) first, (long long) last, (long long) atomic_load (&s_track.last_verdict_us),
            count, (unsigned long long) st.stored, (unsigned long long) st.duplicate,
            (unsigned long long) st.rejected, failed, secs > 0 ? (double) (count - failed) / secs : 0,
            (long long) s_pct (calls, n_calls, 50), (long long) s_pct (calls, n_calls, 99),
            (long long) (n_calls ? calls [n_calls - 1] : 0));
    if (lat_file) {
        pthread_mutex_lock (&s_track.lock);
        qsort (s_track.lat, s_track.n_lat, sizeof (int64_t), s_cmp64);
        printf (" ack_p50_us=%lld ack_p99_us=%lld ack_max_us=%lld",
                (long long) s_pct (s_track.lat, s_track.n_lat, 50),
                (long long) s_pct (s_track.lat, s_track.n_lat, 99),
                (long long) (s_track.n_lat ? s_track.lat [s_track.n_lat - 1] : 0));
        FILE *f = fopen (lat_file, "w");
        if (f) {
            for (size_t i = 0; i < s_track.n_lat; i++)
                fprintf (f, "%lld\n", (long long) s_track.lat [i]);
            fclose (f);
        }
        else {
            perror (lat_file);
            rc = 1;
        }
        if (!no_wait && s_track.n_lat != (size_t) (count - failed)) {
            fprintf (stderr, "load: %zu latencies for %ld events\n", s_track.n_lat, count - failed);
            rc = 1;
        }
        pthread_mutex_unlock (&s_track.lock);
    }
    struct rusage ru;
    getrusage (RUSAGE_SELF, &ru);
    printf (" cpu_us=%lld\n", (long long) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000
                              + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
    if (failed)
        fprintf (stderr, "load: %ld submits failed\n", failed);
    long long verdicts = atomic_load (&s_track.verdicts);
    if (!no_wait && verdicts != count - failed) {
        fprintf (stderr, "load: %lld verdicts for %ld events (last error: %s)\n",
                 verdicts, count - failed, *st.last_error ? st.last_error : "none");
        rc = 1;
    }
    free (calls);
    free (w);
    free (s_track.table);
    free (s_track.lat);
    return rc;
}
