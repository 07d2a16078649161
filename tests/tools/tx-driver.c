/*  tx-driver: a test producer built on libtongxin.
 *
 *  Submits COUNT events and records, one line each, what it submitted and
 *  what it was told, so tests can compare that with the database:
 *      S <id>                    accepted by tongxin_submit (durable in the spool)
 *      V <id> stored|duplicate   verdict
 *      V <id> rejected <code>
 *      F <n>                     submit refused: spool full (n-th event)
 *      E <n> <rc>                submit failed otherwise (rc: TONGXIN_E*)
 *  Every --bad-every'th event is invalid (participants = 0: out_of_range).
 *  --at-offset shifts each event's time, --id-offset the clock its id is
 *  made from (a producer with a wrong clock has both).
 *
 *  usage: tx-driver --endpoint E [--endpoint E2] --unit U --spool DIR
 *                   (--insecure | --key F --server-key K) [--count N]
 *                   [--bad-every K] [--out FILE] [--wait SECONDS]
 *                   [--rate EVENTS_PER_S] [--cap-bytes N] [--fsync-ms N]
 *                   [--at-offset SECONDS] [--id-offset SECONDS] [--batch N]
 *  --batch N submits N events per tongxin_submit_many call (one spool sync).
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

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *s_out;

static void
s_on_verdict (void *arg, const uint8_t id [16], int verdict, const char *code, const char *msg)
{
    (void) arg; (void) msg;
    char text [37];
    tongxin_id_format (id, text);
    pthread_mutex_lock (&s_lock);
    if (verdict == TONGXIN_REJECTED)
        fprintf (s_out, "V %s rejected %s\n", text, code ? code : "?");
    else
        fprintf (s_out, "V %s %s\n", text, verdict == TONGXIN_STORED ? "stored" : "duplicate");
    fflush (s_out);
    pthread_mutex_unlock (&s_lock);
}

int
main (int argc, char **argv)
{
    const char *endpoints [16];
    size_t n_endpoints = 0;
    tongxin_opts_t o = { 0 };
    long count = 100, bad_every = 0, rate = 0, at_offset = 0, id_offset = 0, batch = 1;
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
        { "id-offset", required_argument, 0, 'I' },
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
            default: fprintf (stderr, "tx-driver: bad option\n"); return 2;
        }
    }
    o.endpoints = endpoints;
    o.n_endpoints = n_endpoints;
    o.on_verdict = s_on_verdict;
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
    tx_uuid_gen_t *gen = id_offset ? tx_uuid_gen_new () : NULL;
    int rc = 0;
    struct timeval t0;
    gettimeofday (&t0, NULL);
    tongxin_event_t **evs = calloc ((size_t) batch, sizeof *evs);
    uint8_t (*ids) [16] = calloc ((size_t) batch, 16);
    int *results = calloc ((size_t) batch, sizeof (int));
    for (long i = 0; i < count && rc == 0; ) {
        long n = 0;
        for (; n < batch && i < count; n++, i++) {
            struct timeval now;
            gettimeofday (&now, NULL);
            int64_t now_us = (int64_t) now.tv_sec * 1000000 + now.tv_usec;
            if (rate > 0) {
                int64_t due = (int64_t) t0.tv_sec * 1000000 + t0.tv_usec + i * 1000000 / rate;
                if (due > now_us)
                    usleep ((useconds_t) (due - now_us));
            }
            evs [n] = tongxin_event_new ("cloud_meeting", now_us - 60000000 + at_offset * 1000000);
            bool bad = bad_every > 0 && (i + 1) % bad_every == 0;
            tongxin_event_add_int (evs [n], "participants", bad ? 0 : 1 + i % 50);
            tongxin_event_add_text (evs [n], "topic", "tx-driver");
            if (gen) {
                uint8_t id [16];
                char text [37];
                if (tx_uuid_gen_next_at (gen, (uint64_t) (now_us / 1000 + id_offset * 1000), id) == 0) {
                    tongxin_id_format (id, text);
                    tongxin_event_set_id (evs [n], text);
                }
            }
        }
        if (batch == 1)
            results [0] = tongxin_submit (tx, evs [0], ids [0], err, sizeof err);
        else
            tongxin_submit_many (tx, evs, (size_t) n, ids, results, NULL, 0);
        pthread_mutex_lock (&s_lock);
        for (long k = 0; k < n; k++) {
            char text [37];
            tongxin_id_format (ids [k], text);
            if (results [k] == TONGXIN_OK)
                fprintf (s_out, "S %s\n", text);
            else
            if (results [k] == TONGXIN_EFULL) {
                fprintf (s_out, "F %ld\n", i - n + k);
                rc = 4;
            }
            else {
                fprintf (s_out, "E %ld %d\n", i - n + k, results [k]);
                fprintf (stderr, "tx-driver: submit failed: %d\n", results [k]);
                rc = 1;
            }
            tongxin_event_destroy (&evs [k]);
        }
        fflush (s_out);
        pthread_mutex_unlock (&s_lock);
    }
    tx_uuid_gen_destroy (&gen);
    free (evs);
    free (ids);
    free (results);
    if (wait > 0) {
        int f = tongxin_flush (tx, wait * 1000);
        if (f != TONGXIN_OK && rc == 0)
            rc = f == TONGXIN_ETIMEDOUT ? 3 : 1;
    }
    tongxin_stats_t st;
    tongxin_stats (tx, &st);
    fprintf (stderr, "tx-driver: submitted=%llu stored=%llu duplicate=%llu rejected=%llu queued=%llu "
             "resent_batches=%llu%s%s\n",
             (unsigned long long) st.submitted, (unsigned long long) st.stored,
             (unsigned long long) st.duplicate, (unsigned long long) st.rejected,
             (unsigned long long) st.queued, (unsigned long long) st.resent_batches,
             *st.last_error ? " last_error=" : "", st.last_error);
    tongxin_destroy (&tx);
    if (out)
        fclose (s_out);
    return rc;
}
