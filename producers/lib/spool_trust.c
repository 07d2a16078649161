/*  spool_trust.c -- which files the spool trusts, and opening them.

    The one home of the spool's trust rules (ssh's StrictModes): the
    directory and every file in it must be owned by the effective uid and
    not writable by group or others, files must be regular with one link,
    and nothing is opened through a symbolic link.  Files are opened with
    openat on the directory's fd, so a directory renamed or replaced since
    open does not matter.  Contract: spool_internal.h.
*/
#include "i18n.h"
#include "spool_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* Whether the spool directory (name NULL) or the file NAME in it, as sb
   describes it, may be trusted: ssh's StrictModes rules.  It must be owned
   by the effective uid and not writable by group or others; a file must
   also be a regular file with one link (another name for it could be
   another user's way in).  0, or -1 with what to fix in err. */
static int
s_check_stat (const char *dir, const char *name, const struct stat *sb,
              char *err, size_t errlen)
{
    char what[3200];            /* "spool directory D" or "spool D: file D/N" */
    char path[3100];
    if (name) {
        snprintf (path, sizeof path, "%s/%s", dir, name);
        snprintf (what, sizeof what, _("spool %s: %s"), dir, path);
    }
    else {
        snprintf (path, sizeof path, "%s", dir);
        snprintf (what, sizeof what, _("spool directory %s"), dir);
    }
    unsigned me = (unsigned) geteuid ();
    if (name ? !S_ISREG (sb->st_mode) : !S_ISDIR (sb->st_mode)) {
        if (name)
            tx_spool_set_err (err, errlen, _("%s is not a regular file; remove it"), what);
        else
            tx_spool_set_err (err, errlen, _("spool %s is not a directory"), dir);
        return -1;
    }
    if ((unsigned) sb->st_uid != me) {
        tx_spool_set_err (err, errlen, _("%s is owned by uid %u, not by you (uid %u);"
                          " run chown %u %s, or give a spool directory of your own"),
                          what, (unsigned) sb->st_uid, me, me, path);
        return -1;
    }
    if (sb->st_mode & (S_IWGRP | S_IWOTH)) {
        tx_spool_set_err (err, errlen, _("%s is writable by group or others (mode %04o);"
                          " run chmod go-w %s"), what, (unsigned) (sb->st_mode & 07777),
                          path);
        return -1;
    }
    if (name && sb->st_nlink != 1) {
        tx_spool_set_err (err, errlen, _("%s has %lu hard links; remove the other names"
                          " of it (find -samefile %s)"), what,
                          (unsigned long) sb->st_nlink, path);
        return -1;
    }
    return 0;
}

/* Open NAME in the spool directory (through dirfd, so a directory renamed
   or replaced since open does not matter), never through a symbolic link,
   and only if s_check_stat trusts it.  New files get mode 0600.  Returns
   an fd, or -1 with errno set and the reason in err. */
int
tx_spool_trust_open (tx_spool_t *self, const char *name, int flags, char *err,
                     size_t errlen)
{
    /* O_NONBLOCK: a FIFO planted under a spool name must not hang open */
    int fd = openat (self->dirfd, name,
                     flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
    if (fd < 0) {
        int e = errno;
        if (e == ELOOP)
            tx_spool_set_err (err, errlen, _("spool %s: %s/%s is a symbolic link, which the"
                              " spool never follows; remove it"), self->dir, self->dir,
                              name);
        else
            tx_spool_set_err (err, errlen, _("spool %s: cannot open %s/%s: %s"), self->dir,
                              self->dir, name, strerror (e));
        errno = e;
        return -1;
    }
    struct stat sb;
    if (fstat (fd, &sb)) {
        int e = errno;
        tx_spool_set_err (err, errlen, _("spool %s: stat %s: %s"), self->dir, name,
                          strerror (e));
        close (fd);
        errno = e;
        return -1;
    }
    if (s_check_stat (self->dir, name, &sb, err, errlen)) {
        close (fd);
        errno = EPERM;
        return -1;
    }
    int fl = fcntl (fd, F_GETFL);
    if (fl >= 0)
        fcntl (fd, F_SETFL, fl & ~O_NONBLOCK);
    return fd;
}

/* Open the spool directory, creating it (mode 0700) if it does not exist:
   never through a symbolic link, and only if s_check_stat trusts it.
   Returns the fd, or -1 with the reason in err. */
int
tx_spool_trust_dir (const char *dir, char *err, size_t errlen)
{
    if (mkdir (dir, 0700) && errno != EEXIST) {
        tx_spool_set_err (err, errlen, _("spool %s: cannot create: %s"), dir, strerror (errno));
        return -1;
    }
    int fd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        struct stat lsb;
        if (errno == ELOOP || (errno == ENOTDIR && lstat (dir, &lsb) == 0
                               && S_ISLNK (lsb.st_mode)))
            tx_spool_set_err (err, errlen, _("spool %s is a symbolic link, which the spool"
                              " never follows; give the directory itself"), dir);
        else
            tx_spool_set_err (err, errlen, _("spool %s: %s"), dir, strerror (errno));
        return -1;
    }
    struct stat sb;
    if (fstat (fd, &sb)) {
        tx_spool_set_err (err, errlen, _("spool %s: %s"), dir, strerror (errno));
        close (fd);
        return -1;
    }
    if (s_check_stat (dir, NULL, &sb, err, errlen)) {
        close (fd);
        errno = EPERM;
        return -1;
    }
    return fd;
}

/* tx_spool_trust_open for a file that must be new: any old one (a leftover .tmp, or
   whatever was planted under its name) is unlinked first, then the file
   is created exclusively. */
int
tx_spool_trust_create (tx_spool_t *self, const char *name, char *err, size_t errlen)
{
    if (unlinkat (self->dirfd, name, 0) && errno != ENOENT) {
        int e = errno;
        tx_spool_set_err (err, errlen, _("spool %s: cannot remove %s: %s"), self->dir,
                          name, strerror (e));
        errno = e;
        return -1;
    }
    return tx_spool_trust_open (self, name, O_RDWR | O_CREAT | O_EXCL, err, errlen);
}
