/*  hsfail.c: failed handshakes, by cause, with a hint.  */
#include "hsfail.h"

#include "clock.h"
#include "log.h"

#define HS_LOG_MS 10000

static const char *s_hints [TX_HS_COUNT_] = {
    [TX_HS_UNKNOWN_KEY] = "the client's key is not registered: tongxin-admin key issue",
    [TX_HS_REVOKED_KEY] = "the client's key was revoked: issue the unit a new one",
    [TX_HS_BAD_MECHANISM] = "the client does not use CURVE",
    [TX_HS_BAD_DOMAIN] = "the ZAP domain differs from zap-domain",
    [TX_HS_LOOKUP_LIMITED] = "too many unknown keys at once: lookups are limited, the client retries",
    [TX_HS_DATABASE_UNAVAILABLE] = "the database did not answer the key lookup",
    [TX_HS_BAD_ZAP_REQUEST] = "malformed ZAP request",
    [TX_HS_DECRYPT_FAILED] = "the client's --server-key is not this collector's public key (or the bytes were corrupted)",
    [TX_HS_MECHANISM_MISMATCH] = "the client uses another security mechanism (e.g. --insecure against CURVE)",
    [TX_HS_PROTOCOL_ERROR] = "the client broke the ZMTP handshake",
    [TX_HS_INCOMPLETE] = "the connection closed before its handshake completed (timeout, shed, or the client left)",
};

void
tx_hsfail_note (tx_hsfail_t *self, tx_metrics_t *m, tx_hs_cause_t cause, const char *key,
                const char *peer)
{
    atomic_fetch_add (&m->handshakes_failed [cause], 1);
    int64_t now = tx_clock_ms ();
    if (self->last_ms && now - self->last_ms < HS_LOG_MS) {
        self->suppressed++;
        return;
    }
    tx_log (TX_LOG_WARN, "handshake failed", "cause=%s key=%s peer=%s suppressed=%ld hint=\"%s\"",
            tx_hs_cause_str (cause), key && *key ? key : "-", peer && *peer ? peer : "-",
            self->suppressed, s_hints [cause]);
    self->last_ms = now;
    self->suppressed = 0;
}
