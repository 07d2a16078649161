/*  spool_file.c -- writing the spool's files whole: pwrite of every byte,
    fsync of the directory, and the one atomic replacement of a file
    (write a temp file, fdatasync, rename, fsync the directory) that every
    file the spool creates goes through.  Contract: spool_internal.h.
*/
#include "spool_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int
tx_spool_pwrite_all (int fd, const void *buf, size_t n, uint64_t off)
{
    const unsigned char *p = buf;
    while (n) {
        ssize_t w = pwrite (fd, p, n, (off_t) off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (w == 0) {
            errno = EIO;
            return -1;
        }
        p += w;
        n -= (size_t) w;
        off += (uint64_t) w;
    }
    return 0;
}

/* Returns -1 with errno set on failure */
int
tx_spool_fsync_dir (tx_spool_t *self)
{
    if (fsync (self->dirfd) == 0)
        return 0;
    int err = errno;
    tx_spool_log (self, TX_SPOOL_LOG_ERROR, "event=fsync-dir-failed error=\"%s\"",
                  strerror (err));
    errno = err;
    return -1;
}

int
tx_spool_write_atomic (tx_spool_t *self, const char *tmpname,
                       const char *name, const void *buf, size_t len,
                       bool dir_sync_required, const char **what, char *why,
                       size_t whylen)
{
    *what = "open";
    int fd = tx_spool_trust_create (self, tmpname, why, whylen);
    if (fd < 0)
        goto fail;
    *what = "write";
    if (tx_spool_pwrite_all (fd, buf, len, 0))
        goto fail;
    *what = "fdatasync";
    if (fdatasync (fd))
        goto fail;
    *what = "rename";
    if (renameat (self->dirfd, tmpname, self->dirfd, name))
        goto fail;
    *what = "fsync-dir";
    if (tx_spool_fsync_dir (self) && dir_sync_required) {
        /* The file exists; without a durable directory entry what is
           written to it could vanish on power loss, so do not use it. */
        int err = errno;
        unlinkat (self->dirfd, name, 0);
        close (fd);
        errno = err;
        return -1;
    }
    return fd;
fail:;
    int err = errno;
    if (fd >= 0)
        close (fd);
    unlinkat (self->dirfd, tmpname, 0);
    errno = err;
    return -1;
}
