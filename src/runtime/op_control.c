/* Control flow: If, Loop and Scan. Bodies run through edgec__rt_run_subgraph, which
 * lets them read values of the enclosing graphs. */
#include <stdlib.h>
#include <string.h>

#include "runtime/rt.h"

static const edgec_graph *graph_attr(const edgec_op_ctx *ctx, const char *name)
{
    const edgec_attr *a = edgec__node_attr(ctx->node, name);
    return a && a->type == EDGEC_ATTR_GRAPH ? a->g : NULL;
}

static edgec_status copy_of(const edgec_rt_tensor *t, edgec_rt_tensor **out)
{
    edgec_status st = edgec__rt_tensor_new(t->dtype, t->rank, t->dims, out);
    if (!st && t->nbytes)
        memcpy((*out)->data, t->data, t->nbytes);
    return st;
}

static void free_all(edgec_rt_tensor **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        edgec__rt_tensor_free(v[i]);
        v[i] = NULL;
    }
}

static edgec_status run_if(edgec_op_ctx *ctx)
{
    const edgec_rt_tensor *c = ctx->n_inputs ? ctx->inputs[0] : NULL;
    if (!c || c->numel != 1)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "the condition must be a tensor of one element");
    bool cond = edgec__rt_get_f64(c, 0) != 0;
    const char *branch = cond ? "then_branch" : "else_branch";
    const edgec_graph *g = graph_attr(ctx, branch);
    if (!g)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "has no %s graph", branch);
    if (g->n_outputs != ctx->n_outputs)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "%s has %zu outputs but the node has %zu", branch, g->n_outputs,
                              ctx->n_outputs);
    edgec_rt_tensor **outs = calloc(g->n_outputs + 1, sizeof *outs);
    if (!outs)
        return edgec__op_fail(ctx, EDGEC_STATUS_NO_MEMORY, "out of memory");
    edgec_status st = edgec__rt_run_subgraph(ctx, g, 0, NULL, outs);
    for (size_t k = 0; !st && k < g->n_outputs; k++) {
        edgec__rt_tensor_free(ctx->outputs[k]);
        ctx->outputs[k] = outs[k];
        outs[k] = NULL;
    }
    free_all(outs, g->n_outputs);
    free(outs);
    return st;
}

/* Stacks `n` equally shaped tensors along a new axis at `axis`, in order, or reversed. */
static edgec_status stack(edgec_op_ctx *ctx, size_t index, edgec_rt_tensor **parts, int64_t n,
                          int64_t axis, bool reverse, int32_t dtype_if_empty,
                          const char *what)
{
    if (n == 0) {
        int64_t zero = 0;
        return edgec__rt_output(ctx, index, dtype_if_empty ? dtype_if_empty : EDGEC_DTYPE_FLOAT,
                                1, &zero)
                   ? EDGEC_STATUS_OK
                   : EDGEC_STATUS_NO_MEMORY;
    }
    const edgec_rt_tensor *p0 = parts[0];
    if (p0->rank + 1 > EDGEC_MAX_RANK || axis < 0 || axis > p0->rank)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "%s: axis %lld is out of range",
                              what, (long long)axis);
    unsigned bits = edgec__dtype(p0->dtype)->bits;
    if (bits < 8)
        return edgec__op_fail(ctx, EDGEC_STATUS_UNSUPPORTED, "%s: type %s cannot be stacked",
                              what, edgec__dtype(p0->dtype)->name);
    for (int64_t t = 1; t < n; t++) {
        const edgec_rt_tensor *p = parts[t];
        if (p->dtype != p0->dtype || p->rank != p0->rank ||
            memcmp(p->dims, p0->dims, (size_t)p0->rank * sizeof *p0->dims))
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                  "%s: iteration %lld gives a value of another type or shape "
                                  "than iteration 0",
                                  what, (long long)t);
    }
    int64_t dims[EDGEC_MAX_RANK];
    for (int32_t k = 0, j = 0; k <= p0->rank; k++)
        dims[k] = k == axis ? n : p0->dims[j++];
    edgec_rt_tensor *o = edgec__rt_output(ctx, index, p0->dtype, p0->rank + 1, dims);
    if (!o)
        return EDGEC_STATUS_NO_MEMORY;
    size_t esize = bits / 8, outer = 1, inner = esize;
    for (int32_t k = 0; k < p0->rank; k++) {
        if (k < axis)
            outer *= (size_t)p0->dims[k];
        else
            inner *= (size_t)p0->dims[k];
    }
    for (int64_t t = 0; t < n; t++) {
        size_t pos = (size_t)(reverse ? n - 1 - t : t);
        const uint8_t *src = parts[t]->data;
        uint8_t *dst = o->data;
        for (size_t q = 0; q < outer; q++)
            memcpy(dst + (q * (size_t)n + pos) * inner, src + q * inner, inner);
    }
    return EDGEC_STATUS_OK;
}

/* Appends `t` to a growing list. */
static bool push(edgec_rt_tensor ***list, int64_t *n, int64_t *cap, edgec_rt_tensor *t)
{
    if (*n == *cap) {
        int64_t nc = *cap ? *cap * 2 : 8;
        edgec_rt_tensor **nl = realloc(*list, (size_t)nc * sizeof *nl);
        if (!nl)
            return false;
        *list = nl;
        *cap = nc;
    }
    (*list)[(*n)++] = t;
    return true;
}

static edgec_status run_loop(edgec_op_ctx *ctx)
{
    const edgec_graph *g = graph_attr(ctx, "body");
    if (!g)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "has no body graph");
    if (ctx->n_inputs < 2)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "needs inputs M and cond");
    size_t n_carried = ctx->n_inputs - 2;
    if (g->n_inputs != n_carried + 2 || g->n_outputs < n_carried + 1 ||
        ctx->n_outputs != g->n_outputs - 1)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "the body's %zu inputs and %zu outputs do not match the node's "
                              "%zu loop-carried values and %zu outputs",
                              g->n_inputs, g->n_outputs, n_carried, ctx->n_outputs);
    size_t n_scan = g->n_outputs - 1 - n_carried;
    const edgec_rt_tensor *m = ctx->inputs[0], *c0 = ctx->inputs[1];
    if ((m && m->numel != 1) || (c0 && c0->numel != 1))
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "M and cond must be tensors of one element");
    int64_t trip = m ? edgec__rt_get_i64(m, 0) : INT64_MAX;
    bool cond = c0 ? edgec__rt_get_f64(c0, 0) != 0 : true;

    edgec_status st = EDGEC_STATUS_OK;
    edgec_rt_tensor *iter = NULL, *cond_t = NULL;
    const edgec_rt_tensor **ins = calloc(g->n_inputs + 1, sizeof *ins);
    edgec_rt_tensor **outs = calloc(g->n_outputs + 1, sizeof *outs);
    edgec_rt_tensor **carried = calloc(n_carried + 1, sizeof *carried); /* owned */
    edgec_rt_tensor ***scans = calloc(n_scan + 1, sizeof *scans);
    int64_t *n_parts = calloc(n_scan + 1, sizeof *n_parts);
    int64_t *cap_parts = calloc(n_scan + 1, sizeof *cap_parts);
    if (!ins || !outs || !carried || !scans || !n_parts || !cap_parts) {
        st = edgec__op_fail(ctx, EDGEC_STATUS_NO_MEMORY, "out of memory");
        goto cleanup;
    }
    if ((st = edgec__rt_tensor_new(EDGEC_DTYPE_INT64, 0, NULL, &iter)) ||
        (st = edgec__rt_tensor_new(EDGEC_DTYPE_BOOL, 0, NULL, &cond_t)))
        goto cleanup;
    for (int64_t i = 0; i < trip && cond; i++) {
        *(int64_t *)iter->data = i;
        *(uint8_t *)cond_t->data = cond;
        ins[0] = iter;
        ins[1] = cond_t;
        for (size_t k = 0; k < n_carried; k++)
            ins[2 + k] = carried[k] ? carried[k] : ctx->inputs[2 + k];
        if ((st = edgec__rt_run_subgraph(ctx, g, g->n_inputs, ins, outs)))
            goto cleanup;
        if (outs[0]->numel != 1) {
            st = edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                "the body's condition output must have one element");
            goto cleanup;
        }
        cond = edgec__rt_get_f64(outs[0], 0) != 0;
        edgec__rt_tensor_free(outs[0]);
        outs[0] = NULL;
        for (size_t k = 0; k < n_carried; k++) {
            edgec__rt_tensor_free(carried[k]);
            carried[k] = outs[1 + k];
            outs[1 + k] = NULL;
        }
        for (size_t k = 0; k < n_scan; k++) {
            if (!push(&scans[k], &n_parts[k], &cap_parts[k], outs[1 + n_carried + k])) {
                st = edgec__op_fail(ctx, EDGEC_STATUS_NO_MEMORY, "out of memory");
                goto cleanup;
            }
            outs[1 + n_carried + k] = NULL;
        }
    }
    for (size_t k = 0; k < n_carried; k++) {
        edgec_rt_tensor *v = carried[k];
        if (!v) {
            const edgec_rt_tensor *init = ctx->inputs[2 + k];
            if (!init) {
                st = edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                    "loop-carried value %zu has no initial value", k);
                goto cleanup;
            }
            if ((st = copy_of(init, &v)))
                goto cleanup;
        }
        carried[k] = NULL;
        edgec__rt_tensor_free(ctx->outputs[k]);
        ctx->outputs[k] = v;
    }
    for (size_t k = 0; k < n_scan; k++) {
        const edgec_value_info *vi = &g->outputs[1 + n_carried + k];
        if ((st = stack(ctx, n_carried + k, scans[k], n_parts[k], 0, false, vi->elem_type,
                        "scan output")))
            goto cleanup;
    }
cleanup:
    edgec__rt_tensor_free(iter);
    edgec__rt_tensor_free(cond_t);
    free_all(outs, outs ? g->n_outputs : 0);
    free_all(carried, carried ? n_carried : 0);
    for (size_t k = 0; scans && k < n_scan; k++) {
        free_all(scans[k], n_parts ? (size_t)n_parts[k] : 0);
        free(scans[k]);
    }
    free(scans);
    free(n_parts);
    free(cap_parts);
    free(ins);
    free(outs);
    free(carried);
    return st;
}

/* Copies slice `index` along `axis` of `t` into a new tensor without that axis. */
static edgec_status take_slice(const edgec_rt_tensor *t, int64_t axis, int64_t index,
                               edgec_rt_tensor **out)
{
    int64_t dims[EDGEC_MAX_RANK];
    for (int32_t k = 0, j = 0; k < t->rank; k++)
        if (k != axis)
            dims[j++] = t->dims[k];
    edgec_status st = edgec__rt_tensor_new(t->dtype, t->rank - 1, dims, out);
    if (st)
        return st;
    size_t esize = edgec__dtype(t->dtype)->bits / 8, outer = 1, inner = esize;
    for (int32_t k = 0; k < t->rank; k++) {
        if (k < axis)
            outer *= (size_t)t->dims[k];
        else if (k > axis)
            inner *= (size_t)t->dims[k];
    }
    size_t len = (size_t)t->dims[axis];
    const uint8_t *src = t->data;
    uint8_t *dst = (*out)->data;
    for (size_t q = 0; q < outer; q++)
        memcpy(dst + q * inner, src + (q * len + (size_t)index) * inner, inner);
    return EDGEC_STATUS_OK;
}

/* Scan from opset 9: no batch axis, per-input axes and directions. */
static edgec_status run_scan(edgec_op_ctx *ctx)
{
    const edgec_graph *g = graph_attr(ctx, "body");
    if (!g)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "has no body graph");
    int64_t m = edgec__attr_int(ctx->node, "num_scan_inputs", -1);
    if (m < 1 || (size_t)m > ctx->n_inputs)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "num_scan_inputs must be between 1 and the number of inputs");
    size_t n_state = ctx->n_inputs - (size_t)m;
    if (g->n_inputs != ctx->n_inputs || g->n_outputs != ctx->n_outputs ||
        g->n_outputs < n_state)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "the body's inputs and outputs do not match the node's");
    size_t n_scan_out = g->n_outputs - n_state;
    int64_t in_axes[EDGEC_MAX_RANK * 4] = {0}, in_dirs[EDGEC_MAX_RANK * 4] = {0};
    int64_t out_axes[EDGEC_MAX_RANK * 4] = {0}, out_dirs[EDGEC_MAX_RANK * 4] = {0};
    size_t cap = sizeof in_axes / sizeof in_axes[0];
    if ((size_t)m > cap || n_scan_out > cap)
        return edgec__op_fail(ctx, EDGEC_STATUS_UNSUPPORTED, "too many scan inputs or outputs");
    size_t na = edgec__attr_ints(ctx->node, "scan_input_axes", in_axes, cap);
    size_t nd = edgec__attr_ints(ctx->node, "scan_input_directions", in_dirs, cap);
    size_t noa = edgec__attr_ints(ctx->node, "scan_output_axes", out_axes, cap);
    size_t nod = edgec__attr_ints(ctx->node, "scan_output_directions", out_dirs, cap);
    if ((na && na != (size_t)m) || (nd && nd != (size_t)m) || (noa && noa != n_scan_out) ||
        (nod && nod != n_scan_out))
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "scan axes and directions must have one entry per scan value");
    int64_t len = -1;
    for (size_t j = 0; j < (size_t)m; j++) {
        const edgec_rt_tensor *t = ctx->inputs[n_state + j];
        if (!t)
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "scan input %zu is missing",
                                  j);
        if (in_axes[j] < 0)
            in_axes[j] += t->rank;
        if (in_axes[j] < 0 || in_axes[j] >= t->rank)
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                  "scan input %zu: axis is out of range", j);
        if (edgec__dtype(t->dtype)->bits < 8)
            return edgec__op_fail(ctx, EDGEC_STATUS_UNSUPPORTED,
                                  "scan input %zu: type %s is not supported", j,
                                  edgec__dtype(t->dtype)->name);
        int64_t l = t->dims[in_axes[j]];
        if (len >= 0 && l != len)
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                  "scan inputs have different sequence lengths (%lld and %lld)",
                                  (long long)len, (long long)l);
        len = l;
    }
    for (size_t k = 0; k < n_state; k++)
        if (!ctx->inputs[k])
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "state %zu is missing", k);

    edgec_status st = EDGEC_STATUS_OK;
    const edgec_rt_tensor **ins = calloc(g->n_inputs + 1, sizeof *ins);
    edgec_rt_tensor **outs = calloc(g->n_outputs + 1, sizeof *outs);
    edgec_rt_tensor **state = calloc(n_state + 1, sizeof *state);
    edgec_rt_tensor **slices = calloc((size_t)m + 1, sizeof *slices);
    edgec_rt_tensor **parts = calloc(n_scan_out * (size_t)(len > 0 ? len : 1) + 1, sizeof *parts);
    if (!ins || !outs || !state || !slices || !parts) {
        st = edgec__op_fail(ctx, EDGEC_STATUS_NO_MEMORY, "out of memory");
        goto cleanup;
    }
    for (int64_t t = 0; t < len; t++) {
        for (size_t k = 0; k < n_state; k++)
            ins[k] = state[k] ? state[k] : ctx->inputs[k];
        for (size_t j = 0; j < (size_t)m; j++) {
            const edgec_rt_tensor *x = ctx->inputs[n_state + j];
            edgec__rt_tensor_free(slices[j]);
            slices[j] = NULL;
            if ((st = take_slice(x, in_axes[j], in_dirs[j] ? len - 1 - t : t, &slices[j])))
                goto cleanup;
            ins[n_state + j] = slices[j];
        }
        if ((st = edgec__rt_run_subgraph(ctx, g, g->n_inputs, ins, outs)))
            goto cleanup;
        for (size_t k = 0; k < n_state; k++) {
            edgec__rt_tensor_free(state[k]);
            state[k] = outs[k];
            outs[k] = NULL;
        }
        for (size_t k = 0; k < n_scan_out; k++) {
            parts[k * (size_t)len + (size_t)t] = outs[n_state + k];
            outs[n_state + k] = NULL;
        }
    }
    for (size_t k = 0; k < n_state; k++) {
        edgec_rt_tensor *v = state[k];
        if (!v && (st = copy_of(ctx->inputs[k], &v)))
            goto cleanup;
        state[k] = NULL;
        edgec__rt_tensor_free(ctx->outputs[k]);
        ctx->outputs[k] = v;
    }
    for (size_t k = 0; k < n_scan_out; k++) {
        edgec_rt_tensor **p = &parts[k * (size_t)(len > 0 ? len : 1)];
        int64_t axis = out_axes[k];
        if (len > 0 && axis < 0)
            axis += p[0]->rank + 1;
        if ((st = stack(ctx, n_state + k, p, len > 0 ? len : 0, axis, out_dirs[k] != 0,
                        g->outputs[n_state + k].elem_type, "scan output")))
            goto cleanup;
    }
cleanup:
    free_all(outs, outs ? g->n_outputs : 0);
    free_all(state, state ? n_state : 0);
    free_all(slices, slices ? (size_t)m : 0);
    free_all(parts, parts ? n_scan_out * (size_t)(len > 0 ? len : 1) : 0);
    free(ins);
    free(outs);
    free(state);
    free(slices);
    free(parts);
    return st;
}

const edgec_op edgec__ops_control[] = {
    {"If", "", 1, run_if},
    {"Loop", "", 1, run_loop},
    {"Scan", "", 9, run_scan},
    {0},
};
