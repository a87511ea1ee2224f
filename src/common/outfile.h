/* Output files that appear whole or not at all. */
#ifndef EDGEC_OUTFILE_H
#define EDGEC_OUTFILE_H

#include <stdio.h>

#include "common/common.h"

/* A file being written. Regular files are written to a temporary name in the target's
 * folder and renamed over the target on commit, after fsync; on abort the temporary is
 * removed and an older file at the path is untouched. "-" is standard output (refused
 * when it is a terminal). An existing device or FIFO is written in place, never
 * replaced: `-o /dev/null` works and `-o /dev/full` reports the write error. */
typedef struct edgec_outfile edgec_outfile;

/* An inode the output must not be: the input model and its external data files. */
typedef struct edgec_inode {
    uint64_t dev, ino;
} edgec_inode;

edgec_status edgec__outfile_open(const char *path, const edgec_inode *forbidden, size_t n_forbidden,
                                 edgec_outfile **out);
edgec_status edgec__outfile_write(edgec_outfile *f, const void *data, size_t n);
/* Bytes written so far. */
uint64_t edgec__outfile_offset(const edgec_outfile *f);
/* Flushes, syncs and renames into place, then releases `f` whatever the outcome. */
edgec_status edgec__outfile_commit(edgec_outfile *f);
/* Removes the temporary file and releases `f`. Accepts NULL. */
void edgec__outfile_abort(edgec_outfile *f);

/* Renders with `fn` into memory, then writes `path` whole through an outfile (for
 * reports and plans: nothing appears if rendering runs out of memory). */
edgec_status edgec__outfile_render(const char *path, void (*fn)(const void *, FILE *),
                                   const void *arg);

#endif
