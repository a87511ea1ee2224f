/* Whole-file reads and atomic writes for data files. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/outfile.h"
#include "data/data_internal.h"

edgec_status edgec__read_file(const char *path, uint64_t limit, uint8_t **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    edgec_status st = EDGEC_STATUS_OK;
    uint8_t *b = NULL;
    struct stat sb;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 || fstat(fd, &sb) != 0) {
        st = edgec__fail(EDGEC_STATUS_IO, "%s: cannot open: %s", path, strerror(errno));
        goto cleanup;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = edgec__fail(EDGEC_STATUS_IO, "%s: not a regular file", path);
        goto cleanup;
    }
    if ((uint64_t)sb.st_size > limit || (uint64_t)sb.st_size > SIZE_MAX - 1) {
        st = edgec__fail(EDGEC_STATUS_LIMIT, "%s: %lld bytes is over the limit of %llu bytes", path,
                         (long long)sb.st_size, (unsigned long long)limit);
        goto cleanup;
    }
    size_t n = (size_t)sb.st_size, got = 0;
    if (!(b = malloc(n ? n : 1))) {
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "%s: out of memory reading %zu bytes", path, n);
        goto cleanup;
    }
    while (got < n) {
        ssize_t r = read(fd, b + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            st = edgec__fail(EDGEC_STATUS_IO, "%s: read failed: %s", path, strerror(errno));
            goto cleanup;
        }
        if (r == 0)
            break; /* the file shrank while being read: use what is there */
        got += (size_t)r;
    }
    *buf = b;
    *len = got;
    b = NULL;
cleanup:
    free(b);
    if (fd >= 0)
        close(fd);
    return st;
}

edgec_status edgec__write_file(const char *path, const void *data, size_t len)
{
    edgec_outfile *f = NULL;
    edgec_status st = edgec__outfile_open(path, NULL, 0, &f);
    if (st)
        return st;
    if ((st = edgec__outfile_write(f, data, len))) {
        edgec__outfile_abort(f);
        return st;
    }
    return edgec__outfile_commit(f);
}
