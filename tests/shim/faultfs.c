/*  faultfs.c -- LD_PRELOAD shim that makes file system calls fail on cue.

    FAULTFS="CALL:N:ERRNO[:COUNT],..."
        CALL   write, pwrite, fsync, fdatasync, rename or ftruncate
        N      fail the Nth matching invocation (1-based) ...
        COUNT  ... and the COUNT-1 after it (default 1; 0 = every one from
               the Nth on)
        ERRNO  EIO, ENOSPC, EDQUOT, EROFS or a number; or KILL: the process
               dies by SIGKILL at that call, before it does anything (a crash
               at exactly that point)
    FAULTFS_PREFIX=PATH
        only calls on files (or directories) whose path starts with PATH
        count; without it every call counts.

    FAULTFS_SYNCLOG=FILE
        append "S<TAB>size<TAB>path" for every successful fsync/fdatasync
        of a regular file (its size taken before the call) and
        "R<TAB>from<TAB>to" for every successful rename, so a test can roll
        files back to what was durable: a power-loss emulation.

    Every injected failure is reported on stderr ("faultfs: fdatasync #30
    -> EIO").  Failing write/pwrite write nothing; failing ftruncate and
    rename change nothing, so the caller sees exactly the failure.
    Example:
        FAULTFS=fdatasync:30:EIO FAULTFS_PREFIX=/tmp/x LD_PRELOAD=faultfs.so prog
*/
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

enum { F_WRITE, F_PWRITE, F_FSYNC, F_FDATASYNC, F_RENAME, F_FTRUNCATE, F_COUNT };
static const char *s_names[F_COUNT] = {
    "write", "pwrite", "fsync", "fdatasync", "rename", "ftruncate"
};

typedef struct {
    int call;           /* F_* */
    long nth;           /* first failing invocation */
    long count;         /* how many; 0 = all from nth */
    int err;            /* errno to set */
} s_rule_t;

static s_rule_t s_rules[16];
static int s_nrules;
static long s_calls[F_COUNT];       /* matching invocations so far */
static const char *s_prefix;
static size_t s_prefix_len;
static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static int s_synclog = -1;          /* FAULTFS_SYNCLOG fd */

static ssize_t (*s_real_write) (int, const void *, size_t);
static ssize_t (*s_real_pwrite) (int, const void *, size_t, off_t);
static ssize_t (*s_real_pwrite64) (int, const void *, size_t, off_t);
static int (*s_real_fsync) (int);
static int (*s_real_fdatasync) (int);
static int (*s_real_rename) (const char *, const char *);
static int (*s_real_renameat) (int, const char *, int, const char *);
static int (*s_real_ftruncate) (int, off_t);
static int (*s_real_ftruncate64) (int, off_t);

static int
s_errno (const char *s)
{
    if (!strcmp (s, "EIO"))     return EIO;
    if (!strcmp (s, "ENOSPC"))  return ENOSPC;
    if (!strcmp (s, "EDQUOT"))  return EDQUOT;
    if (!strcmp (s, "EROFS"))   return EROFS;
    if (!strcmp (s, "KILL"))    return -SIGKILL;
    int e = atoi (s);
    return e > 0 ? e : EIO;
}

static void
s_init (void)
{
    s_real_write = (ssize_t (*) (int, const void *, size_t)) dlsym (RTLD_NEXT, "write");
    s_real_pwrite = (ssize_t (*) (int, const void *, size_t, off_t)) dlsym (RTLD_NEXT, "pwrite");
    s_real_pwrite64 = (ssize_t (*) (int, const void *, size_t, off_t)) dlsym (RTLD_NEXT, "pwrite64");
    s_real_fsync = (int (*) (int)) dlsym (RTLD_NEXT, "fsync");
    s_real_fdatasync = (int (*) (int)) dlsym (RTLD_NEXT, "fdatasync");
    s_real_rename = (int (*) (const char *, const char *)) dlsym (RTLD_NEXT, "rename");
    s_real_renameat = (int (*) (int, const char *, int, const char *))
                      dlsym (RTLD_NEXT, "renameat");
    s_real_ftruncate = (int (*) (int, off_t)) dlsym (RTLD_NEXT, "ftruncate");
    s_real_ftruncate64 = (int (*) (int, off_t)) dlsym (RTLD_NEXT, "ftruncate64");

    const char *log = getenv ("FAULTFS_SYNCLOG");
    if (log)
        s_synclog = open (log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    s_prefix = getenv ("FAULTFS_PREFIX");
    s_prefix_len = s_prefix ? strlen (s_prefix) : 0;
    const char *spec = getenv ("FAULTFS");
    if (!spec)
        return;
    char *copy = strdup (spec), *save = NULL;
    for (char *tok = strtok_r (copy, ",", &save); tok && s_nrules < 16;
         tok = strtok_r (NULL, ",", &save)) {
        char name[32] = "", err[32] = "EIO";
        long nth = 0, count = 1;
        if (sscanf (tok, "%31[^:]:%ld:%31[^:]:%ld", name, &nth, err, &count) < 2)
            continue;
        for (int c = 0; c < F_COUNT; c++)
            if (!strcmp (name, s_names[c]) && nth > 0) {
                s_rules[s_nrules].call = c;
                s_rules[s_nrules].nth = nth;
                s_rules[s_nrules].count = count;
                s_rules[s_nrules].err = s_errno (err);
                s_nrules++;
            }
    }
    free (copy);
}

static bool
s_path_matches (const char *path)
{
    return !s_prefix || (path && !strncmp (path, s_prefix, s_prefix_len));
}

static bool
s_fd_path (int fd, char *target, size_t size)
{
    char link[64];
    snprintf (link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink (link, target, size - 1);
    if (n < 0)
        return false;
    target[n] = 0;
    return true;
}

static bool
s_fd_matches (int fd)
{
    if (!s_prefix)
        return true;
    char target[4096];
    return s_fd_path (fd, target, sizeof target) && s_path_matches (target);
}

/* Before an fsync: the size that will be durable if it succeeds */
static off_t
s_sync_size (int fd, char *path, size_t size)
{
    struct stat sb;
    if (s_synclog < 0 || fstat (fd, &sb) || !S_ISREG (sb.st_mode)
    ||  !s_fd_path (fd, path, size) || !s_path_matches (path))
        return -1;
    return sb.st_size;
}

static void
s_sync_log (off_t size, const char *path)
{
    char line[4200];
    int n = snprintf (line, sizeof line, "S\t%lld\t%s\n", (long long) size, path);
    if (size >= 0 && n > 0 && (size_t) n < sizeof line)
        if (s_real_write (s_synclog, line, (size_t) n) < 0)
            (void) 0;
}

/* Count this invocation; true (with errno set) if it must fail */
static bool
s_fail (int call, bool matches)
{
    pthread_once (&s_once, s_init);
    if (!matches || !s_nrules)
        return false;
    long k = __atomic_add_fetch (&s_calls[call], 1, __ATOMIC_SEQ_CST);
    for (int i = 0; i < s_nrules; i++) {
        s_rule_t *r = &s_rules[i];
        if (r->call == call && k >= r->nth && (r->count == 0 || k < r->nth + r->count)) {
            char msg[96];
            int n = snprintf (msg, sizeof msg, "faultfs: %s #%ld -> %s\n",
                              s_names[call], k, r->err < 0 ? "SIGKILL" : strerror (r->err));
            if (s_real_write (2, msg, (size_t) n) < 0)
                (void) 0;
            if (r->err < 0)
                kill (getpid (), -r->err);
            errno = r->err;
            return true;
        }
    }
    return false;
}

ssize_t
write (int fd, const void *buf, size_t n)
{
    pthread_once (&s_once, s_init);
    if (s_nrules && fd > 2 && s_fail (F_WRITE, s_fd_matches (fd)))
        return -1;
    return s_real_write (fd, buf, n);
}

ssize_t
pwrite (int fd, const void *buf, size_t n, off_t off)
{
    pthread_once (&s_once, s_init);
    if (s_nrules && s_fail (F_PWRITE, s_fd_matches (fd)))
        return -1;
    return s_real_pwrite (fd, buf, n, off);
}

ssize_t
pwrite64 (int fd, const void *buf, size_t n, off_t off)
{
    pthread_once (&s_once, s_init);
    if (s_nrules && s_fail (F_PWRITE, s_fd_matches (fd)))
        return -1;
    return s_real_pwrite64 (fd, buf, n, off);
}

int
fsync (int fd)
{
    pthread_once (&s_once, s_init);
    if (s_nrules && s_fail (F_FSYNC, s_fd_matches (fd)))
        return -1;
    char path[4096];
    off_t size = s_sync_size (fd, path, sizeof path);
    int rc = s_real_fsync (fd);
    if (rc == 0 && size >= 0)
        s_sync_log (size, path);
    return rc;
}

int
fdatasync (int fd)
{
    pthread_once (&s_once, s_init);
    if (s_nrules && s_fail (F_FDATASYNC, s_fd_matches (fd)))
        return -1;
    char path[4096];
    off_t size = s_sync_size (fd, path, sizeof path);
    int rc = s_real_fdatasync (fd);
    if (rc == 0 && size >= 0)
        s_sync_log (size, path);
    return rc;
}

int
rename (const char *from, const char *to)
{
    pthread_once (&s_once, s_init);
    if (s_nrules && s_fail (F_RENAME, s_path_matches (to)))
        return -1;
    int rc = s_real_rename (from, to);
    if (rc == 0 && s_synclog >= 0 && s_path_matches (to)) {
        char line[8300];
        int n = snprintf (line, sizeof line, "R\t%s\t%s\n", from, to);
        if (n > 0 && (size_t) n < sizeof line)
            if (s_real_write (s_synclog, line, (size_t) n) < 0)
                (void) 0;
    }
    return rc;
}

/* The full path of name relative to dirfd (as renameat sees it) */
static void
s_at_path (int dirfd, const char *name, char *buf, size_t size)
{
    char dir[2048];
    if (name[0] == '/' || dirfd == AT_FDCWD || !s_fd_path (dirfd, dir, sizeof dir)
    ||  snprintf (buf, size, "%s/%s", dir, name) >= (int) size)
        snprintf (buf, size, "%.*s", (int) size - 1, name);
}

int
renameat (int fromfd, const char *from, int tofd, const char *to)
{
    pthread_once (&s_once, s_init);
    char fpath[4096], tpath[4096];
    s_at_path (fromfd, from, fpath, sizeof fpath);
    s_at_path (tofd, to, tpath, sizeof tpath);
    if (s_nrules && s_fail (F_RENAME, s_path_matches (tpath)))
        return -1;
    int rc = s_real_renameat (fromfd, from, tofd, to);
    if (rc == 0 && s_synclog >= 0 && s_path_matches (tpath)) {
        char line[8300];
        int n = snprintf (line, sizeof line, "R\t%s\t%s\n", fpath, tpath);
        if (n > 0 && (size_t) n < sizeof line)
            if (s_real_write (s_synclog, line, (size_t) n) < 0)
                (void) 0;
    }
    return rc;
}

int
ftruncate (int fd, off_t len)
{
    pthread_once (&s_once, s_init);
    if (s_nrules && s_fail (F_FTRUNCATE, s_fd_matches (fd)))
        return -1;
    return s_real_ftruncate (fd, len);
}

int
ftruncate64 (int fd, off_t len)
{
    pthread_once (&s_once, s_init);
    if (s_nrules && s_fail (F_FTRUNCATE, s_fd_matches (fd)))
        return -1;
    return s_real_ftruncate64 (fd, len);
}
