/*  metrics.c: Prometheus text and the health check over libmicrohttpd.  */
#include "metrics.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"

//  The HTTP server's limits.  A client that sends its request slowly (a
//  header line every few seconds) is idle for less than any timeout, so
//  timeouts alone cannot stop a crowd of them from holding every slot:
//  when a client connects and its address already holds HTTP_PER_CLIENT
//  connections, or all hold HTTP_CLIENTS, the oldest of them (of that
//  address first) is closed.  A health check sends its request at once and
//  is answered in a millisecond, so it is never the oldest.
#define HTTP_CLIENTS 32             //  connections kept
#define HTTP_PER_CLIENT 8           //  of them, from one address
#define HTTP_HARD_LIMIT 64          //  libmicrohttpd's own cap, above ours
#define HTTP_IDLE_S 5               //  silence before a connection is closed
#define HTTP_MEMORY 8192            //  per connection, for the request head

typedef struct {
    int fd;                         //  -1 = free slot
    struct in_addr addr;            //  the client's address
    uint64_t seq;                   //  connection order
    bool shed;                      //  shut down by us, not closed yet
} http_client_t;

typedef struct {
    struct MHD_Daemon *daemon;
    tx_metrics_t *m;
    http_client_t clients [HTTP_HARD_LIMIT];
    uint64_t seq;
} http_t;

static const char *s_hs_causes [TX_HS_COUNT_] = {
    "unknown_key", "revoked_key", "bad_mechanism", "bad_domain", "lookup_limited",
    "database_unavailable", "bad_zap_request", "decrypt_failed", "mechanism_mismatch",
    "protocol_error", "incomplete"
};

const char *
tx_hs_cause_str (tx_hs_cause_t cause)
{
    return cause >= 0 && cause < TX_HS_COUNT_ ? s_hs_causes [cause] : "?";
}

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
    s_counter (b, "tongxin_events_duplicate_content_total",
               "Of those, events whose content their unit had stored under another id (a report sent again).",
               m->events_duplicate_content);
    s_counter (b, "tongxin_rollup_folds_total", "Folds that moved events into the folded rollup tables.", m->folds);
    s_counter (b, "tongxin_rollup_events_folded_total", "Events those folds moved (the views count them either way).",
               m->events_folded);
    s_counter (b, "tongxin_rollup_folds_yielded_total", "Folds put off while the writers were busy.",
               m->folds_yielded);
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
    s_printf (b, "# HELP tongxin_handshakes_failed_total Handshakes that failed, by cause "
                 "(ZAP refusals, then what libzmq reports).\n"
                 "# TYPE tongxin_handshakes_failed_total counter\n");
    for (int i = 0; i < TX_HS_COUNT_; i++)
        s_printf (b, "tongxin_handshakes_failed_total{cause=\"%s\"} %llu\n", s_hs_causes [i],
                  (unsigned long long) m->handshakes_failed [i]);
    s_counter (b, "tongxin_connections_shed_total",
               "Connections closed in their handshake because too many were handshaking (oldest first).",
               m->connections_shed);
    s_counter (b, "tongxin_http_clients_shed_total",
               "Metrics clients closed to make room for a new one (oldest first).", m->http_shed);
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
    s_gauge (b, "tongxin_connections_handshaking", "Connections accepted and not authenticated yet.",
             m->handshaking);
    s_gauge (b, "tongxin_connections_handshaking_limit",
             "Most connections allowed to be handshaking (max-handshaking, fitted to the open-files limit).",
             m->handshaking_limit);
    s_gauge (b, "tongxin_database_up", "1 while the database answers.", m->db_up);
    s_printf (b, "# HELP tongxin_registry_requests_total Registry requests (revision 1.3), by outcome.\n"
                 "# TYPE tongxin_registry_requests_total counter\n"
                 "tongxin_registry_requests_total{outcome=\"full\"} %llu\n"
                 "tongxin_registry_requests_total{outcome=\"unchanged\"} %llu\n"
                 "tongxin_registry_requests_total{outcome=\"limited\"} %llu\n",
              (unsigned long long) m->registry_full, (unsigned long long) m->registry_unchanged,
              (unsigned long long) m->registry_limited);
    s_counter (b, "tongxin_registry_reply_bytes_total", "Bytes of registry replies sent.", m->registry_bytes);
    s_counter (b, "tongxin_status_received_total",
               "Producer status messages (protocol revision 1.3) kept.", m->status_received);
    s_counter (b, "tongxin_status_refused_total",
               "Producer status messages refused (malformed, or times out of range).", m->status_refused);
    s_counter (b, "tongxin_status_writes_total",
               "Statements that wrote tongxin.producer_status (one per round of status-flush-ms).",
               m->status_statements);
    s_counter (b, "tongxin_status_rows_written_total", "Rows of tongxin.producer_status they wrote.",
               m->status_rows_written);
    s_printf (b, "# HELP tongxin_status_write_seconds_total Time spent in those statements.\n"
                 "# TYPE tongxin_status_write_seconds_total counter\n"
                 "tongxin_status_write_seconds_total %.6f\n", (double) m->status_write_us / 1e6);
    s_counter (b, "tongxin_status_rounds_total",
               "Rounds of the status thread done (changed units written, gauges read).", m->status_rounds);
    if (!m->status_gauges_ok)
        return;
    //  Aggregates over every active unit, from the table: no series per unit.
    s_printf (b, "# HELP tongxin_units_silent Active units with no event received for the given days "
                 "(status-silent-days).\n# TYPE tongxin_units_silent gauge\n"
                 "tongxin_units_silent{days=\"%d\"} %lld\n",
              (int) m->status_silent_days, (long long) m->units_silent);
    s_printf (b, "# HELP tongxin_units_backlog_old Units whose oldest waiting event was spooled more "
                 "than the given hours ago (status-backlog-hours).\n# TYPE tongxin_units_backlog_old gauge\n"
                 "tongxin_units_backlog_old{hours=\"%d\"} %lld\n",
              (int) m->status_backlog_hours, (long long) m->units_backlog_old);
    s_gauge (b, "tongxin_units_backlog", "Units whose producer last told a backlog.", m->units_backlog);
    s_gauge (b, "tongxin_backlog_events", "Events waiting in the producers' spools, as last told.",
             m->backlog_events);
    s_gauge (b, "tongxin_backlog_oldest_seconds",
             "Age of the oldest event waiting in any producer's spool (0: none).", m->backlog_oldest_seconds);
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

//  Shuts down the oldest live client (of addr, if given).  libmicrohttpd
//  sees the end of the stream and closes it in this same thread.
static bool
s_shed_oldest (http_t *h, const struct in_addr *addr)
{
    http_client_t *oldest = NULL;
    for (int i = 0; i < HTTP_HARD_LIMIT; i++) {
        http_client_t *c = &h->clients [i];
        if (c->fd < 0 || c->shed || (addr && c->addr.s_addr != addr->s_addr))
            continue;
        if (!oldest || c->seq < oldest->seq)
            oldest = c;
    }
    if (!oldest)
        return false;
    shutdown (oldest->fd, SHUT_RDWR);
    oldest->shed = true;
    atomic_fetch_add (&h->m->http_shed, 1);
    return true;
}

static void
s_on_connection (void *cls, struct MHD_Connection *conn, void **socket_context,
                 enum MHD_ConnectionNotificationCode code)
{
    http_t *h = cls;
    if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        http_client_t *c = *socket_context;
        if (c)
            c->fd = -1;
        *socket_context = NULL;
        return;
    }
    const union MHD_ConnectionInfo *fdi = MHD_get_connection_info (conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    const union MHD_ConnectionInfo *ai = MHD_get_connection_info (conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    http_client_t *slot = NULL;
    for (int i = 0; i < HTTP_HARD_LIMIT && !slot; i++)
        if (h->clients [i].fd < 0)
            slot = &h->clients [i];
    if (!fdi || !slot)
        return;                     //  libmicrohttpd's own limit is the backstop
    struct in_addr addr = { 0 };
    if (ai && ai->client_addr && ai->client_addr->sa_family == AF_INET)
        addr = ((const struct sockaddr_in *) ai->client_addr)->sin_addr;
    int live = 0, mine = 0;
    for (int i = 0; i < HTTP_HARD_LIMIT; i++) {
        const http_client_t *c = &h->clients [i];
        if (c->fd >= 0 && !c->shed) {
            live++;
            mine += c->addr.s_addr == addr.s_addr;
        }
    }
    if (mine >= HTTP_PER_CLIENT)
        s_shed_oldest (h, &addr);
    else
    if (live >= HTTP_CLIENTS)
        s_shed_oldest (h, NULL);
    *slot = (http_client_t) { fdi->connect_fd, addr, ++h->seq, false };
    *socket_context = slot;
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
    http_t *h = calloc (1, sizeof *h);
    if (!h) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    h->m = m;
    for (int i = 0; i < HTTP_HARD_LIMIT; i++)
        h->clients [i].fd = -1;
    //  epoll, not select: the collector holds a descriptor per producer, so
    //  a metrics client's descriptor is often above select's 1024.
    unsigned flags = MHD_USE_ERROR_LOG | (MHD_is_feature_supported (MHD_FEATURE_EPOLL) == MHD_YES
                                          ? MHD_USE_EPOLL_INTERNAL_THREAD : MHD_USE_POLL_INTERNAL_THREAD);
    h->daemon = MHD_start_daemon (flags, (uint16_t) port, NULL, NULL, s_answer, m,
                                  MHD_OPTION_SOCK_ADDR, &sa,
                                  MHD_OPTION_NOTIFY_CONNECTION, s_on_connection, h,
                                  MHD_OPTION_CONNECTION_LIMIT, (unsigned) HTTP_HARD_LIMIT,
                                  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) HTTP_IDLE_S,
                                  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) HTTP_MEMORY,
                                  MHD_OPTION_END);
    if (!h->daemon) {
        snprintf (err, errlen, "cannot listen on %s:%ld", host, port);
        free (h);
        return NULL;
    }
    return h;
}

void
tx_metrics_stop (void **handle_p)
{
    if (handle_p && *handle_p) {
        http_t *h = *handle_p;
        MHD_stop_daemon (h->daemon);
        free (h);
        *handle_p = NULL;
    }
}
