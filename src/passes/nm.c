/* --nm N:M: semi-structured sparsity. In every group of M consecutive weights along the
 * input-channel axis, the N smallest in magnitude become zero (2:4 is what sparse tensor
 * cores accelerate). With --calib the kept weights are re-solved as for --prune. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes/prune_common.h"

#define NOMEM edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory")
#define NM_MAX_M 64

static edgec_status parse(const char *arg, int *n, int *m)
{
    char tail;
    if (!arg || sscanf(arg, "%d:%d%c", n, m, &tail) != 2 || *m < 2 || *m > NM_MAX_M || *n < 1 ||
        *n >= *m)
        return edgec__fail(EDGEC_STATUS_USAGE,
                           "--nm needs N:M with 1 <= N < M <= %d (N zeros in every M weights), "
                           "e.g. 2:4, not '%s'",
                           NM_MAX_M, arg ? arg : "");
    return EDGEC_STATUS_OK;
}

static edgec_status check(const char *arg)
{
    int n, m;
    return parse(arg, &n, &m);
}

/* The mask of one layer: groups run along `nm_axis`; a shorter last group keeps at most
 * M - N weights too. */
static void mask_layer(const edgec_prune_layer *L, int n, int m, uint8_t *keep)
{
    const int64_t *d = L->w.dims;
    int64_t len = d[L->nm_axis], inner = 1, outer = 1;
    for (int32_t i = L->nm_axis + 1; i < L->w.rank; i++)
        inner *= d[i];
    for (int32_t i = 0; i < L->nm_axis; i++)
        outer *= d[i];
    memset(keep, 1, (size_t)L->numel);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t in = 0; in < inner; in++)
            for (int64_t g = 0; g < len; g += m) {
                int64_t size = len - g < m ? len - g : m;
                int64_t drop = size - (m - n);
                int64_t idx[NM_MAX_M];
                for (int64_t k = 0; k < size; k++)
                    idx[k] = (o * len + g + k) * inner + in;
                /* Selection of the `drop` smallest; ties keep the earlier weight. */
                for (int64_t a = 0; a < drop; a++) {
                    int64_t best = a;
                    for (int64_t b = a + 1; b < size; b++)
                        if (fabsf(L->data[idx[b]]) < fabsf(L->data[idx[best]]))
                            best = b;
                    int64_t t = idx[a];
                    idx[a] = idx[best];
                    idx[best] = t;
                    keep[idx[a]] = 0;
                }
            }
}

static edgec_status run(edgec_pass_ctx *ctx)
{
    int n = 0, m = 0;
    edgec_status st = ctx->arg ? parse(ctx->arg, &n, &m) : EDGEC_STATUS_OK;
    if (st)
        return st;
    edgec_prune_layer *layers = NULL;
    size_t count = 0;
    uint8_t **keep = NULL;
    edgec_prune_macs macs = {0};
    if ((st = edgec__prune_layers(ctx, &layers, &count)))
        return st;
    if (!count) {
        edgec__pass_log(ctx, "no prunable weights");
        goto cleanup;
    }
    edgec__prune_log_macs(ctx, &macs, false);
    if (!(keep = calloc(count, sizeof *keep))) {
        st = NOMEM;
        goto cleanup;
    }
    for (size_t i = 0; i < count; i++) {
        if (!(keep[i] = malloc((size_t)layers[i].numel))) {
            st = NOMEM;
            goto cleanup;
        }
        /* A layer setting gives this layer its own N:M. */
        if ((st = parse(edgec__pass_arg(ctx, layers[i].w.name), &n, &m)))
            goto cleanup;
        mask_layer(&layers[i], n, m, keep[i]);
    }
    if ((st = edgec__prune_apply(ctx, layers, count, keep, NULL)))
        goto cleanup;
    int64_t zeros = 0, total = 0;
    for (size_t i = 0; i < count; i++) {
        zeros += edgec__count_zeros(layers[i].data, layers[i].numel);
        total += layers[i].numel;
    }
    edgec__pass_log(ctx, "%d:%d along the input-channel axis of %zu tensors: %lld of %lld "
                    "weights zero (%.2f%%)",
                    n, m, count, (long long)zeros, (long long)total,
                    100.0 * (double)zeros / (double)total);
    st = edgec__prune_finish(ctx, layers, count, &macs, false);
cleanup:
    edgec__prune_masks_free(keep, count);
    free(layers);
    return st;
}

const edgec_pass edgec__pass_nm = {
    "nm",
    "N:M",
    true,
    "N:M semi-structured sparsity: N zeros in every M consecutive weights along the "
    "input-channel axis (e.g. 2:4); --calib re-solves the kept weights",
    EDGEC_ORDER_PRUNE,
    NULL,
    check,
    run,
    true, /* layer settings */
};
