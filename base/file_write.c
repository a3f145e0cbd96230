/* file_write.c - atomic replacement of regular files.  See file_write.h. */
#include "file_write.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


#include "buf.h"
#include "rand.h"
#include "xalloc.h"

static const char *kind_of(mode_t m)
{
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISSOCK(m))
        return "a socket";
    return "not a regular file";
}

/* Writes p[0..n) at offset at, through short writes and EINTR. */
static bool pwrite_all(int fd, const char *p, size_t n, off_t at)
{
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, at);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        at += w;
        n -= (size_t)w;
    }
    return true;
}

bool file_write_atomic(const char *path, const char *const *parts, const size_t *lens, int n,
                       int mode, int flags, char **err)
{
    bool ok = false;
    char *target = NULL, *tmp = NULL, *dir = NULL;
    int fd = -1;
    *err = NULL;

    /* Where the bytes go: the path itself, or the file its link names
     * (replacing the link would leave the real file unchanged). */
    struct stat st;
    bool exists = false;
    if (lstat(path, &st) == 0) {
        if (S_ISLNK(st.st_mode)) {
            char *real = realpath(path, NULL);
            if (!real) {
                *err = str_printf("cannot write '%s': it is a symbolic link that does not "
                                  "resolve: %s", path, strerror(errno));
                goto out;
            }
            target = real;
            if (stat(target, &st) == 0)
                exists = true;
            else if (errno != ENOENT) {
                *err = str_printf("cannot write '%s': %s", target, strerror(errno));
                goto out;
            }
        } else {
            exists = true;
            target = xstrdup(path);
        }
    } else if (errno == ENOENT) {
        target = xstrdup(path);
    } else {
        *err = str_printf("cannot write '%s': %s", path, strerror(errno));
        goto out;
    }
    if (exists && !S_ISREG(st.st_mode)) {
        *err = str_printf("refusing to write '%s': it is %s; rlc writes only regular files",
                          path, kind_of(st.st_mode));
        goto out;
    }
    if (exists && (flags & FW_KEEP_MODE))
        mode = (int)(st.st_mode & 07777);
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += lens[i];
    bool sector = (flags & FW_SECTOR) && exists && st.st_size <= FW_SECTOR_BYTES &&
                  total <= FW_SECTOR_BYTES;
    if (exists && ((flags & FW_IN_PLACE) || sector)) {
        fd = open(target, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
        off_t at = 0;
        bool wrote = fd >= 0;
        if (sector && wrote) {
            /* One write of the whole text: a sector, never split. */
            char one[FW_SECTOR_BYTES];
            for (int i = 0; i < n; i++) {
                memcpy(one + at, parts[i], lens[i]);
                at += (off_t)lens[i];
            }
            wrote = pwrite_all(fd, one, total, 0);
        }
        for (int i = 0; !sector && wrote && i < n; i++) {
            wrote = pwrite_all(fd, parts[i], lens[i], at);
            at += (off_t)lens[i];
        }
        struct stat now;
        if (wrote && (fstat(fd, &now) != 0 || (now.st_size > at && ftruncate(fd, at) != 0)))
            wrote = false;
        if (wrote && sector && !(flags & FW_NO_SYNC) && fsync(fd) != 0)
            wrote = false;
        if (!wrote) {
            *err = str_printf("cannot write '%s': %s", target, strerror(errno));
            goto out;
        }
        ok = true;
        goto out;
    }

    /* The temp file lives beside the target so rename() is atomic; a
     * random name and O_EXCL | O_NOFOLLOW so nothing planted there is
     * followed or reused. */
    const char *slash = strrchr(target, '/');
    dir = slash ? xstrndup(target, slash == target ? 1 : (size_t)(slash - target)) : xstrdup(".");
    unsigned char rnd[8];
    if (!rand_fill(rnd, sizeof rnd)) {
        *err = str_printf("cannot write '%s': no random bytes for a temporary name", target);
        goto out;
    }
    tmp = str_printf("%s/.%s.%02x%02x%02x%02x%02x%02x%02x%02x.tmp", dir ? dir : ".",
                     slash ? slash + 1 : target, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5],
                     rnd[6], rnd[7]);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 07777);
    if (fd < 0) {
        *err = str_printf("cannot create '%s' (the temporary file beside '%s'): %s", tmp,
                          target, strerror(errno));
        goto out;
    }
    /* The umask must not change an exact mode, nor narrow a kept one. */
    bool set_mode = (flags & FW_EXACT_MODE) || ((flags & FW_KEEP_MODE) && exists);
    if (set_mode && fchmod(fd, (mode_t)mode & 07777) != 0) {
        *err = str_printf("cannot set the mode of '%s': %s", tmp, strerror(errno));
        goto out_unlink;
    }
    off_t at = 0;
    for (int i = 0; i < n; i++) {
        if (!pwrite_all(fd, parts[i], lens[i], at)) {
            *err = str_printf("cannot write '%s': %s", tmp, strerror(errno));
            goto out_unlink;
        }
        at += (off_t)lens[i];
    }
    if (!(flags & FW_NO_SYNC) && fsync(fd) != 0) {
        *err = str_printf("cannot write '%s': %s", tmp, strerror(errno));
        goto out_unlink;
    }
    int cr = close(fd);
    fd = -1;
    if (cr != 0) {
        *err = str_printf("cannot write '%s': %s", tmp, strerror(errno));
        goto out_unlink;
    }
    if (rename(tmp, target) != 0) {
        *err = str_printf("cannot rename '%s' to '%s': %s", tmp, target, strerror(errno));
        goto out_unlink;
    }
    if (flags & FW_NO_SYNC) {
        ok = true;
        goto out;
    }
    /* Make the rename itself durable. */
    int dfd = open(dir ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0) {
        *err = str_printf("cannot sync directory '%s': %s", dir ? dir : ".", strerror(errno));
        if (dfd >= 0)
            close(dfd);
        goto out;
    }
    close(dfd);
    ok = true;
    goto out;
out_unlink:
    unlink(tmp);
out:
    if (fd >= 0)
        close(fd);
    free(target);
    free(tmp);
    free(dir);
    return ok;
}
