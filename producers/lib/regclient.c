/*  regclient.c: the collector's registry for producers — ask for it
 *  (protocol revision 1.3), cache it next to the spool, load the cache.
 *
 *  The request goes over a DEALER of its own (the same keys and
 *  endpoints as the producer's), opened for the request and closed after:
 *  the sender thread's window and replies are untouched, and the fetch
 *  works with or without a tongxin_t.
 */
#include "tongxin.h"
#include "regclient.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "clock.h"
#include "i18n.h"
#include "spool_internal.h"
#include "keyfile.h"
#include "uuid.h"
#include "wire.h"

#define DEFAULT_TIMEOUT_MS 5000

static tongxin_registry_t *
s_wrap (tx_registry_t *reg)
{
    tongxin_registry_t *self = reg ? malloc (sizeof *self) : NULL;
    if (self)
        self->reg = reg;
    else
        tx_registry_unref (&reg);
    return self;
}

void
tongxin_registry_destroy (tongxin_registry_t **reg_p)
{
    if (!reg_p || !*reg_p)
        return;
    tx_registry_unref (&(*reg_p)->reg);
    free (*reg_p);
    *reg_p = NULL;
}

const char *
tongxin_registry_version (const tongxin_registry_t *reg)
{
    return tx_registry_version (reg->reg);
}

char *
tongxin_registry_json (const tongxin_registry_t *reg)
{
    return tx_registry_to_json (reg->reg);
}

int
tongxin_registry_kind (const tongxin_registry_t *reg, const char *type, const char *attr)
{
    const tx_type_def_t *t = type ? tx_registry_type (reg->reg, type, strlen (type)) : NULL;
    for (size_t i = 0; t && attr && i < t->n_attrs; i++)
        if (strcmp (t->attrs [i].name, attr) == 0)
            return (int) t->attrs [i].kind;
    return 0;
}

//  SPOOL/registry.cache into path.  0, or -1 if it does not fit.
static int
s_cache_path (const char *spool_dir, char *path, size_t size)
{
    int n = snprintf (path, size, "%s/%s", spool_dir, TX_REGCLIENT_CACHE);
    return n > 0 && (size_t) n < size ? 0 : -1;
}

int
tongxin_registry_load (const char *spool_dir, tongxin_registry_t **reg_p, char *err, size_t errlen)
{
    *reg_p = NULL;
    char path [4096];
    if (!spool_dir || s_cache_path (spool_dir, path, sizeof path) != 0) {
        snprintf (err, errlen, _("no spool directory"));
        return TONGXIN_EINVAL;
    }
    //  Under the spool's rules: the directory is the caller's own and no
    //  one else may write it (tx_spool_trust_dir), the file is read
    //  through no symbolic link and must be a regular file (a FIFO would
    //  block the read for good).
    char why0 [512];
    int dfd = tx_spool_trust_dir (spool_dir, why0, sizeof why0);
    if (dfd < 0) {
        snprintf (err, errlen, "%s", why0);
        return TONGXIN_EINVAL;
    }
    int fd = openat (dfd, TX_REGCLIENT_CACHE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    int open_errno = errno;
    close (dfd);
    struct stat st;
    if (fd >= 0 && (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))) {
        close (fd);
        fd = -1;
        open_errno = EINVAL;
    }
    FILE *f = fd >= 0 ? fdopen (fd, "rb") : NULL;
    if (!f) {
        if (fd >= 0)
            close (fd);
        snprintf (err, errlen, _("no cached registry in %.3000s: %s"), spool_dir,
                  open_errno == ELOOP ? _("it is a symbolic link, which is never followed")
                  : open_errno == EINVAL ? _("it is not a regular file") : strerror (open_errno));
        return TONGXIN_EINVAL;
    }
    uint8_t *buf = malloc (TX_WIRE_MAX_FRAME + 1);
    size_t len = buf ? fread (buf, 1, TX_WIRE_MAX_FRAME + 1, f) : 0;
    bool bad = ferror (f) != 0;
    fclose (f);
    if (!buf) {
        snprintf (err, errlen, _("out of memory"));
        return TONGXIN_ENOMEM;
    }
    char why [256] = "";
    tx_registry_t *reg = bad || len > TX_WIRE_MAX_FRAME ? NULL : tx_registry_decode (buf, len, why, sizeof why);
    free (buf);
    if (!reg) {
        snprintf (err, errlen, _("the cached registry %.3000s is damaged: %s"), path,
                  bad ? _("cannot read it") : len > TX_WIRE_MAX_FRAME ? _("too large") : why);
        return TONGXIN_EINVAL;
    }
    *reg_p = s_wrap (reg);
    if (!*reg_p) {
        snprintf (err, errlen, _("out of memory"));
        return TONGXIN_ENOMEM;
    }
    return TONGXIN_OK;
}

//  Writes the body to SPOOL/registry.cache: a temporary file, fsync'd,
//  renamed over the old one, the directory fsync'd.  0, or -1 with err.
static int
s_cache_write (const char *spool_dir, const uint8_t *body, size_t len, char *err, size_t errlen)
{
    char path [4096], tmp [256];
    if (s_cache_path (spool_dir, path, sizeof path) != 0)
        return -1;
    snprintf (tmp, sizeof tmp, "%s.tmp", TX_REGCLIENT_CACHE);
    //  In the trusted directory, by its fd: the temporary file is made
    //  anew (never through a name someone placed there), then renamed.
    char why [512];
    int dfd = tx_spool_trust_dir (spool_dir, why, sizeof why);
    if (dfd < 0) {
        snprintf (err, errlen, "%s", why);
        return -1;
    }
    unlinkat (dfd, tmp, 0);
    int fd = openat (dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf (err, errlen, _("cannot write %.300s/%s: %s"), spool_dir, tmp, strerror (errno));
        close (dfd);
        return -1;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t w = write (fd, body + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t) w;
    }
    bool ok = done == len && fsync (fd) == 0;
    ok = close (fd) == 0 && ok;
    if (!ok || renameat (dfd, tmp, dfd, TX_REGCLIENT_CACHE) != 0) {
        snprintf (err, errlen, _("cannot write %.300s: %s"), path, strerror (errno));
        unlinkat (dfd, tmp, 0);
        close (dfd);
        return -1;
    }
    fsync (dfd);
    close (dfd);
    return 0;
}

//  The request/reply over a DEALER of its own.  Returns TX_WIRE_OK with
//  the reply frame in *frame (malloc'd), or -1 with err: timeout (*timed_out)
//  or a setup failure.
static int
s_ask (const tongxin_opts_t *opts, const char *have, int timeout_ms, uint8_t **frame, size_t *frame_len,
       bool *timed_out, char *err, size_t errlen)
{
    *frame = NULL;
    *timed_out = false;
    tx_keyfile_t key;
    char server_key [TX_Z85_KEY_LEN + 1];
    if (!opts->insecure
    &&  (!opts->key_file || !opts->server_key
     ||  tx_keyfile_read (opts->key_file, true, &key, err, errlen) != 0
     ||  tx_keyfile_server_key (opts->server_key, server_key, err, errlen) != 0)) {
        if (!opts->key_file || !opts->server_key)
            snprintf (err, errlen, _("CURVE needs the unit's key file and the collector's public key"));
        return -1;
    }
    //  A request id no earlier reply can carry.
    uint8_t id [16];
    uint64_t req = 0;
    tx_uuid_gen_t *gen = tx_uuid_gen_new ();
    if (gen && tx_uuid_gen_next (gen, id) == 0)
        memcpy (&req, id + 8, 8);
    tx_uuid_gen_destroy (&gen);
    req = (req >> 1) | 1;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    if (tx_wire_pack_registry_request (&sb, req, have) != 0) {
        msgpack_sbuffer_destroy (&sb);
        snprintf (err, errlen, _("out of memory"));
        return -1;
    }
    void *ctx = zmq_ctx_new ();
    void *dealer = zmq_socket (ctx, ZMQ_DEALER);
    int one = 1, zero = 0;
    int64_t maxmsg = TX_WIRE_MAX_FRAME + 64;
    zmq_setsockopt (dealer, ZMQ_IMMEDIATE, &one, sizeof one);
    zmq_setsockopt (dealer, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (dealer, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    if (!opts->insecure) {
        zmq_setsockopt (dealer, ZMQ_CURVE_SERVERKEY, server_key, TX_Z85_KEY_LEN);
        zmq_setsockopt (dealer, ZMQ_CURVE_PUBLICKEY, key.public_key, TX_Z85_KEY_LEN);
        zmq_setsockopt (dealer, ZMQ_CURVE_SECRETKEY, key.secret_key, TX_Z85_KEY_LEN);
    }
    for (size_t i = 0; i < opts->n_endpoints; i++)
        zmq_connect (dealer, opts->endpoints [i]);
    int64_t deadline = tx_clock_ms () + timeout_ms;
    bool sent = false;
    int rc = -1;
    while (rc != 0) {
        int64_t left = deadline - tx_clock_ms ();
        if (left <= 0) {
            *timed_out = true;
            snprintf (err, errlen, sent ? _("the collector did not answer the registry request in %d ms")
                                        : _("no collector could be reached in %d ms"), timeout_ms);
            break;
        }
        zmq_pollitem_t item = { dealer, 0, sent ? ZMQ_POLLIN : ZMQ_POLLOUT, 0 };
        if (zmq_poll (&item, 1, left > 100 ? 100 : (long) left) < 0 && zmq_errno () != EINTR)
            break;
        if (!sent && (item.revents & ZMQ_POLLOUT))
            sent = zmq_send (dealer, sb.data, sb.size, ZMQ_DONTWAIT) == (int) sb.size;
        if (sent && (item.revents & ZMQ_POLLIN)) {
            zmq_msg_t msg;
            zmq_msg_init (&msg);
            if (zmq_msg_recv (&msg, dealer, ZMQ_DONTWAIT) >= 0 && !zmq_msg_more (&msg)) {
                tx_registry_rep_t rep;
                char why [64];
                int d = tx_wire_decode_registry_reply (zmq_msg_data (&msg), zmq_msg_size (&msg), &rep,
                                                       why, sizeof why);
                //  Another request's late reply is not ours: wait on.
                if (d != TX_WIRE_OK || rep.req == req) {
                    *frame_len = zmq_msg_size (&msg);
                    *frame = malloc (*frame_len ? *frame_len : 1);
                    if (*frame) {
                        memcpy (*frame, zmq_msg_data (&msg), *frame_len);
                        rc = 0;
                    }
                    else {
                        snprintf (err, errlen, _("out of memory"));
                        zmq_msg_close (&msg);
                        break;
                    }
                }
            }
            zmq_msg_close (&msg);
        }
    }
    zmq_close (dealer);
    zmq_ctx_term (ctx);
    msgpack_sbuffer_destroy (&sb);
    return rc;
}

//  What the collector answered, into *fresh (a new registry) or *same
//  (it said "unchanged").  0, or a TONGXIN_ code with err.
static int
s_judge (const uint8_t *frame, size_t len, const tongxin_registry_t *cached, tx_registry_t **fresh,
         bool *same, char *err, size_t errlen)
{
    *fresh = NULL;
    *same = false;
    tx_registry_rep_t rep;
    char why [256] = "";
    int d = tx_wire_decode_registry_reply (frame, len, &rep, why, sizeof why);
    if (d == TX_WIRE_NOT_THIS) {
        //  A collector older than 1.3 refuses the request as malformed.
        tx_wire_decoder_t *dec = tx_wire_decoder_new ();
        tx_reply_t r;
        int e = dec ? tx_wire_decode_reply (frame, len, &r, dec, why, sizeof why) : TX_WIRE_NOMEM;
        bool old = e == TX_WIRE_OK && r.type == TX_REPLY_ERROR && r.error == TX_ERROR_MALFORMED;
        if (e == TX_WIRE_OK && r.type == TX_REPLY_ERROR)
            snprintf (err, errlen, _("the collector refused the registry request: %.*s%s"),
                      (int) (r.code_len > 64 ? 64 : r.code_len), r.code,
                      old ? _(" (a collector older than protocol revision 1.3)") : "");
        else
            snprintf (err, errlen, _("the collector's answer is not a registry reply"));
        tx_wire_decoder_destroy (&dec);
        return old ? TONGXIN_ENOTSUP : TONGXIN_EINVAL;
    }
    if (d != TX_WIRE_OK) {
        snprintf (err, errlen, _("the collector's registry reply is malformed: %s"), why);
        return TONGXIN_EINVAL;
    }
    if (!rep.body) {
        if (cached && strlen (tongxin_registry_version (cached)) == rep.version_len
        &&  memcmp (tongxin_registry_version (cached), rep.version, rep.version_len) == 0) {
            *same = true;
            return 0;
        }
        snprintf (err, errlen, _("the collector answered \"unchanged\" to another version"));
        return TONGXIN_EINVAL;
    }
    tx_registry_t *reg = tx_registry_decode (rep.body, rep.body_len, why, sizeof why);
    if (!reg) {
        snprintf (err, errlen, _("the collector's registry is not valid: %s"), why);
        return TONGXIN_EINVAL;
    }
    if (strlen (tx_registry_version (reg)) != rep.version_len
    ||  memcmp (tx_registry_version (reg), rep.version, rep.version_len) != 0) {
        tx_registry_unref (&reg);
        snprintf (err, errlen, _("the collector's registry does not match its version"));
        return TONGXIN_EINVAL;
    }
    *fresh = reg;
    return 0;
}

int
tongxin_registry_fetch (const tongxin_opts_t *opts, int timeout_ms, tongxin_registry_t **reg_p,
                        char *err, size_t errlen)
{
    *reg_p = NULL;
    if (!opts || !opts->spool_dir || !opts->n_endpoints || opts->n_endpoints > 16) {
        snprintf (err, errlen, _("spool_dir and 1 to 16 endpoints are required"));
        return TONGXIN_EINVAL;
    }
    tongxin_registry_t *cached = NULL;
    char cerr [256];
    if (tongxin_registry_load (opts->spool_dir, &cached, cerr, sizeof cerr) == TONGXIN_ENOMEM) {
        snprintf (err, errlen, _("out of memory"));
        return TONGXIN_ENOMEM;
    }
    uint8_t *frame;
    size_t len;
    bool timed_out;
    int rc = s_ask (opts, cached ? tongxin_registry_version (cached) : NULL,
                    timeout_ms > 0 ? timeout_ms : DEFAULT_TIMEOUT_MS, &frame, &len, &timed_out, err, errlen);
    if (rc != 0) {
        if (!cached)
            return timed_out ? TONGXIN_ETIMEDOUT : TONGXIN_EINVAL;
        *reg_p = cached;
        return TONGXIN_REGISTRY_CACHED;
    }
    tx_registry_t *fresh;
    bool same;
    rc = s_judge (frame, len, cached, &fresh, &same, err, errlen);
    free (frame);
    if (rc != 0) {
        if (!cached)
            return rc;
        *reg_p = cached;
        return TONGXIN_REGISTRY_CACHED;
    }
    if (same) {
        *reg_p = cached;
        return TONGXIN_REGISTRY_UNCHANGED;
    }
    tongxin_registry_destroy (&cached);
    size_t body_len;
    const uint8_t *body = tx_registry_body (fresh, &body_len);
    char werr [512];
    if (s_cache_write (opts->spool_dir, body, body_len, werr, sizeof werr) != 0)
        snprintf (err, errlen, "%s", werr);     //  a registry all the same, not cached
    *reg_p = s_wrap (fresh);
    if (!*reg_p) {
        snprintf (err, errlen, _("out of memory"));
        return TONGXIN_ENOMEM;
    }
    return TONGXIN_REGISTRY_FETCHED;
}
