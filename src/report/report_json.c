/* The JSON report. Top-level keys, in this order: version, input, output, passes, size,
 * params, macs, layers, eval, gate. docs/REPORT.md describes every field. Numbers print
 * the same way every time, and nothing depends on the clock unless a timestamp was set. */
#include <math.h>
#include <string.h>

#include "common/json.h"
#include "report/report.h"

/* Version of the report's schema; raised when a field changes meaning or goes away. */
#define REPORT_SCHEMA 1

static void bytes_or_null(edgec_json *j, const char *key, int64_t v)
{
    if (v >= 0)
        edgec__json_int(j, key, v);
    else
        edgec__json_null(j, key);
}

static void ratio(edgec_json *j, const char *key, double num, double den)
{
    if (num > 0 && den > 0)
        edgec__json_num(j, key, num / den);
    else
        edgec__json_null(j, key);
}

static void shape(edgec_json *j, const char *key, const edgec_rweight *w)
{
    if (!w) {
        edgec__json_null(j, key);
        return;
    }
    edgec__json_begin_array(j, key);
    for (int32_t i = 0; i < w->rank; i++)
        edgec__json_int(j, NULL, w->dims[i]);
    edgec__json_end_array(j);
}

static void weights(edgec_json *j, const edgec_snapshot *s, const edgec_rlayer *const *layers,
                    size_t n)
{
    edgec__json_begin_array(j, "weights");
    for (size_t k = 0; k < n; k++) {
        for (size_t i = 0; i < layers[k]->n_weights; i++) {
            const edgec_rweight *w = &s->weights[layers[k]->weights[i]];
            edgec__json_begin_object(j, NULL);
            edgec__json_str(j, "name", w->name);
            edgec__json_str(j, "dtype", edgec__report_dtype(w));
            shape(j, "shape", w);
            edgec__json_int(j, "params", w->numel);
            edgec__json_int(j, "nonzero", w->nonzero);
            edgec__json_uint(j, "bytes", w->bytes);
            edgec__json_str(j, "storage", w->sparse ? "sparse" : "dense");
            edgec__json_bool(j, "external", w->external);
            edgec__json_end_object(j);
        }
    }
    edgec__json_end_array(j);
}

/* One side of a layer row; `layers` empty means the layer is absent on that side. */
static void side(edgec_json *j, const char *key, const edgec_snapshot *s,
                 const edgec_rlayer *const *layers, size_t n, const edgec_rweight *main,
                 int64_t params, int64_t nonzero, uint64_t bytes, const char *op)
{
    if (!n) {
        edgec__json_null(j, key);
        return;
    }
    edgec__json_begin_object(j, key);
    edgec__json_str(j, "op", op);
    edgec__json_begin_array(j, "nodes");
    for (size_t k = 0; k < n; k++)
        edgec__json_str(j, NULL, layers[k]->name);
    edgec__json_end_array(j);
    shape(j, "shape", main);
    edgec__json_str(j, "dtype", edgec__report_dtype(main));
    edgec__json_int(j, "bits", edgec__report_bits(main));
    edgec__json_int(j, "params", params);
    edgec__json_int(j, "nonzero", nonzero);
    /* The largest weight's share of zeros: what a pruning pass aimed at. */
    edgec__json_num(j, "sparsity", edgec__report_zeros(main) / 100.0);
    edgec__json_uint(j, "bytes", bytes);
    weights(j, s, layers, n);
    edgec__json_end_object(j);
}

static void layers(edgec_json *j, const edgec_report *r)
{
    edgec__json_begin_array(j, "layers");
    for (size_t i = 0; i < r->n_rows; i++) {
        const edgec_rrow *row = &r->rows[i];
        const edgec_rlayer *l = row->before ? row->before : row->after[0];
        const char *status = !row->before ? "new"
                             : !r->has_after ? "unchanged"
                             : !row->n_after ? "removed"
                             : row->bytes_before == row->bytes_after &&
                                     row->nonzero_before == row->nonzero_after && row->rank < 0 &&
                                     row->n_after == 1 && !strcmp(row->op_after, l->op)
                                 ? "unchanged"
                                 : "changed";
        edgec__json_begin_object(j, NULL);
        edgec__json_str(j, "name", l->name);
        edgec__json_str(j, "graph", l->graph);
        edgec__json_str(j, "status", status);
        if (row->rank >= 0)
            edgec__json_int(j, "rank", row->rank);
        else
            edgec__json_null(j, "rank");
        side(j, "before", &r->before, (const edgec_rlayer *const *)&row->before,
             row->before ? 1 : 0, row->main_before, row->params_before, row->nonzero_before,
             row->bytes_before, row->before ? row->before->op : "");
        if (r->has_after)
            side(j, "after", &r->after, row->after, row->n_after, row->main_after,
                 row->params_after, row->nonzero_after, row->bytes_after, row->op_after);
        else
            edgec__json_null(j, "after");
        edgec__json_end_object(j);
    }
    edgec__json_end_array(j);
}

static void eval(edgec_json *j, const edgec_report *r)
{
    if (!r->has_eval) {
        edgec__json_null(j, "eval");
        return;
    }
    const edgec_eval_result *e = &r->eval;
    edgec__json_begin_object(j, "eval");
    if (r->data_path)
        edgec__json_str(j, "data", r->data_path);
    else
        edgec__json_null(j, "data");
    edgec__json_bool(j, "synthetic", e->synthetic);
    edgec__json_int(j, "samples", e->samples);
    edgec__json_bool(j, "labels", e->has_labels);
    edgec__json_begin_object(j, "reference");
    if (e->has_labels)
        edgec__json_num(j, "top1", e->ref_top1);
    else
        edgec__json_null(j, "top1");
    edgec__json_uint(j, "peak_bytes", e->ref_peak_bytes);
    edgec__json_end_object(j);
    if (e->has_candidate) {
        edgec__json_begin_object(j, "result");
        if (e->has_labels)
            edgec__json_num(j, "top1", e->cand_top1);
        else
            edgec__json_null(j, "top1");
        edgec__json_uint(j, "peak_bytes", e->cand_peak_bytes);
        edgec__json_end_object(j);
        if (e->has_labels)
            edgec__json_num(j, "top1_drop", e->top1_drop);
        else
            edgec__json_null(j, "top1_drop");
        edgec__json_num(j, "cosine", e->cosine);
        edgec__json_num(j, "sqnr_db", e->sqnr_db); /* null when infinite: identical outputs */
        edgec__json_num(j, "max_abs_err", e->max_abs_err);
        edgec__json_num(j, "top1_agreement", e->top1_agreement);
    } else {
        edgec__json_null(j, "result");
    }
    edgec__json_end_object(j);
}

static void gate(edgec_json *j, const edgec_report *r)
{
    edgec__json_begin_object(j, "gate");
    edgec__json_bool(j, "checked", r->gate_checked);
    edgec__json_bool(j, "passed", r->gate_passed || !r->gate_checked);
    edgec__json_begin_array(j, "checks");
    for (size_t i = 0; i < r->n_checks; i++) {
        const edgec_gate_check *c = &r->checks[i];
        edgec__json_begin_object(j, NULL);
        edgec__json_str(j, "name", c->name);
        edgec__json_num(j, "limit", c->limit);
        edgec__json_num(j, "value", c->value);
        edgec__json_num(j, "margin", c->margin);
        edgec__json_bool(j, "passed", c->passed);
        if (!strcmp(c->name, "max_drop"))
            edgec__json_str(j, "measure", c->by_agreement ? "top1_disagreement" : "top1_drop");
        else
            edgec__json_str(j, "measure", "cosine");
        edgec__json_end_object(j);
    }
    edgec__json_end_array(j);
    if (r->gate_message)
        edgec__json_str(j, "message", r->gate_message);
    else
        edgec__json_null(j, "message");
    edgec__json_end_object(j);
}

void edgec__report_json(const edgec_report *r, FILE *out)
{
    const edgec_snapshot *a = r->has_after ? &r->after : &r->before;
    edgec_json j;
    edgec__json_init(&j, out, true);
    edgec__json_begin_object(&j, NULL);

    edgec__json_begin_object(&j, "version");
    edgec__json_str(&j, "edgec", edgec_version());
    edgec__json_int(&j, "report", REPORT_SCHEMA);
    if (r->timestamp)
        edgec__json_str(&j, "timestamp", r->timestamp);
    edgec__json_end_object(&j);

    edgec__json_begin_object(&j, "input");
    edgec__json_str(&j, "path", r->input_path ? r->input_path : "-");
    bytes_or_null(&j, "bytes", r->input_bytes);
    edgec__json_begin_array(&j, "files");
    for (size_t i = 0; i < r->n_input_files; i++)
        edgec__json_str(&j, NULL, r->input_files[i]);
    edgec__json_end_array(&j);
    edgec__json_bool(&j, "external_data", r->n_input_files > 1);
    edgec__json_int(&j, "ir_version", r->before.ir_version);
    edgec__json_int(&j, "opset", r->before.opset);
    edgec__json_end_object(&j);

    edgec__json_begin_object(&j, "output");
    if (r->output_path)
        edgec__json_str(&j, "path", r->output_path);
    else
        edgec__json_null(&j, "path");
    edgec__json_bool(&j, "written", r->output_bytes >= 0);
    bytes_or_null(&j, "bytes", r->output_bytes);
    if (r->output_data_path) {
        edgec__json_begin_object(&j, "external_data");
        edgec__json_str(&j, "path", r->output_data_path);
        edgec__json_int(&j, "bytes", r->output_data_bytes);
        edgec__json_end_object(&j);
    } else {
        edgec__json_null(&j, "external_data");
    }
    if (r->container_path) {
        edgec__json_begin_object(&j, "container");
        edgec__json_str(&j, "path", r->container_path);
        bytes_or_null(&j, "bytes", r->container_bytes);
        edgec__json_end_object(&j);
    } else {
        edgec__json_null(&j, "container");
    }
    edgec__json_int(&j, "ir_version", a->ir_version);
    edgec__json_int(&j, "opset", a->opset);
    edgec__json_end_object(&j);

    edgec__json_begin_object(&j, "passes");
    edgec__json_str(&j, "options", r->options ? r->options : "");
    edgec__json_begin_array(&j, "run");
    for (size_t i = 0; i < r->n_passes; i++) {
        edgec__json_begin_object(&j, NULL);
        edgec__json_str(&j, "name", r->passes[i]);
        if (r->pass_values[i])
            edgec__json_str(&j, "value", r->pass_values[i]);
        else
            edgec__json_null(&j, "value");
        edgec__json_end_object(&j);
    }
    edgec__json_end_array(&j);
    edgec__json_end_object(&j);

    edgec__json_begin_object(&j, "size");
    bytes_or_null(&j, "input_bytes", r->input_bytes);
    bytes_or_null(&j, "output_bytes", r->output_bytes);
    bytes_or_null(&j, "container_bytes", r->container_bytes);
    bytes_or_null(&j, "serialized_bytes", r->serialized_bytes);
    ratio(&j, "ratio", (double)r->input_bytes, (double)r->output_bytes);
    ratio(&j, "container_ratio", (double)r->input_bytes, (double)r->container_bytes);
    edgec__json_uint(&j, "weight_bytes_before", r->before.bytes);
    edgec__json_uint(&j, "weight_bytes_after", a->bytes);
    edgec__json_end_object(&j);

    edgec__json_begin_object(&j, "params");
    edgec__json_uint(&j, "before", r->before.params);
    edgec__json_uint(&j, "after", a->params);
    edgec__json_uint(&j, "nonzero_before", r->before.nonzero);
    edgec__json_uint(&j, "nonzero_after", a->nonzero);
    edgec__json_num(&j, "sparsity_before",
                    edgec__report_sparsity((int64_t)r->before.params, (int64_t)r->before.nonzero) /
                        100.0);
    edgec__json_num(&j, "sparsity_after",
                    edgec__report_sparsity((int64_t)a->params, (int64_t)a->nonzero) / 100.0);
    edgec__json_end_object(&j);

    if (r->before.has_macs && a->has_macs) {
        edgec__json_begin_object(&j, "macs");
        edgec__json_uint(&j, "before", r->before.macs);
        edgec__json_uint(&j, "after", a->macs);
        edgec__json_uint(&j, "nonzero_before", r->before.macs_nonzero);
        edgec__json_uint(&j, "nonzero_after", a->macs_nonzero);
        ratio(&j, "ratio", (double)r->before.macs, (double)a->macs);
        edgec__json_end_object(&j);
    } else {
        edgec__json_null(&j, "macs");
    }

    layers(&j, r);
    eval(&j, r);
    gate(&j, r);
    edgec__json_end_object(&j);
}
