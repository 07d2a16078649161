/*  tx-raw: a raw DEALER client for hand-made and hostile frames.
 *
 *  usage: tx-raw [OPTIONS] MODE ARGS...
 *    hex HEX...          send each HEX string (spaces allowed, '' = empty
 *                        frame) as one single-frame message
 *    file PATH...        send each file's bytes as one message
 *    multipart HEX...    send ONE message whose frames are the HEX strings
 *    batch EVENT [-- EVENT]...
 *                        build a batch {"v","t","batch","events"} and send it
 *    map NAME=VALUE...   send one map of these pairs, in order (e.g. a
 *                        status of revision 1.3: v=u:1 t=status backlog=u:3)
 *
 *  An EVENT is a list of fields, packed in the order given into the event
 *  map; "id" (v7:now) and "at" (now-60, to the microsecond, distinct
 *  for every event) are put first unless given:
 *    NAME=VALUE          a key of the event map (id, unit, type, at, partner,
 *                        or any other name, repeated names are repeated)
 *    NAME=!              leave the default field NAME (id, at) out
 *    @NAME=VALUE         an attribute; all of them go into one "attrs" map
 *                        packed last
 *    x:HEX               (alone) the whole event is these msgpack bytes
 *  A VALUE is TYPE:TEXT, or plain text, which is a str:
 *    s:TEXT   str          i:N   int64         u:N   uint64
 *    f:X      float64 (nan, inf)                f32:X float32
 *    b:true|b:false        nil                  bin:HEX   bin
 *    x:HEX    these msgpack bytes, verbatim
 *    t:SEC[.FRACTION]      timestamp ext -1 (32/64/96-bit form as needed);
 *                          SEC may be now, now+N, now-N
 *    v7:MS    bin 16, a UUIDv7 of unix milliseconds MS (now, now+N, now-N)
 *    uuid:TEXT bin 16 from the canonical text form
 *  Names and str texts take escapes: \n \t \r \\ \0 \xHH.
 *
 *  Options:
 *    -e, --endpoint EP   the collector (required unless --dump)
 *    --batch-id N        the batch id (default 1); --v N: "v" (default 1)
 *    --rev N             "rev" N in the batch (revision 1.2: 2); 0: none (default)
 *    --ids FILE          append each event's id (canonical text) to FILE
 *    --dump              print the frame as hex instead of sending it
 *    --repeat N          send the message(s) N times (same bytes)
 *    --window W          messages in flight at once (default 1)
 *    --timeout MS        wait this long for each reply (default 5000)
 *    -v, --verbose       also print reject and error messages ("#  ...")
 *    --key F --server-key K   CURVE: the unit's secret key file F, the
 *                        collector's public key K (Z85 text or .pub file)
 *
 *  Output, one line per reply in arrival order:
 *    ack batch=N results=0,1,2 rejected=I:CODE,...[ dups=I:ID@SEC.USEC,...][ rev=N]
 *                                (dups, rev: only when the ack has the key)
 *    error batch=N|nil code=CODE
 *    bad-reply REASON            (undecodable, or multi-part)
 *    none                        (no reply within the timeout, per message)
 *  Exit: 0 when everything was sent, 1 on failure, 2 on usage errors.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "buf.h"
#include "keyfile.h"
#include "uuid.h"
#include "wire.h"

static FILE *s_ids;
static tx_uuid_gen_t *s_gen;

static void
s_die (const char *what, const char *arg)
{
    fprintf (stderr, "tx-raw: %s: '%s'\n", what, arg);
    exit (2);
}

//  ----------------------------------------------------------------- parsing

static int
s_hexval (int c)
{
    return isdigit (c) ? c - '0' : isxdigit (c) ? tolower (c) - 'a' + 10 : -1;
}

//  Appends the bytes of HEX (whitespace ignored) to out.
static void
s_hex (const char *hex, tx_buf_t *out)
{
    int hi = -1;
    for (const char *p = hex; *p; p++) {
        if (isspace ((unsigned char) *p))
            continue;
        int v = s_hexval ((unsigned char) *p);
        if (v < 0)
            s_die ("not hex", hex);
        if (hi < 0)
            hi = v;
        else {
            tx_buf_putc (out, (uint8_t) (hi << 4 | v));
            hi = -1;
        }
    }
    if (hi >= 0)
        s_die ("odd number of hex digits", hex);
}

//  Appends TEXT with its escapes resolved to out.
static void
s_unescape (const char *s, tx_buf_t *out)
{
    for (; *s; s++) {
        if (*s != '\\' || !s [1]) {
            tx_buf_putc (out, (uint8_t) *s);
            continue;
        }
        s++;
        switch (*s) {
            case 'n': tx_buf_putc (out, '\n'); break;
            case 't': tx_buf_putc (out, '\t'); break;
            case 'r': tx_buf_putc (out, '\r'); break;
            case '0': tx_buf_putc (out, 0); break;
            case 'x':
                if (s_hexval ((unsigned char) s [1]) < 0 || s_hexval ((unsigned char) s [2]) < 0)
                    s_die ("bad \\x escape", s - 1);
                tx_buf_putc (out, (uint8_t) (s_hexval ((unsigned char) s [1]) << 4
                                             | s_hexval ((unsigned char) s [2])));
                s += 2;
                break;
            default: tx_buf_putc (out, (uint8_t) *s);
        }
    }
}

//  "now", "now+N", "now-N" or a number, in units of now_value.
static long long
s_when (const char *s, long long now_value)
{
    char *end;
    long long v;
    if (strncmp (s, "now", 3) == 0) {
        v = now_value;
        if (s [3])
            v += strtoll (s + 3, &end, 10);
        else
            end = (char *) s + 3;
    }
    else
        v = strtoll (s, &end, 10);
    if (*end && *end != '.')
        s_die ("bad time", s);
    return v;
}

static void
s_pack_time (msgpack_packer *pk, const char *s)
{
    long long sec = s_when (s, (long long) time (NULL));
    uint32_t nsec = 0;
    const char *dot = strchr (s, '.');
    if (dot) {
        int digits = 0;
        for (const char *p = dot + 1; *p; p++, digits++) {
            if (!isdigit ((unsigned char) *p) || digits == 9)
                s_die ("bad fraction", s);
            nsec = nsec * 10 + (uint32_t) (*p - '0');
        }
        for (; digits < 9; digits++)
            nsec *= 10;
    }
    uint8_t b [12];
    if (sec >= 0 && sec < (1LL << 34)) {
        uint64_t d = (uint64_t) nsec << 34 | (uint64_t) sec;
        int n = d >> 32 ? 8 : 4;
        for (int i = 0; i < n; i++)
            b [i] = (uint8_t) (d >> (8 * (n - 1 - i)));
        msgpack_pack_ext (pk, (size_t) n, -1);
        msgpack_pack_ext_body (pk, b, (size_t) n);
        return;
    }
    for (int i = 0; i < 4; i++)
        b [i] = (uint8_t) (nsec >> (24 - 8 * i));
    for (int i = 0; i < 8; i++)
        b [4 + i] = (uint8_t) ((uint64_t) sec >> (56 - 8 * i));
    msgpack_pack_ext (pk, 12, -1);
    msgpack_pack_ext_body (pk, b, 12);
}

static void
s_pack_id (msgpack_packer *pk, const uint8_t id [16])
{
    msgpack_pack_bin (pk, 16);
    msgpack_pack_bin_body (pk, id, 16);
    if (s_ids) {
        char text [TX_UUID_STR_SIZE];
        tx_uuid_format (id, text);
        fprintf (s_ids, "%s\n", text);
    }
}

static void
s_pack_bytes (msgpack_packer *pk, const tx_buf_t *b, bool bin)
{
    if (bin) {
        msgpack_pack_bin (pk, b->len);
        msgpack_pack_bin_body (pk, b->data, b->len);
    }
    else {
        msgpack_pack_str (pk, b->len);
        msgpack_pack_str_body (pk, b->data, b->len);
    }
}

//  Packs one VALUE (see the top of the file).
static void
s_pack_value (msgpack_packer *pk, const char *v)
{
    tx_buf_t b = { 0 };
    char *end;
    if (strncmp (v, "i:", 2) == 0) {
        errno = 0;
        long long n = strtoll (v + 2, &end, 0);
        if (errno || *end)
            s_die ("bad int", v);
        msgpack_pack_int64 (pk, n);
    }
    else
    if (strncmp (v, "u:", 2) == 0) {
        errno = 0;
        unsigned long long n = strtoull (v + 2, &end, 0);
        if (errno || *end)
            s_die ("bad uint", v);
        msgpack_pack_uint64 (pk, n);
    }
    else
    if (strncmp (v, "f:", 2) == 0)
        msgpack_pack_double (pk, strtod (v + 2, NULL));
    else
    if (strncmp (v, "f32:", 4) == 0)
        msgpack_pack_float (pk, strtof (v + 4, NULL));
    else
    if (strcmp (v, "b:true") == 0)
        msgpack_pack_true (pk);
    else
    if (strcmp (v, "b:false") == 0)
        msgpack_pack_false (pk);
    else
    if (strcmp (v, "nil") == 0)
        msgpack_pack_nil (pk);
    else
    if (strncmp (v, "bin:", 4) == 0) {
        s_hex (v + 4, &b);
        s_pack_bytes (pk, &b, true);
    }
    else
    if (strncmp (v, "x:", 2) == 0) {
        s_hex (v + 2, &b);
        msgpack_sbuffer_write (pk->data, (const char *) b.data, b.len);
    }
    else
    if (strncmp (v, "t:", 2) == 0)
        s_pack_time (pk, v + 2);
    else
    if (strncmp (v, "v7:", 3) == 0) {
        struct timespec ts;
        clock_gettime (CLOCK_REALTIME, &ts);
        long long ms = s_when (v + 3, (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
        //  The shared generator never goes back in time: a chosen time
        //  gets a generator of its own.
        tx_uuid_gen_t *gen = strcmp (v, "v7:now") == 0 ? s_gen : tx_uuid_gen_new ();
        uint8_t id [16];
        if (ms < 0 || tx_uuid_gen_next_at (gen, (uint64_t) ms, id) != 0)
            s_die ("bad v7 time", v);
        if (gen != s_gen)
            tx_uuid_gen_destroy (&gen);
        s_pack_id (pk, id);
    }
    else
    if (strncmp (v, "uuid:", 5) == 0) {
        uint8_t id [16];
        if (tx_uuid_parse (v + 5, strlen (v + 5), id) != 0)
            s_die ("bad uuid", v);
        s_pack_id (pk, id);
    }
    else {
        //  "s:TEXT", or plain text without any of the prefixes above.
        s_unescape (strncmp (v, "s:", 2) == 0 ? v + 2 : v, &b);
        s_pack_bytes (pk, &b, false);
    }
    tx_buf_reset (&b);
}

static void
s_pack_name (msgpack_packer *pk, const char *name, size_t len)
{
    tx_buf_t b = { 0 }, n = { 0 };
    tx_buf_append (&n, name, len);
    tx_buf_putc (&n, 0);
    s_unescape ((const char *) n.data, &b);
    s_pack_bytes (pk, &b, false);
    tx_buf_reset (&b);
    tx_buf_reset (&n);
}

//  Packs the event of argv[0..argc).
static void
s_pack_event (msgpack_packer *pk, int argc, char **argv)
{
    if (argc == 1 && strncmp (argv [0], "x:", 2) == 0) {
        s_pack_value (pk, argv [0]);
        return;
    }
    bool has_id = false, has_at = false, no_id = false, no_at = false;
    size_t fields = 0, attrs = 0;
    for (int i = 0; i < argc; i++) {
        const char *eq = strchr (argv [i], '=');
        if (!eq)
            s_die ("field without '='", argv [i]);
        if (*argv [i] == '@')
            attrs++;
        else
        if (strcmp (eq + 1, "!") == 0) {
            no_id |= strncmp (argv [i], "id=", 3) == 0;
            no_at |= strncmp (argv [i], "at=", 3) == 0;
        }
        else {
            fields++;
            has_id |= strncmp (argv [i], "id=", 3) == 0;
            has_at |= strncmp (argv [i], "at=", 3) == 0;
        }
    }
    bool def_id = !has_id && !no_id, def_at = !has_at && !no_at;
    msgpack_pack_map (pk, fields + def_id + def_at + (attrs > 0));
    if (def_id) {
        msgpack_pack_str_with_body (pk, "id", 2);
        s_pack_value (pk, "v7:now");
    }
    if (def_at) {
        //  A minute ago, to the microsecond, and never twice the same: two
        //  events made alike are two contents (the collector stores a
        //  content once).
        static int64_t last_us;
        struct timespec ts;
        clock_gettime (CLOCK_REALTIME, &ts);
        int64_t us = (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - 60 * 1000000LL;
        last_us = us > last_us ? us : last_us + 1;
        char at [48];
        snprintf (at, sizeof at, "t:%lld.%06lld", (long long) (last_us / 1000000), (long long) (last_us % 1000000));
        msgpack_pack_str_with_body (pk, "at", 2);
        s_pack_value (pk, at);
    }
    for (int i = 0; i < argc; i++) {
        const char *eq = strchr (argv [i], '=');
        if (*argv [i] == '@' || strcmp (eq + 1, "!") == 0)
            continue;
        s_pack_name (pk, argv [i], (size_t) (eq - argv [i]));
        s_pack_value (pk, eq + 1);
    }
    if (attrs == 0)
        return;
    msgpack_pack_str_with_body (pk, "attrs", 5);
    msgpack_pack_map (pk, attrs);
    for (int i = 0; i < argc; i++) {
        const char *eq = strchr (argv [i], '=');
        if (*argv [i] != '@')
            continue;
        s_pack_name (pk, argv [i] + 1, (size_t) (eq - argv [i] - 1));
        s_pack_value (pk, eq + 1);
    }
}

//  The envelope of a deliberately wrong batch: another "v", or batch id
//  0 as an integer (wire.c, the writer of normal envelopes, packs nil).
static void
s_pack_hostile_head (msgpack_packer *pk, unsigned long long batch_id, unsigned long long v,
                     size_t events)
{
    msgpack_pack_map (pk, 4);
    msgpack_pack_str_with_body (pk, "v", 1);
    msgpack_pack_uint64 (pk, v);
    msgpack_pack_str_with_body (pk, "t", 1);
    msgpack_pack_str_with_body (pk, "batch", 5);
    msgpack_pack_str_with_body (pk, "batch", 5);
    msgpack_pack_uint64 (pk, batch_id);
    msgpack_pack_str_with_body (pk, "events", 6);
    msgpack_pack_array (pk, events);
}

//  Packs a batch of the events in argv (separated by "--") into out.
static void
s_pack_batch (tx_buf_t *out, unsigned long long batch_id, unsigned long long v,
              unsigned long long rev, int argc, char **argv)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init (&sb);
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    size_t events = 1;
    for (int i = 0; i < argc; i++)
        events += strcmp (argv [i], "--") == 0;
    if (v == TX_WIRE_VERSION && batch_id != 0)
        tx_wire_pack_batch_head_rev (&pk, batch_id, events, rev);
    else
        s_pack_hostile_head (&pk, batch_id, v, events);
    for (int start = 0, i = 0; i <= argc; i++)
        if (i == argc || strcmp (argv [i], "--") == 0) {
            if (i == start)
                s_die ("empty event", i < argc ? argv [i] : "(end)");
            s_pack_event (&pk, i - start, argv + start);
            start = i + 1;
        }
    tx_buf_append (out, sb.data, sb.size);
    msgpack_sbuffer_destroy (&sb);
}

//  ----------------------------------------------------------------- sending

static void
s_print_reply (zmq_msg_t *msg, bool more, bool verbose, tx_wire_decoder_t *dec)
{
    tx_reply_t r;
    char err [160];
    if (more) {
        printf ("bad-reply multipart\n");
        return;
    }
    if (tx_wire_decode_reply (zmq_msg_data (msg), zmq_msg_size (msg), &r, dec, err, sizeof err) != 0) {
        printf ("bad-reply %s\n", err);
        return;
    }
    if (r.type == TX_REPLY_ERROR) {
        if (r.batch_id)
            printf ("error batch=%llu code=%.*s\n", (unsigned long long) r.batch_id,
                    (int) r.code_len, r.code);
        else
            printf ("error batch=nil code=%.*s\n", (int) r.code_len, r.code);
        if (verbose)
            printf ("#  %.*s\n", (int) r.msg_len, r.msg);
        return;
    }
    printf ("ack batch=%llu results=", (unsigned long long) r.batch_id);
    for (size_t i = 0; i < r.n_results; i++)
        printf ("%s%u", i ? "," : "", r.results [i]);
    printf (" rejected=");
    for (size_t i = 0; i < r.n_rejected; i++)
        printf ("%s%zu:%.*s", i ? "," : "", r.rejected [i].index, (int) r.rejected [i].code_len,
                r.rejected [i].code_str);
    //  Revision 1.2: what each duplicate repeats (its id, when received).
    if (r.has_dups) {
        printf (" dups=");
        for (size_t i = 0; i < r.n_dups; i++) {
            char id [TX_UUID_STR_SIZE];
            tx_uuid_format (r.dups [i].id, id);
            printf ("%s%zu:%s@%lld.%06u", i ? "," : "", r.dups [i].index, id,
                    (long long) r.dups [i].at_sec, r.dups [i].at_nsec / 1000);
        }
    }
    if (r.rev)
        printf (" rev=%llu", (unsigned long long) r.rev);
    printf ("\n");
    for (size_t i = 0; verbose && i < r.n_rejected; i++)
        printf ("#  %zu: %.*s\n", r.rejected [i].index, (int) r.rejected [i].msg_len, r.rejected [i].msg);
}

//  Receives one reply and prints it; -1 on timeout.
static int
s_recv_reply (void *sock, bool verbose, tx_wire_decoder_t *dec)
{
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    if (zmq_msg_recv (&msg, sock, 0) < 0) {
        zmq_msg_close (&msg);
        return -1;
    }
    bool more = zmq_msg_more (&msg);
    s_print_reply (&msg, more, verbose, dec);
    while (more) {
        zmq_msg_recv (&msg, sock, 0);
        more = zmq_msg_more (&msg);
    }
    zmq_msg_close (&msg);
    return 0;
}

int
main (int argc, char **argv)
{
    const char *endpoint = NULL, *ids = NULL, *key = NULL, *server_key = NULL;
    unsigned long long batch_id = 1, v = 1, rev = 0;
    long repeat = 1, window = 1;
    int timeout = 5000;
    bool dump = false, verbose = false;
    static struct option lo [] = {
        { "endpoint", required_argument, 0, 'e' }, { "batch-id", required_argument, 0, 'b' },
        { "v", required_argument, 0, 'V' }, { "ids", required_argument, 0, 'I' },
        { "dump", no_argument, 0, 'd' }, { "repeat", required_argument, 0, 'r' },
        { "window", required_argument, 0, 'w' }, { "timeout", required_argument, 0, 't' },
        { "verbose", no_argument, 0, 'v' }, { "rev", required_argument, 0, 'R' },
        { "key", required_argument, 0, 'K' }, { "server-key", required_argument, 0, 'S' }, { 0, 0, 0, 0 }
    };
    int c;
    while ((c = getopt_long (argc, argv, "+e:v", lo, NULL)) != -1) {
        switch (c) {
            case 'e': endpoint = optarg; break;
            case 'b': batch_id = strtoull (optarg, NULL, 0); break;
            case 'V': v = strtoull (optarg, NULL, 0); break;
            case 'R': rev = strtoull (optarg, NULL, 0); break;
            case 'I': ids = optarg; break;
            case 'd': dump = true; break;
            case 'r': repeat = atol (optarg); break;
            case 'w': window = atol (optarg) > 0 ? atol (optarg) : 1; break;
            case 't': timeout = atoi (optarg); break;
            case 'v': verbose = true; break;
            case 'K': key = optarg; break;
            case 'S': server_key = optarg; break;
            default: return 2;
        }
    }
    if (optind >= argc || (!endpoint && !dump)) {
        fprintf (stderr, "usage: tx-raw [-e ENDPOINT] [OPTIONS] hex|file|multipart|batch ARGS...\n");
        return 2;
    }
    const char *mode = argv [optind];
    int nargs = argc - optind - 1;
    char **args = argv + optind + 1;
    s_gen = tx_uuid_gen_new ();
    if (ids && !(s_ids = fopen (ids, "a"))) {
        perror (ids);
        return 1;
    }

    //  The messages, each a list of frames.
    size_t n_msgs = 0, n_frames = 0;
    tx_buf_t frames [256] = { { 0 } };
    size_t msg_frames [256];            //  frames per message
    if (strcmp (mode, "batch") == 0) {
        s_pack_batch (&frames [0], batch_id, v, rev, nargs, args);
        msg_frames [n_msgs++] = 1;
        n_frames = 1;
    }
    else
    if (strcmp (mode, "map") == 0) {
        msgpack_sbuffer sb;
        msgpack_packer pk;
        msgpack_sbuffer_init (&sb);
        msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_map (&pk, (size_t) nargs);
        for (int i = 0; i < nargs; i++) {
            const char *eq = strchr (args [i], '=');
            if (!eq)
                s_die ("not NAME=VALUE", args [i]);
            s_pack_name (&pk, args [i], (size_t) (eq - args [i]));
            s_pack_value (&pk, eq + 1);
        }
        tx_buf_append (&frames [0], sb.data, sb.size);
        msgpack_sbuffer_destroy (&sb);
        msg_frames [n_msgs++] = 1;
        n_frames = 1;
    }
    else
    if ((strcmp (mode, "hex") == 0 || strcmp (mode, "file") == 0 || strcmp (mode, "multipart") == 0)
    &&  nargs > 0 && nargs <= 256) {
        for (int i = 0; i < nargs; i++) {
            if (*mode == 'f') {
                FILE *f = fopen (args [i], "rb");
                if (!f) {
                    perror (args [i]);
                    return 1;
                }
                char chunk [65536];
                size_t n;
                while ((n = fread (chunk, 1, sizeof chunk, f)) > 0)
                    tx_buf_append (&frames [i], chunk, n);
                fclose (f);
            }
            else
                s_hex (args [i], &frames [i]);
            if (*mode != 'm')
                msg_frames [n_msgs++] = 1;
        }
        if (*mode == 'm')
            msg_frames [n_msgs++] = (size_t) nargs;
        n_frames = (size_t) nargs;
    }
    else
        s_die ("unknown mode or wrong arguments", mode);
    if (s_ids)
        fclose (s_ids);

    void *ctx = NULL, *sock = NULL;
    tx_wire_decoder_t *dec = NULL;
    long total = (long) n_msgs * repeat, sent = 0, in_flight = 0;
    int rc = 0;
    if (dump) {
        for (size_t f = 0; f < n_frames; f++) {
            for (size_t i = 0; i < frames [f].len; i++)
                printf ("%02x", frames [f].data [i]);
            printf ("\n");
        }
        goto out;
    }

    ctx = zmq_ctx_new ();
    sock = zmq_socket (ctx, ZMQ_DEALER);
    int zero = 0, one = 1;
    zmq_setsockopt (sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (sock, ZMQ_IMMEDIATE, &one, sizeof one);
    zmq_setsockopt (sock, ZMQ_SNDTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt (sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    if (key || server_key) {
        tx_keyfile_t k;
        char sk [TX_Z85_KEY_LEN + 1], err [256];
        if (!key || !server_key || tx_keyfile_read (key, true, &k, err, sizeof err) != 0
        ||  tx_keyfile_server_key (server_key, sk, err, sizeof err) != 0) {
            fprintf (stderr, "tx-raw: --key and --server-key: %s\n", key && server_key ? err : "both needed");
            rc = 2;
            goto out;
        }
        zmq_setsockopt (sock, ZMQ_CURVE_SERVERKEY, sk, TX_Z85_KEY_LEN);
        zmq_setsockopt (sock, ZMQ_CURVE_PUBLICKEY, k.public_key, TX_Z85_KEY_LEN);
        zmq_setsockopt (sock, ZMQ_CURVE_SECRETKEY, k.secret_key, TX_Z85_KEY_LEN);
    }
    if (zmq_connect (sock, endpoint) != 0) {
        fprintf (stderr, "tx-raw: connect %s: %s\n", endpoint, zmq_strerror (zmq_errno ()));
        rc = 1;
        goto out;
    }
    dec = tx_wire_decoder_new ();
    while (sent < total || in_flight > 0) {
        if (sent < total && in_flight < window) {
            //  Message sent % n_msgs: its frames follow those of the ones before.
            size_t m = (size_t) (sent % (long) n_msgs), f0 = 0;
            for (size_t k = 0; k < m; k++)
                f0 += msg_frames [k];
            for (size_t k = 0; k < msg_frames [m]; k++) {
                const tx_buf_t *b = &frames [f0 + k];
                if (zmq_send (sock, b->data ? (const void *) b->data : "", b->len,
                              k + 1 < msg_frames [m] ? ZMQ_SNDMORE : 0) < 0) {
                    fprintf (stderr, "tx-raw: send: %s\n", zmq_strerror (zmq_errno ()));
                    rc = 1;
                    goto out;
                }
            }
            sent++;
            in_flight++;
            continue;
        }
        if (s_recv_reply (sock, verbose, dec) != 0) {
            //  Nothing within the timeout: no reply is coming for any of these.
            for (; in_flight > 0; in_flight--)
                printf ("none\n");
            continue;
        }
        in_flight--;
    }
out:
    for (; in_flight > 0; in_flight--)
        printf ("none\n");
    fflush (stdout);
    tx_wire_decoder_destroy (&dec);
    for (size_t f = 0; f < n_frames; f++)
        tx_buf_reset (&frames [f]);
    tx_uuid_gen_destroy (&s_gen);
    if (sock)
        zmq_close (sock);
    if (ctx)
        zmq_ctx_term (ctx);
    return rc;
}
