/* ONNX load -> save -> load -> save.
 *
 * Any input may be refused, with an expected status. An input that loads must also
 * describe itself (text and JSON info), pass through the graph index and the non-finite
 * check without a crash, save, load again from its own saved bytes, and save again to
 * the very same bytes: the writer's output is a fixed point of read + write, which is
 * what "lossless by default" promises for a model edgec itself wrote. */
#include <string.h>

#include "fuzz.h"
#include "ir/ir.h"

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    devnull = fopen("/dev/null", "w");
    return 0;
}

static edgec_status index_graph(edgec_graph *g, void *ctx)
{
    edgec_graph_index *ix = NULL;
    return edgec__graph_index(ctx, g, &ix);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    edgec_model *m = NULL, *m2 = NULL;
    void *b1 = NULL, *b2 = NULL;
    size_t n1 = 0, n2 = 0;
    edgec_status st = edgec_model_load_buffer(data, size, "fuzz.onnx", NULL, &m);
    FUZZ_CHECK(fuzz_status_expected(st), "load returned %s", edgec_status_name(st));
    FUZZ_CHECK(st ? !m && *edgec_error_message() : m != NULL, "load status and model disagree");
    if (st)
        goto cleanup;

    if (devnull) {
        st = edgec_model_print_info(m, devnull, EDGEC_INFO_TEXT);
        FUZZ_CHECK(fuzz_status_expected(st), "info returned %s", edgec_status_name(st));
        st = edgec_model_print_info(m, devnull, EDGEC_INFO_JSON);
        FUZZ_CHECK(fuzz_status_expected(st), "info --json returned %s", edgec_status_name(st));
    }
    st = edgec_model_check_finite(m);
    FUZZ_CHECK(st == EDGEC_STATUS_OK || st == EDGEC_STATUS_INVALID_MODEL,
               "finite check returned %s", edgec_status_name(st));
    /* Validation at load already refused duplicate producers and cycles. */
    st = edgec__model_graphs(m, index_graph, m->arena);
    FUZZ_CHECK(st == EDGEC_STATUS_OK, "graph index failed on a validated model");

    st = edgec_model_save_buffer(m, &b1, &n1);
    FUZZ_CHECK(st == EDGEC_STATUS_OK || st == EDGEC_STATUS_LIMIT || st == EDGEC_STATUS_NO_MEMORY,
               "save of a loaded model returned %s", edgec_status_name(st));
    if (st)
        goto cleanup;
    st = edgec_model_load_buffer(b1, n1, "fuzz-saved.onnx", NULL, &m2);
    FUZZ_CHECK(st == EDGEC_STATUS_OK, "edgec cannot read back what it wrote (%zu bytes)", n1);
    st = edgec_model_save_buffer(m2, &b2, &n2);
    FUZZ_CHECK(st == EDGEC_STATUS_OK, "second save failed");
    FUZZ_CHECK(n1 == n2 && !memcmp(b1, b2, n1),
               "save(load(save(x))) differs from save(x): %zu vs %zu bytes", n1, n2);
cleanup:
    free(b1);
    free(b2);
    edgec_model_free(m);
    edgec_model_free(m2);
    return 0;
}
