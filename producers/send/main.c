/*  tongxin-send: send Tongxin events from the command line (main.c).
 *
 *  One event comes from flags (--type, --at, --attr ...), many from JSON
 *  lines in a file or on standard input.  main() parses the options
 *  (options.c), builds the flag event (flags.c; libtongxin checks it
 *  before anything is opened), opens the producer (libtongxin: the spool
 *  and its sender thread), then reads the input (input.c), turning each
 *  line into a tongxin_event_t (jsonl.c, with values.c for what both
 *  forms share) and spooling the events in batches (submit.c; libtongxin
 *  checks each event there, and a bad one is reported with its line and
 *  never reaches the spool).  Every spooled event's id is mapped to its
 *  input line (idmap.c); verdicts arrive by id on the library's sender
 *  thread (out_result in output.c), so the map, the reports held in line
 *  order (report.c) and the counters sit under one mutex.  Finally it
 *  waits (--wait) until the collector has answered for everything in the
 *  spool, sums the run up with the events already stored (out_finish),
 *  and the worst outcome decides the exit status.  See tongxin-send(1).
 */
#include "flags.h"
#include "input.h"
#include "output.h"
#include "send.h"
#include "i18n.h"
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

volatile sig_atomic_t send_interrupted;

//  Creates dir and any missing parent with mode 0700.  0, or -1 (errno).
static int
s_mkdirs (const char *dir)
{
    char *path = strdup (dir);
    if (!path)
        out_oom ();
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
        fprintf (stderr, _("tongxin-send: no home directory for the default spool: give --spool DIR\n"));
        return NULL;
    }
    if (n < 0)
        out_oom ();
    return dir;
}

static void
s_on_signal (int sig)
{
    send_interrupted = sig;
}

//  The input FILE ("-": standard input) opened.  The descriptor, or -1
//  after reporting.  *null set if it is /dev/null (the spool only).
static int
s_open_input (const char *input, bool *null)
{
    int in = strcmp (input, "-") == 0 ? STDIN_FILENO : open (input, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (in < 0 || fstat (in, &st) != 0) {
        fprintf (stderr, "tongxin-send: %s: %s\n", input, strerror (errno));
        if (in > STDIN_FILENO)
            close (in);
        return -1;
    }
    if (S_ISDIR (st.st_mode)) {
        fprintf (stderr, _("tongxin-send: %s: is a directory\n"), input);
        close (in);
        return -1;
    }
    struct stat null_st;
    *null = S_ISCHR (st.st_mode) && stat ("/dev/null", &null_st) == 0
         && S_ISCHR (null_st.st_mode) && st.st_rdev == null_st.st_rdev;
    return in;
}

//  The spool directory made and the producer opened, with SIGINT and
//  SIGTERM for this thread alone.  0, or -1 after reporting.
static int
s_open_producer (send_t *self)
{
    const args_t *args = self->args;
    self->spool = s_spool_dir (args->spool, args->unit);
    if (!self->spool)
        return -1;
    if (s_mkdirs (self->spool) != 0) {
        fprintf (stderr, _("tongxin-send: cannot create the spool %s: %s\n"), self->spool,
                 strerror (errno));
        return -1;
    }
    tongxin_opts_t opts = {
        .endpoints = args->endpoints,
        .n_endpoints = args->n_endpoints,
        .unit = args->unit,
        .spool_dir = self->spool,
        .spool_cap_bytes = args->spool_cap_mb << 20,
        .fsync_ms = args->fsync_ms,
        .insecure = args->insecure,
        .key_file = args->key_file,
        .server_key = args->server_key,
        .on_result = out_result,
        .result_arg = self,
        .software = "tongxin-send " TONGXIN_VERSION,     //  told the collector (revision 1.3)
    };
    //  The library's threads start with SIGINT and SIGTERM blocked, so the
    //  signals come to this thread and interrupt its reads and waits.
    sigset_t stop, old;
    sigemptyset (&stop);
    sigaddset (&stop, SIGINT);
    sigaddset (&stop, SIGTERM);
    pthread_sigmask (SIG_BLOCK, &stop, &old);
    char err [256] = "";
    self->tx = tongxin_new (&opts, err, sizeof err);
    struct sigaction sa = { .sa_handler = s_on_signal };    //  no SA_RESTART
    sigemptyset (&sa.sa_mask);
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
    pthread_sigmask (SIG_SETMASK, &old, NULL);
    if (!self->tx) {
        fprintf (stderr, "tongxin-send: %s\n", *err ? err : _("cannot start the producer"));
        return -1;
    }
    return 0;
}

//  The registry: the cached copy if it is younger than REGISTRY_FRESH_S,
//  else (or with --registry-refresh) the collector's, falling back to the
//  cache.  None with --no-registry, or when there is neither.  With
//  --registry-refresh alone, says what it got.  0, or an exit code.
#define REGISTRY_FRESH_S    600
#define REGISTRY_TIMEOUT_MS 1500
static int
s_registry (send_t *self, bool alone)
{
    const args_t *args = self->args;
    if (args->no_registry)
        return 0;
    char path [4096], none [4096], err [512] = "";
    struct stat st;
    snprintf (path, sizeof path, "%s/registry.cache", self->spool);
    snprintf (none, sizeof none, "%s/registry.unsupported", self->spool);
    bool fresh = lstat (path, &st) == 0 && S_ISREG (st.st_mode) && time (NULL) - st.st_mtime < REGISTRY_FRESH_S;
    if (fresh && !args->registry_refresh) {
        //  A damaged cache: none (the collector decides).
        tongxin_registry_load (self->spool, &self->registry, err, sizeof err);
        return 0;
    }
    //  A collector older than 1.3 records each request as a refusal: ask
    //  it again only every REGISTRY_FRESH_S.
    if (!args->registry_refresh && stat (none, &st) == 0 && time (NULL) - st.st_mtime < REGISTRY_FRESH_S)
        return 0;
    tongxin_opts_t opts = {
        .endpoints = args->endpoints, .n_endpoints = args->n_endpoints, .unit = args->unit,
        .spool_dir = self->spool, .insecure = args->insecure, .key_file = args->key_file,
        .server_key = args->server_key,
    };
    int rc = tongxin_registry_fetch (&opts, REGISTRY_TIMEOUT_MS, &self->registry, err, sizeof err);
    bool old = rc == TONGXIN_ENOTSUP || (rc == TONGXIN_REGISTRY_CACHED && strstr (err, "older than"));
    if (old) {
        int fd = open (none, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
        if (fd >= 0)
            close (fd);
    }
    else
        unlink (none);
    if (!alone)
        return 0;
    if (rc == TONGXIN_REGISTRY_FETCHED || rc == TONGXIN_REGISTRY_UNCHANGED) {
        printf (rc == TONGXIN_REGISTRY_FETCHED ? _("registry %s: fetched from the collector\n")
                                               : _("registry %s: unchanged\n"),
                tongxin_registry_version (self->registry));
        return RC_OK;
    }
    if (rc == TONGXIN_REGISTRY_CACHED) {
        printf (_("registry %s: the cached copy (%s)\n"), tongxin_registry_version (self->registry), err);
        return RC_RUNTIME;
    }
    fprintf (stderr, _("tongxin-send: no registry: %s\n"), err);
    return RC_RUNTIME;
}

//  Spools the flag event (*one, taken) or the input's, and waits for the
//  verdicts.  0, or the exit code so far.
static int
s_run (send_t *self, tongxin_event_t **one, int in)
{
    int rc;
    self->start_ms = tx_clock_ms ();
    if (*one) {
        uint8_t id [16];
        self->lines = self->events = 1;
        if (tongxin_event_id (self->tx, *one, id) != TONGXIN_OK) {
            out_error (self, _("cannot make an event id: %s"), strerror (errno));
            return RC_RUNTIME;
        }
        if ((rc = submit_add (self, one, id, 1)) == 0)
            rc = submit_spool (self);
    }
    else
        rc = input_read (self, in);
    if (rc == 0 && self->args->wait_s > 0)
        rc = submit_wait (self);
    if (rc > 128)
        out_error (self, _("interrupted; what was spooled stays in %s for the next tongxin-send"),
                   self->spool);
    out_progress (self, true);
    return rc;
}

//  The last lines, once no callback runs any more: the reports held back,
//  the summary and the duplicates (when the run got as far as its
//  verdicts), what the spool lost.  Returns rc raised to what they say.
static int
s_summary (send_t *self, const tongxin_stats_t *spool_stats, int rc)
{
    if (self->mine.rejected + self->invalid > 0 && rc < RC_REJECTED)
        rc = RC_REJECTED;
    //  A timeout, a full spool, an error is said in its own line: no
    //  summary then, but the refusals held back still go out.
    out_finish (self, rc <= RC_REJECTED);
    //  Events the spool had reported durable and could not read back
    if (spool_stats->lost > 0) {
        fprintf (stderr, NG_("tongxin-send: %llu spooled event could not be read back and is lost "
                             "(spool %s, seqs %llu-%llu: a spool file was deleted or damaged); "
                             "send it again from the source\n",
                             "tongxin-send: %llu spooled events could not be read back and are lost "
                             "(spool %s, seqs %llu-%llu: a spool file was deleted or damaged); "
                             "send them again from the source\n", spool_stats->lost),
                 (unsigned long long) spool_stats->lost, self->spool,
                 (unsigned long long) spool_stats->lost_first,
                 (unsigned long long) spool_stats->lost_last);
        if (rc < RC_RUNTIME)
            rc = RC_RUNTIME;
    }
    return rc;
}

int
main (int argc, char **argv)
{
    tx_i18n_init ();
    args_t args;
    int rc = options_parse (argc, argv, &args);
    if (rc >= 0) {
        free (args.attrs);
        return rc;
    }
    send_t self = { .args = &args, .flag_form = !args.input, .tty = isatty (STDERR_FILENO) };
    tzset ();                   //  dates in the summary: the local time of TZ
    pthread_mutex_init (&self.lock, NULL);
    tongxin_event_t *one = NULL;
    int in = -1;
    //  The flag event is checked before anything is opened.
    if (self.flag_form && args.type && !(one = flags_event (&self)))
        rc = RC_REJECTED;
    else
    if (!self.flag_form && args.input && (in = s_open_input (args.input, &self.null_input)) < 0)
        rc = RC_USAGE;
    else
    if (s_open_producer (&self) != 0)
        rc = RC_RUNTIME;
    else
    if (!one && in < 0) {
        //  --registry-refresh alone
        rc = s_registry (&self, true);
        tongxin_destroy (&self.tx);
    }
    else {
        s_registry (&self, false);
        rc = s_run (&self, &one, in);
        tongxin_stats_t spool_stats;
        tongxin_stats (self.tx, &spool_stats);
        tongxin_destroy (&self.tx);
        rc = s_summary (&self, &spool_stats, rc);
    }
    if (in > STDIN_FILENO)
        close (in);
    tongxin_event_destroy (&one);
    free (self.pending.slots);
    reports_free (&self.reports);
    free (self.dups);
    free (self.numbers.text);
    free (self.spool);
    tongxin_registry_destroy (&self.registry);
    free (args.attrs);
    pthread_mutex_destroy (&self.lock);
    return rc;
}
