/* `edgec info`: what a model holds, for people (text) and scripts (JSON). */
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "ir/ir.h"
#include "report/macs.h"

#define TOP_WEIGHTS 10

typedef struct weight_row {
    const char *name;
    int32_t dtype;
    int32_t rank;
    const int64_t *dims;
    int64_t numel;
    uint64_t bytes;
    const char *where; /* arena-allocated description of the location */
} weight_row;

typedef struct op_count {
    const char *op; /* "domain::Op" for non-default domains */
    size_t count;
} op_count;

typedef struct info_ctx {
    edgec_model *m;
    uint64_t params_by_dtype[EDGEC_DTYPE_COUNT];
    uint64_t bytes_by_dtype[EDGEC_DTYPE_COUNT];
    size_t weights_by_dtype[EDGEC_DTYPE_COUNT];
    weight_row *rows;
    size_t n_rows, cap_rows;
    op_count *ops;
    size_t n_ops, cap_ops;
    size_t n_nodes, n_graphs;
    edgec_status st;
    bool has_macs; /* false when the interpreter cannot run the model */
    edgec_macs macs;
} info_ctx;

static const char *kind_name(edgec_weight_kind k)
{
    static const char *const names[] = {
        [EDGEC_WEIGHT_INITIALIZER] = "initializer",
        [EDGEC_WEIGHT_SPARSE_INITIALIZER] = "sparse initializer",
        [EDGEC_WEIGHT_CONSTANT] = "Constant node",
        [EDGEC_WEIGHT_CONSTANT_SPARSE] = "Constant node (sparse)",
        [EDGEC_WEIGHT_CONSTANT_LIST] = "Constant node (list)",
    };
    return names[k];
}

static uint64_t weight_bytes(const edgec_weight *w)
{
    size_t n = 0;
    if (w->tensor)
        return w->tensor->nbytes;
    if (w->sparse)
        return (uint64_t)w->sparse->values->nbytes + w->sparse->indices->nbytes;
    edgec__dtype_nbytes(w->dtype, w->numel, &n);
    return n;
}

static edgec_status on_weight(edgec_weight *w, void *vctx)
{
    info_ctx *c = vctx;
    int32_t dt = w->dtype >= 0 && w->dtype < EDGEC_DTYPE_COUNT ? w->dtype : 0;
    uint64_t bytes = weight_bytes(w);
    c->params_by_dtype[dt] += (uint64_t)w->numel;
    c->bytes_by_dtype[dt] += bytes;
    c->weights_by_dtype[dt]++;
    if (c->n_rows == c->cap_rows) {
        size_t cap = c->cap_rows ? c->cap_rows * 2 : 64;
        weight_row *r = realloc(c->rows, cap * sizeof *r);
        if (!r)
            return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        c->rows = r;
        c->cap_rows = cap;
    }
    char path[1024], where[1400];
    edgec__graph_path(w->graph, path, sizeof path);
    if (w->node)
        snprintf(where, sizeof where, "%s '%s' in %s", kind_name(w->kind),
                 *w->node->name ? w->node->name : w->name, path);
    else
        snprintf(where, sizeof where, "%s in %s", kind_name(w->kind), path);
    weight_row *r = &c->rows[c->n_rows++];
    *r = (weight_row){w->name, w->dtype, w->rank, w->dims, w->numel, bytes,
                      edgec__arena_strdup(c->m->arena, where)};
    if (!r->where)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    return EDGEC_STATUS_OK;
}

static edgec_status on_graph(edgec_graph *g, void *vctx)
{
    info_ctx *c = vctx;
    c->n_graphs++;
    for (size_t i = 0; i < g->n_nodes; i++) {
        const edgec_node *n = g->nodes[i];
        char key[256];
        if (*n->domain && strcmp(n->domain, "ai.onnx"))
            snprintf(key, sizeof key, "%s::%s", n->domain, n->op_type);
        else
            snprintf(key, sizeof key, "%s", n->op_type);
        c->n_nodes++;
        size_t k = 0;
        while (k < c->n_ops && strcmp(c->ops[k].op, key))
            k++;
        if (k == c->n_ops) {
            if (c->n_ops == c->cap_ops) {
                size_t cap = c->cap_ops ? c->cap_ops * 2 : 32;
                op_count *o = realloc(c->ops, cap * sizeof *o);
                if (!o)
                    return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
                c->ops = o;
                c->cap_ops = cap;
            }
            const char *s = edgec__arena_strdup(c->m->arena, key);
            if (!s)
                return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
            c->ops[c->n_ops++] = (op_count){s, 0};
        }
        c->ops[k].count++;
    }
    return EDGEC_STATUS_OK;
}

/* Largest first; ties by name so the order never depends on the sort algorithm. */
static int cmp_rows(const void *a, const void *b)
{
    const weight_row *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes < y->bytes ? 1 : -1;
    return strcmp(x->name, y->name);
}

static int cmp_ops(const void *a, const void *b)
{
    const op_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->op, y->op);
}

static void shape_str(char *buf, size_t size, int32_t rank, const int64_t *dims,
                      const char **params)
{
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int32_t i = 0; i < rank && used < size; i++) {
        const char *sep = i ? "," : "";
        if (dims && dims[i] >= 0)
            used += (size_t)snprintf(buf + used, size - used, "%s%lld", sep, (long long)dims[i]);
        else
            used += (size_t)snprintf(buf + used, size - used, "%s%s", sep,
                                     params && params[i] ? params[i] : "?");
    }
    if (used < size)
        snprintf(buf + used, size - used, "]");
}

static void json_shape(edgec_json *j, const char *key, int32_t rank, const int64_t *dims,
                       const char **params)
{
    if (rank < 0) {
        edgec__json_null(j, key);
        return;
    }
    edgec__json_begin_array(j, key);
    for (int32_t i = 0; i < rank; i++) {
        if (dims && dims[i] >= 0)
            edgec__json_int(j, NULL, dims[i]);
        else if (params && params[i])
            edgec__json_str(j, NULL, params[i]);
        else
            edgec__json_null(j, NULL);
    }
    edgec__json_end_array(j);
}

static void json_values(edgec_json *j, const char *key, const edgec_value_info *v, size_t n)
{
    edgec__json_begin_array(j, key);
    for (size_t i = 0; i < n; i++) {
        edgec__json_begin_object(j, NULL);
        edgec__json_str(j, "name", v[i].name);
        edgec__json_str(j, "dtype", edgec__dtype(v[i].elem_type)->name);
        json_shape(j, "shape", v[i].rank, v[i].dims, v[i].dim_params);
        edgec__json_end_object(j);
    }
    edgec__json_end_array(j);
}

static void text_values(FILE *out, const char *title, const edgec_value_info *v, size_t n)
{
    fprintf(out, "%s:\n", title);
    for (size_t i = 0; i < n; i++) {
        char shape[512];
        if (v[i].rank < 0)
            snprintf(shape, sizeof shape, "(unknown shape)");
        else
            shape_str(shape, sizeof shape, v[i].rank, v[i].dims, v[i].dim_params);
        fprintf(out, "  %-24s %-8s %s\n", v[i].name, edgec__dtype(v[i].elem_type)->name, shape);
    }
}

/* Bytes as a short human figure: 1234567 -> "1.2 MB". */
static void human(char *buf, size_t size, uint64_t b)
{
    if (b < 10000)
        snprintf(buf, size, "%llu B", (unsigned long long)b);
    else if (b < 10000000)
        snprintf(buf, size, "%.1f kB", (double)b / 1e3);
    else
        snprintf(buf, size, "%.1f MB", (double)b / 1e6);
}

static void print_text(FILE *out, info_ctx *c, uint64_t total_params, uint64_t total_bytes,
                       size_t n_weights)
{
    const edgec_model *m = c->m;
    char h[32];
    human(h, sizeof h, m->file_size);
    fprintf(out, "model:     %s (%s)\n", m->path, h);
    fprintf(out, "ir:        %lld\n", (long long)m->ir_version);
    fprintf(out, "opsets:   ");
    for (size_t i = 0; i < m->n_opsets; i++)
        fprintf(out, " %s:%lld", *m->opsets[i].domain ? m->opsets[i].domain : "ai.onnx",
                (long long)m->opsets[i].version);
    fprintf(out, "\n");
    if (*m->producer_name)
        fprintf(out, "producer:  %s %s\n", m->producer_name, m->producer_version);
    if (*m->graph->name)
        fprintf(out, "graph:     %s\n", m->graph->name);
    text_values(out, "inputs", m->graph->inputs, m->graph->n_inputs);
    text_values(out, "outputs", m->graph->outputs, m->graph->n_outputs);
    fprintf(out, "nodes:     %zu in %zu graph%s%s\n", c->n_nodes, c->n_graphs,
            c->n_graphs == 1 ? "" : "s", c->n_graphs > 1 ? " (main + subgraphs)" : "");
    fprintf(out, "ops:      ");
    for (size_t i = 0; i < c->n_ops; i++)
        fprintf(out, " %s×%zu", c->ops[i].op, c->ops[i].count);
    fprintf(out, "\n");
    human(h, sizeof h, total_bytes);
    fprintf(out, "weights:   %zu tensors, %llu parameters, %s\n", n_weights,
            (unsigned long long)total_params, h);
    for (int d = 0; d < EDGEC_DTYPE_COUNT; d++) {
        if (!c->weights_by_dtype[d])
            continue;
        human(h, sizeof h, c->bytes_by_dtype[d]);
        fprintf(out, "  %-10s %6zu tensors %12llu params %10s\n", edgec__dtype(d)->name,
                c->weights_by_dtype[d], (unsigned long long)c->params_by_dtype[d], h);
    }
    if (c->n_rows) {
        fprintf(out, "largest weights:\n");
        for (size_t i = 0; i < c->n_rows && i < TOP_WEIGHTS; i++) {
            const weight_row *r = &c->rows[i];
            char shape[256];
            shape_str(shape, sizeof shape, r->rank, r->dims, NULL);
            if (!r->dims && r->rank == 1)
                snprintf(shape, sizeof shape, "[%lld]", (long long)r->numel);
            human(h, sizeof h, r->bytes);
            fprintf(out, "  %-28s %-8s %-18s %10s  %s\n", r->name, edgec__dtype(r->dtype)->name,
                    shape, h, r->where);
        }
    }
    if (m->n_files > 1) {
        fprintf(out, "external data:\n");
        for (size_t i = 1; i < m->n_files; i++)
            fprintf(out, "  %s\n", m->files[i].path);
    }
    if (m->n_functions)
        fprintf(out, "functions: %zu model-local\n", m->n_functions);
    if (c->has_macs)
        fprintf(out, "macs:      %llu per inference (main graph, batch 1), %llu with nonzero "
                     "weights\n",
                (unsigned long long)c->macs.total, (unsigned long long)c->macs.nonzero);
    else
        fprintf(out, "macs:      unknown (the reference interpreter cannot run this model)\n");
    for (size_t i = 0; i < m->n_meta; i++)
        fprintf(out, "metadata:  %s = %s\n", m->meta[i].key, m->meta[i].value);
}

static void print_json(FILE *out, info_ctx *c, uint64_t total_params, uint64_t total_bytes,
                       size_t n_weights)
{
    const edgec_model *m = c->m;
    edgec_json j;
    edgec__json_init(&j, out, true);
    edgec__json_begin_object(&j, NULL);
    edgec__json_str(&j, "path", m->path);
    edgec__json_uint(&j, "file_bytes", m->file_size);
    edgec__json_int(&j, "ir_version", m->ir_version);
    edgec__json_begin_array(&j, "opsets");
    for (size_t i = 0; i < m->n_opsets; i++) {
        edgec__json_begin_object(&j, NULL);
        edgec__json_str(&j, "domain", m->opsets[i].domain);
        edgec__json_int(&j, "version", m->opsets[i].version);
        edgec__json_end_object(&j);
    }
    edgec__json_end_array(&j);
    edgec__json_str(&j, "producer_name", m->producer_name);
    edgec__json_str(&j, "producer_version", m->producer_version);
    edgec__json_str(&j, "graph_name", m->graph->name);
    json_values(&j, "inputs", m->graph->inputs, m->graph->n_inputs);
    json_values(&j, "outputs", m->graph->outputs, m->graph->n_outputs);
    edgec__json_uint(&j, "nodes", c->n_nodes);
    edgec__json_uint(&j, "graphs", c->n_graphs);
    edgec__json_begin_object(&j, "ops");
    for (size_t i = 0; i < c->n_ops; i++)
        edgec__json_uint(&j, c->ops[i].op, c->ops[i].count);
    edgec__json_end_object(&j);
    edgec__json_begin_object(&j, "weights");
    edgec__json_uint(&j, "tensors", n_weights);
    edgec__json_uint(&j, "params", total_params);
    edgec__json_uint(&j, "bytes", total_bytes);
    edgec__json_begin_object(&j, "by_dtype");
    for (int d = 0; d < EDGEC_DTYPE_COUNT; d++) {
        if (!c->weights_by_dtype[d])
            continue;
        edgec__json_begin_object(&j, edgec__dtype(d)->name);
        edgec__json_uint(&j, "tensors", c->weights_by_dtype[d]);
        edgec__json_uint(&j, "params", c->params_by_dtype[d]);
        edgec__json_uint(&j, "bytes", c->bytes_by_dtype[d]);
        edgec__json_end_object(&j);
    }
    edgec__json_end_object(&j);
    edgec__json_end_object(&j);
    edgec__json_begin_array(&j, "largest_weights");
    for (size_t i = 0; i < c->n_rows && i < TOP_WEIGHTS; i++) {
        const weight_row *r = &c->rows[i];
        edgec__json_begin_object(&j, NULL);
        edgec__json_str(&j, "name", r->name);
        edgec__json_str(&j, "dtype", edgec__dtype(r->dtype)->name);
        if (r->dims || r->rank != 1) {
            json_shape(&j, "shape", r->rank, r->dims, NULL);
        } else {
            edgec__json_begin_array(&j, "shape");
            edgec__json_int(&j, NULL, r->numel);
            edgec__json_end_array(&j);
        }
        edgec__json_uint(&j, "bytes", r->bytes);
        edgec__json_str(&j, "where", r->where);
        edgec__json_end_object(&j);
    }
    edgec__json_end_array(&j);
    edgec__json_begin_array(&j, "external_data");
    for (size_t i = 1; i < m->n_files; i++)
        edgec__json_str(&j, NULL, m->files[i].path);
    edgec__json_end_array(&j);
    edgec__json_uint(&j, "functions", m->n_functions);
    if (c->has_macs) {
        edgec__json_begin_object(&j, "macs");
        edgec__json_uint(&j, "total", c->macs.total);
        edgec__json_uint(&j, "nonzero_weights", c->macs.nonzero);
        edgec__json_end_object(&j);
    } else {
        edgec__json_null(&j, "macs");
    }
    edgec__json_begin_object(&j, "metadata");
    for (size_t i = 0; i < m->n_meta; i++)
        edgec__json_str(&j, m->meta[i].key, m->meta[i].value);
    edgec__json_end_object(&j);
    edgec__json_end_object(&j);
}

edgec_status edgec_model_print_info(const edgec_model *model, FILE *out, edgec_info_format fmt)
{
    info_ctx c = {.m = (edgec_model *)model};
    edgec_status st = edgec__model_graphs(c.m, on_graph, &c);
    if (!st)
        st = edgec__model_weights(c.m, on_weight, &c);
    if (st)
        goto cleanup;
    if (c.n_rows) /* qsort's pointer must not be NULL, even for zero elements */
        qsort(c.rows, c.n_rows, sizeof *c.rows, cmp_rows);
    if (c.n_ops)
        qsort(c.ops, c.n_ops, sizeof *c.ops, cmp_ops);
    uint64_t params = 0, bytes = 0;
    for (int d = 0; d < EDGEC_DTYPE_COUNT; d++) {
        params += c.params_by_dtype[d];
        bytes += c.bytes_by_dtype[d];
    }
    /* MACs need one interpreter run; a model it cannot run still gets described. */
    c.has_macs = edgec__model_macs(model, &c.macs) == EDGEC_STATUS_OK;
    edgec__error_clear();
    if (fmt == EDGEC_INFO_JSON)
        print_json(out, &c, params, bytes, c.n_rows);
    else
        print_text(out, &c, params, bytes, c.n_rows);
    if (fflush(out) != 0 || ferror(out))
        st = edgec__fail(EDGEC_STATUS_IO, "writing the model description failed");
cleanup:
    free(c.rows);
    free(c.ops);
    return st;
}
