/*  metrics.c: Prometheus text and the health check over libmicrohttpd.  */
#include "metrics.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

//  Upper bounds of the commit latency buckets, in microseconds.
static const int64_t s_bounds [TX_METRICS_BUCKETS] = {
    1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000, 1000000, 5000000, INT64_MAX
};

void
tx_metrics_commit (tx_metrics_t *m, int64_t us)
{
    for (int i = 0; i < TX_METRICS_BUCKETS; i++)
        if (us <= s_bounds [i]) {
            atomic_fetch_add (&m->commit_buckets [i], 1);
            break;
        }
    atomic_fetch_add (&m->commit_count, 1);
    atomic_fetch_add (&m->commit_sum_us, (unsigned long long) us);
}

static void
s_printf (tx_buf_t *b, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_printf (tx_buf_t *b, const char *fmt, ...)
{
    char line [512];
    va_list ap;
    va_start (ap, fmt);
    int n = vsnprintf (line, sizeof line, fmt, ap);
    va_end (ap);
    if (n > 0)
        tx_buf_append (b, line, (size_t) n < sizeof line ? (size_t) n : sizeof line - 1);
}

static void
s_counter (tx_buf_t *b, const char *name, const char *help, unsigned long long v)
{
    s_printf (b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name, v);
}

static void
s_gauge (tx_buf_t *b, const char *name, const char *help, long long v)
{
    s_printf (b, "# HELP %s %s\n# TYPE %s gauge\n%s %lld\n", name, help, name, name, v);
}

static void
s_render (tx_metrics_t *m, tx_buf_t *b)
{
    s_counter (b, "tongxin_batches_received_total", "Batch messages received.", m->batches);
    s_counter (b, "tongxin_events_received_total", "Events received in batches.", m->events_received);
    s_counter (b, "tongxin_events_stored_total", "Events stored (committed).", m->events_stored);
    s_counter (b, "tongxin_events_duplicate_total", "Events already stored (answered duplicate).",
               m->events_duplicate);
    s_printf (b, "# HELP tongxin_events_rejected_total Events rejected, by reason code.\n"
                 "# TYPE tongxin_events_rejected_total counter\n");
    for (int i = 1; i < TX_REJECT_COUNT_; i++)
        s_printf (b, "tongxin_events_rejected_total{code=\"%s\"} %llu\n", tx_reject_code_str (i),
                  (unsigned long long) m->events_rejected [i]);
    s_printf (b, "# HELP tongxin_messages_refused_total Whole messages refused, by error code.\n"
                 "# TYPE tongxin_messages_refused_total counter\n");
    for (int i = 1; i < TX_ERROR_COUNT_; i++)
        s_printf (b, "tongxin_messages_refused_total{code=\"%s\"} %llu\n", tx_error_code_str (i),
                  (unsigned long long) m->messages_refused [i]);
    s_counter (b, "tongxin_messages_dropped_no_user_total",
               "Messages dropped because CURVE gave them no authenticated User-Id.",
               m->messages_dropped_no_user);
    s_counter (b, "tongxin_messages_dropped_bad_frames_total",
               "Messages dropped for having more than one payload frame.", m->messages_dropped_bad_frames);
    s_counter (b, "tongxin_acks_sent_total", "Acknowledgements and error replies sent.", m->acks_sent);
    s_counter (b, "tongxin_acks_dropped_total",
               "Replies dropped because the producer was gone or not reading (it resends).",
               m->acks_dropped);
    s_counter (b, "tongxin_transactions_total", "Transactions committed.", m->transactions);
    s_counter (b, "tongxin_fast_path_misses_total",
               "Groups whose direct COPY met a duplicate and were redone through the staging table.",
               m->fast_path_misses);
    s_counter (b, "tongxin_db_errors_total", "Database errors (each followed by a retry).", m->db_errors);
    s_counter (b, "tongxin_refusals_not_kept_total",
               "Refusals answered but not written to rejected_events (sender over rejected-budget).",
               m->refusals_not_kept);
    s_counter (b, "tongxin_refusals_not_kept_bytes_total", "Bytes of those refusals.",
               m->refusals_not_kept_bytes);
    s_counter (b, "tongxin_refusal_bytes_cut_total",
               "Bytes of refused messages not kept past rejected-prefix (length and SHA-256 kept).",
               m->refusal_bytes_cut);
    s_counter (b, "tongxin_handshakes_failed_total", "CURVE handshakes refused by ZAP.",
               m->handshakes_failed);
    s_printf (b, "# HELP tongxin_commit_seconds Latency of writing and committing one group.\n"
                 "# TYPE tongxin_commit_seconds histogram\n");
    unsigned long long cum = 0;
    for (int i = 0; i < TX_METRICS_BUCKETS; i++) {
        cum += m->commit_buckets [i];
        if (s_bounds [i] == INT64_MAX)
            s_printf (b, "tongxin_commit_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
        else
            s_printf (b, "tongxin_commit_seconds_bucket{le=\"%g\"} %llu\n", s_bounds [i] / 1e6, cum);
    }
    s_printf (b, "tongxin_commit_seconds_sum %.6f\ntongxin_commit_seconds_count %llu\n",
              (double) m->commit_sum_us / 1e6, (unsigned long long) m->commit_count);
    s_gauge (b, "tongxin_writer_queue_batches", "Batches waiting for or in the writer.", m->queue_jobs);
    s_gauge (b, "tongxin_writer_queue_bytes", "Memory held by those batches.", m->queue_bytes);
    s_gauge (b, "tongxin_producers_connected", "Producer connections.", m->connected);
    s_gauge (b, "tongxin_database_up", "1 while the database answers.", m->db_up);
}

static enum MHD_Result
s_answer (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
    (void) version; (void) upload_data; (void) upload_size; (void) con_cls;
    tx_metrics_t *m = cls;
    tx_buf_t b = { 0 };
    unsigned status = MHD_HTTP_OK;
    const char *type = "text/plain; charset=utf-8";
    if (strcmp (method, "GET") != 0 && strcmp (method, "HEAD") != 0) {
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
        s_printf (&b, "method not allowed\n");
    }
    else
    if (strcmp (url, "/metrics") == 0) {
        type = "text/plain; version=0.0.4; charset=utf-8";
        s_render (m, &b);
    }
    else
    if (strcmp (url, "/healthz") == 0) {
        bool up = m->db_up && m->schema_ok;
        status = up ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE;
        s_printf (&b, "%s\n", up ? "ok" : !m->db_up ? "database unreachable" : "schema version mismatch");
    }
    else {
        status = MHD_HTTP_NOT_FOUND;
        s_printf (&b, "not found: try /metrics or /healthz\n");
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer (b.len, b.data, MHD_RESPMEM_MUST_COPY);
    tx_buf_reset (&b);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header (resp, "Content-Type", type);
    enum MHD_Result rc = MHD_queue_response (conn, status, resp);
    MHD_destroy_response (resp);
    return rc;
}

void *
tx_metrics_start (tx_metrics_t *m, const char *addr, char *err, size_t errlen)
{
    char host [64] = "127.0.0.1";
    const char *colon = strrchr (addr, ':');
    const char *port_s = addr;
    if (colon) {
        size_t n = (size_t) (colon - addr);
        if (n == 0 || n >= sizeof host) {
            snprintf (err, errlen, "bad metrics address '%s'", addr);
            return NULL;
        }
        memcpy (host, addr, n);
        host [n] = 0;
        port_s = colon + 1;
    }
    char *end;
    long port = strtol (port_s, &end, 10);
    if (*end || port < 1 || port > 65535) {
        snprintf (err, errlen, "bad metrics port in '%s'", addr);
        return NULL;
    }
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
    if (inet_pton (AF_INET, host, &sa.sin_addr) != 1) {
        snprintf (err, errlen, "bad metrics address '%s' (use an IPv4 address)", host);
        return NULL;
    }
    struct MHD_Daemon *d = MHD_start_daemon (MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
                                             (uint16_t) port, NULL, NULL, s_answer, m,
                                             MHD_OPTION_SOCK_ADDR, &sa,
                                             MHD_OPTION_CONNECTION_LIMIT, (unsigned) 16,
                                             MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) 10,
                                             MHD_OPTION_END);
    if (!d)
        snprintf (err, errlen, "cannot listen on %s:%ld", host, port);
    return d;
}

void
tx_metrics_stop (void **handle_p)
{
    if (handle_p && *handle_p) {
        MHD_stop_daemon (*handle_p);
        *handle_p = NULL;
    }
}
