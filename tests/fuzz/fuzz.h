/* Shared pieces of the libFuzzer harnesses in tests/fuzz.
 *
 * Each harness defines LLVMFuzzerTestOneInput (and optionally LLVMFuzzerInitialize).
 * Built with -DEDGEC_FUZZ=ON it links libFuzzer; in every build it also links
 * replay.c, which feeds saved inputs to the same function so ctest replays the corpus.
 * A finding is a crash, a sanitizer report, or a broken invariant, which the harness
 * reports through FUZZ_CHECK: it prints what failed and aborts, as libFuzzer expects. */
#ifndef EDGEC_FUZZ_H
#define EDGEC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "edgec/edgec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Aborts with a message when an invariant the harness checks does not hold. */
#define FUZZ_CHECK(cond, ...)                                                               \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "fuzz invariant failed at %s:%d: %s\n  ", __FILE__, __LINE__,   \
                    #cond);                                                                 \
            fprintf(stderr, __VA_ARGS__);                                                   \
            fprintf(stderr, "\n  last error: %s\n", edgec_error_message());                 \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

/* Statuses a function may return on hostile input; anything else (INTERNAL, USAGE from a
 * reader) is a bug the harness reports. */
static inline int fuzz_status_expected(edgec_status st)
{
    return st == EDGEC_STATUS_OK || st == EDGEC_STATUS_INVALID_MODEL ||
           st == EDGEC_STATUS_INVALID_DATA || st == EDGEC_STATUS_LIMIT ||
           st == EDGEC_STATUS_UNSAFE_PATH || st == EDGEC_STATUS_UNSUPPORTED ||
           st == EDGEC_STATUS_NO_MEMORY;
}

#endif
