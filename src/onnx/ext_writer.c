#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "onnx/onnx_internal.h"
#include "onnx/ext_writer.h"

edgec_status edgec__ext_writer_open(edgec_ext_writer *w, edgec_arena *a, const char *model_path,
                                    const edgec_inode *forbidden, size_t n_forbidden)
{
    char path[PATH_MAX], base[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s.data", model_path) >= sizeof path)
        return edgec__fail(EDGEC_STATUS_IO, "%s: path too long", model_path);
    strcpy(base, path);
    w->location = edgec__arena_strdup(a, basename(base));
    if (!w->location)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    return edgec__outfile_open(path, forbidden, n_forbidden, &w->file);
}

edgec_status edgec__ext_writer_put(edgec_ext_writer *w, const void *data, size_t n, uint64_t *offset)
{
    static const unsigned char zeros[EDGEC_EXT_ALIGN];
    uint64_t at = edgec__outfile_offset(w->file);
    size_t pad = (size_t)((EDGEC_EXT_ALIGN - at % EDGEC_EXT_ALIGN) % EDGEC_EXT_ALIGN);
    edgec_status st = edgec__outfile_write(w->file, zeros, pad);
    if (st)
        return st;
    *offset = at + pad;
    return edgec__outfile_write(w->file, data, n);
}

size_t edgec__ext_writer_min_bytes(const edgec_ext_writer *w)
{
    (void)w;
    return EDGEC_EXT_MIN_BYTES;
}

const char *edgec__ext_writer_location(const edgec_ext_writer *w)
{
    return w->location;
}
