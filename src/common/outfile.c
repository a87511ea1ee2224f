#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/outfile.h"

#define OUT_BUF (1u << 20)

struct edgec_outfile {
    int fd;
    bool rename_on_commit; /* regular file written through a temporary */
    bool close_fd;
    char target[PATH_MAX];
    char tmp[PATH_MAX];
    const char *shown; /* the path as the user gave it, for messages */
    mode_t mode;
    uint64_t offset;
    size_t used;
    unsigned char buf[OUT_BUF];
};

static edgec_status write_all(edgec_outfile *f, const unsigned char *p, size_t n)
{
    while (n) {
        ssize_t w = write(f->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return edgec__fail(EDGEC_STATUS_IO, "%s: write failed: %s", f->shown,
                               w < 0 ? strerror(errno) : "no progress");
        p += w;
        n -= (size_t)w;
    }
    return EDGEC_STATUS_OK;
}

static edgec_status flush(edgec_outfile *f)
{
    edgec_status st = write_all(f, f->buf, f->used);
    f->used = 0;
    return st;
}

edgec_status edgec__outfile_open(const char *path, const edgec_inode *forbidden, size_t n_forbidden,
                                 edgec_outfile **out)
{
    *out = NULL;
    edgec_outfile *f = calloc(1, sizeof *f);
    if (!f)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "%s: out of memory", path);
    f->fd = -1;
    f->shown = path;
    edgec_status st = EDGEC_STATUS_OK;
    if (!strcmp(path, "-")) {
        if (isatty(STDOUT_FILENO)) {
            st = edgec__fail(EDGEC_STATUS_USAGE,
                             "refusing to write a binary model to a terminal; redirect standard "
                             "output or give -o FILE");
            goto cleanup;
        }
        f->fd = STDOUT_FILENO;
        *out = f;
        return EDGEC_STATUS_OK;
    }
    struct stat sb;
    bool exists = stat(path, &sb) == 0;
    if (exists) {
        for (size_t i = 0; i < n_forbidden; i++) {
            if ((uint64_t)sb.st_dev == forbidden[i].dev && (uint64_t)sb.st_ino == forbidden[i].ino) {
                st = edgec__fail(EDGEC_STATUS_USAGE,
                                 "%s: refusing to overwrite the input model or its data; choose "
                                 "another output path",
                                 path);
                goto cleanup;
            }
        }
        if (S_ISDIR(sb.st_mode)) {
            st = edgec__fail(EDGEC_STATUS_IO, "%s: is a directory", path);
            goto cleanup;
        }
    }
    if (exists && !S_ISREG(sb.st_mode)) {
        /* A device or FIFO: write in place; replacing it would be destructive. */
        f->fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (f->fd < 0) {
            st = edgec__fail(EDGEC_STATUS_IO, "%s: cannot open for writing: %s", path,
                             strerror(errno));
            goto cleanup;
        }
        f->close_fd = true;
        *out = f;
        return EDGEC_STATUS_OK;
    }
    /* Through a symlink, the file it names is the one replaced, not the link. */
    if (exists) {
        if (!realpath(path, f->target)) {
            st = edgec__fail(EDGEC_STATUS_IO, "%s: cannot resolve: %s", path, strerror(errno));
            goto cleanup;
        }
        f->mode = sb.st_mode & 07777;
    } else {
        if (strlen(path) >= sizeof f->target) {
            st = edgec__fail(EDGEC_STATUS_IO, "%s: path too long", path);
            goto cleanup;
        }
        strcpy(f->target, path);
        mode_t um = umask(0);
        umask(um);
        f->mode = 0666 & ~um;
    }
    char dirbuf[PATH_MAX], basebuf[PATH_MAX];
    strcpy(dirbuf, f->target);
    strcpy(basebuf, f->target);
    const char *dir = dirname(dirbuf);
    const char *base = basename(basebuf);
    if ((size_t)snprintf(f->tmp, sizeof f->tmp, "%s/.%s.tmp.XXXXXX", dir, base) >= sizeof f->tmp) {
        st = edgec__fail(EDGEC_STATUS_IO, "%s: path too long", path);
        goto cleanup;
    }
    f->fd = mkostemp(f->tmp, O_CLOEXEC);
    if (f->fd < 0) {
        st = edgec__fail(EDGEC_STATUS_IO, "%s: cannot create a file in '%s': %s", path, dir,
                         strerror(errno));
        f->tmp[0] = '\0';
        goto cleanup;
    }
    f->rename_on_commit = true;
    f->close_fd = true;
    *out = f;
    return EDGEC_STATUS_OK;
cleanup:
    free(f);
    return st;
}

edgec_status edgec__outfile_write(edgec_outfile *f, const void *data, size_t n)
{
    const unsigned char *p = data;
    if (!n)
        return EDGEC_STATUS_OK; /* `data` may be NULL then (empty protobuf bytes fields) */
    f->offset += n;
    if (n >= OUT_BUF) {
        edgec_status st = flush(f);
        return st ? st : write_all(f, p, n);
    }
    if (OUT_BUF - f->used < n) {
        edgec_status st = flush(f);
        if (st)
            return st;
    }
    memcpy(f->buf + f->used, p, n);
    f->used += n;
    return EDGEC_STATUS_OK;
}

uint64_t edgec__outfile_offset(const edgec_outfile *f)
{
    return f->offset;
}

void edgec__outfile_abort(edgec_outfile *f)
{
    if (!f)
        return;
    if (f->close_fd && f->fd >= 0)
        close(f->fd);
    if (f->rename_on_commit && f->tmp[0])
        unlink(f->tmp);
    free(f);
}

edgec_status edgec__outfile_commit(edgec_outfile *f)
{
    edgec_status st = flush(f);
    if (st)
        goto cleanup;
    if (!f->rename_on_commit) {
        /* Devices and pipes: report errors a final close would reveal. */
        if (f->close_fd) {
            int fd = f->fd;
            f->fd = -1;
            if (close(fd) != 0)
                st = edgec__fail(EDGEC_STATUS_IO, "%s: write failed: %s", f->shown,
                                 strerror(errno));
        }
        goto cleanup;
    }
    if (fchmod(f->fd, f->mode) != 0 || fsync(f->fd) != 0) {
        st = edgec__fail(EDGEC_STATUS_IO, "%s: cannot sync the written file: %s", f->shown,
                         strerror(errno));
        goto cleanup;
    }
    int fd = f->fd;
    f->fd = -1;
    if (close(fd) != 0) {
        st = edgec__fail(EDGEC_STATUS_IO, "%s: write failed: %s", f->shown, strerror(errno));
        goto cleanup;
    }
    if (rename(f->tmp, f->target) != 0) {
        st = edgec__fail(EDGEC_STATUS_IO, "%s: cannot move the written file into place: %s",
                         f->shown, strerror(errno));
        goto cleanup;
    }
    f->tmp[0] = '\0';
    /* Make the rename itself durable. */
    char dirbuf[PATH_MAX];
    strcpy(dirbuf, f->target);
    int dfd = open(dirname(dirbuf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
cleanup:
    edgec__outfile_abort(f);
    return st;
}

/* Renders with `fn` into memory, then writes the file whole through an outfile. */
edgec_status edgec__outfile_render(const char *path, void (*fn)(const void *, FILE *), const void *arg)
{
    char *buf = NULL;
    size_t len = 0;
    edgec_outfile *f = NULL;
    edgec_status st = EDGEC_STATUS_OK;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "%s: out of memory", path);
    fn(arg, mem);
    if (fclose(mem) != 0 || !buf) {
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "%s: out of memory", path);
        goto cleanup;
    }
    if ((st = edgec__outfile_open(path, NULL, 0, &f)) ||
        (st = edgec__outfile_write(f, buf, len)))
        goto cleanup;
    st = edgec__outfile_commit(f);
    f = NULL;
cleanup:
    edgec__outfile_abort(f);
    free(buf);
    return st;
}
