/* Writes tensor data to an external file beside the output model. */
#ifndef EDGEC_EXT_WRITER_H
#define EDGEC_EXT_WRITER_H

#include "common/outfile.h"
#include "ir/ir.h"

/* Tensors of at least this many bytes go to the external file. */
#define EDGEC_EXT_MIN_BYTES 1024
/* Offsets are aligned so that readers may mmap each tensor. */
#define EDGEC_EXT_ALIGN 4096

typedef struct edgec_ext_writer edgec_ext_writer;
struct edgec_ext_writer {
    edgec_outfile *file;
    char *location; /* relative to the model's folder */
};

/* Opens `<model_path>.data`. */
edgec_status edgec__ext_writer_open(edgec_ext_writer *w, edgec_arena *a, const char *model_path,
                                    const edgec_inode *forbidden, size_t n_forbidden);
edgec_status edgec__ext_writer_put(edgec_ext_writer *w, const void *data, size_t n, uint64_t *offset);
size_t edgec__ext_writer_min_bytes(const edgec_ext_writer *w);
const char *edgec__ext_writer_location(const edgec_ext_writer *w);

#endif
