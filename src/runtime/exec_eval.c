/* Evaluation: accuracy of a reference model, and fidelity of a candidate to it, one
 * sample at a time. Running each sample as a batch of one keeps results independent of
 * how many samples there are and of whether the model's batch dim is symbolic. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "data/data_internal.h"
#include "edgec/runtime.h"
#include "ir/ir.h"
#include "report/report.h"

#define DEFAULT_SYNTHETIC_SAMPLES 32

/* splitmix64: tiny, fast and the same on every platform. */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double next_unit(uint64_t *s)
{
    return (double)(next_u64(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* Standard normal values by Box-Muller, pairs at a time. */
static double next_normal(uint64_t *s)
{
    double u = next_unit(s), v = next_unit(s);
    if (u < 1e-300)
        u = 1e-300;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

static void fill_synthetic(edgec_array *a, uint64_t seed)
{
    uint64_t s = seed;
    for (int64_t i = 0; i < a->numel; i++) {
        void *d = a->data;
        switch (a->type) {
        case EDGEC_ELEM_FLOAT:
            ((float *)d)[i] = (float)next_normal(&s);
            break;
        case EDGEC_ELEM_DOUBLE:
            ((double *)d)[i] = next_normal(&s);
            break;
        case EDGEC_ELEM_FLOAT16:
        case EDGEC_ELEM_BFLOAT16: {
            /* A value exactly representable in both: k/8 for k in [-16, 16]. */
            int k = (int)(next_u64(&s) % 33) - 16;
            float f = (float)k / 8.0f;
            uint32_t bits;
            memcpy(&bits, &f, 4);
            uint16_t h;
            if (a->type == EDGEC_ELEM_BFLOAT16) {
                h = (uint16_t)(bits >> 16);
            } else if (k == 0) {
                h = 0;
            } else {
                uint32_t exp = (bits >> 23) & 0xff, man = bits & 0x7fffff;
                h = (uint16_t)((bits >> 16 & 0x8000) | (exp - 112) << 10 | man >> 13);
            }
            ((uint16_t *)d)[i] = h;
            break;
        }
        case EDGEC_ELEM_BOOL:
            ((uint8_t *)d)[i] = (uint8_t)(next_u64(&s) & 1);
            break;
        default: {
            /* Integers: small non-negative values, safe as indices into small axes. */
            int64_t v = (int64_t)(next_u64(&s) % 10);
            size_t w = edgec_elem_size(a->type);
            memcpy((uint8_t *)d + (size_t)i * w, &v, w); /* little-endian: low bytes first */
            break;
        }
        }
    }
}

typedef struct model_run {
    edgec_session *s;
    size_t n_in, n_out;
    const edgec_array **data_arrays; /* [n_in] source arrays, or NULL when synthetic */
    edgec_array **ins;               /* [n_in] this sample's inputs */
    edgec_array **outs;              /* [n_out] */
} model_run;

static void run_release(model_run *r)
{
    for (size_t i = 0; r->ins && i < r->n_in; i++)
        edgec_array_free(r->ins[i]);
    for (size_t i = 0; r->outs && i < r->n_out; i++)
        edgec_array_free(r->outs[i]);
    free(r->ins);
    free(r->outs);
    free(r->data_arrays);
    edgec_session_free(r->s);
    memset(r, 0, sizeof *r);
}

static edgec_status run_prepare(const edgec_model *m, const edgec_eval_options *opt,
                                const edgec_dataset *data, model_run *r)
{
    edgec_session_options so = {opt->threads, opt->input_shapes, opt->n_input_shapes};
    edgec_status st = edgec_session_create(m, &so, &r->s);
    if (st)
        return st;
    r->n_in = edgec_session_input_count(r->s);
    r->n_out = edgec_session_output_count(r->s);
    r->ins = calloc(r->n_in + 1, sizeof *r->ins);
    r->outs = calloc(r->n_out + 1, sizeof *r->outs);
    r->data_arrays = calloc(r->n_in + 1, sizeof *r->data_arrays);
    if (!r->ins || !r->outs || !r->data_arrays)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    if (!r->n_out)
        return edgec__fail(EDGEC_STATUS_INVALID_MODEL, "the model has no outputs to evaluate");
    for (size_t i = 0; data && i < r->n_in; i++) {
        edgec_value_desc d;
        edgec_session_input(r->s, i, &d);
        if (!(r->data_arrays[i] = edgec__dataset_input(data, d.name, r->n_in))) {
            char list[512] = "";
            for (size_t k = 0; k < edgec_dataset_count(data); k++) {
                const edgec_array *a = edgec_dataset_at(data, k);
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s'%s'", k ? ", " : "",
                         a->name ? a->name : "(unnamed)");
            }
            return edgec__fail(EDGEC_STATUS_INVALID_DATA,
                               "%s: no array for model input '%s'; the file has: %s",
                               edgec_dataset_source(data), d.name, *list ? list : "(nothing)");
        }
    }
    return EDGEC_STATUS_OK;
}

/* Builds this sample's inputs for `r`: a slice of the data, or synthetic values. */
static edgec_status make_inputs(model_run *r, const edgec_dataset *data, int64_t sample,
                                uint64_t seed)
{
    for (size_t i = 0; i < r->n_in; i++) {
        edgec_value_desc d;
        edgec_session_input(r->s, i, &d);
        edgec_array_free(r->ins[i]);
        r->ins[i] = NULL;
        edgec_status st;
        if (data) {
            const edgec_array *src = r->data_arrays[i];
            if ((st = edgec_array_slice(src, sample, 1, &r->ins[i]))) {
                char pre[600];
                snprintf(pre, sizeof pre, "%s: ", edgec_dataset_source(data));
                edgec__fail_prefix(pre);
                return st;
            }
            edgec_array *a = r->ins[i];
            /* Models without a batch axis take the sample itself. */
            if (d.rank >= 0 && d.rank == a->rank - 1) {
                memmove(a->dims, a->dims + 1, (size_t)d.rank * sizeof *a->dims);
                a->rank--;
            }
            if ((st = edgec_array_set_name(a, d.name)))
                return st;
            continue;
        }
        if (d.rank < 0)
            return edgec__fail(EDGEC_STATUS_USAGE,
                               "input '%s' has no declared shape; give one with --input-shape "
                               "%s:DIMS or provide data",
                               d.name, d.name);
        int64_t dims[EDGEC_ARRAY_MAX_RANK];
        for (int k = 0; k < d.rank; k++)
            dims[k] = d.dims[k] >= 0 ? d.dims[k] : 1; /* symbolic dims: one sample, size 1 */
        edgec_elem_type type = d.type ? d.type : EDGEC_ELEM_FLOAT;
        if ((st = edgec_array_create(d.name, type, d.rank, dims, &r->ins[i])))
            return st;
        /* Inputs depend on the seed, the sample and the input's position only. */
        fill_synthetic(r->ins[i], seed ^ (0x5851f42d4c957f2dull * (uint64_t)(sample + 1)) ^
                                      (0x14057b7ef767814full * (uint64_t)(i + 1)));
    }
    return EDGEC_STATUS_OK;
}

static edgec_status run_sample(model_run *r, const edgec_dataset *data)
{
    for (size_t i = 0; i < r->n_out; i++) {
        edgec_array_free(r->outs[i]);
        r->outs[i] = NULL;
    }
    edgec_status st = edgec_session_run(r->s, (const edgec_array *const *)r->ins, r->n_in,
                                        r->outs, r->n_out);
    if (st && data && st == EDGEC_STATUS_INVALID_DATA) {
        char pre[600];
        snprintf(pre, sizeof pre, "%s: ", edgec_dataset_source(data));
        edgec__fail_prefix(pre);
    }
    return st;
}

static int64_t argmax(const edgec_array *a)
{
    int64_t best = -1;
    double bv = 0;
    for (int64_t i = 0; i < a->numel; i++) {
        double v = edgec_array_get_f64(a, i);
        if (v == v && (best < 0 || v > bv)) {
            best = i;
            bv = v;
        }
    }
    return best;
}

edgec_status edgec_evaluate(const edgec_model *ref, const edgec_model *cand,
                            const edgec_dataset *data, const edgec_eval_options *opt,
                            edgec_eval_result *out)
{
    edgec__error_clear();
    memset(out, 0, sizeof *out);
    edgec_eval_options defaults = {0};
    if (!opt)
        opt = &defaults;
    edgec_status st;
    model_run r = {0}, c = {0};
    int64_t n = 0;
    const edgec_array *labels = NULL;
    if ((st = run_prepare(ref, opt, data, &r)))
        goto cleanup;
    if (cand && (st = run_prepare(cand, opt, data, &c)))
        goto cleanup;
    if (data) {
        if ((st = edgec_dataset_samples(data, &n)))
            goto cleanup;
        if ((st = edgec__dataset_labels(data, &labels)))
            goto cleanup;
        if (opt->samples > 0 && opt->samples < n)
            n = opt->samples;
    } else {
        n = opt->samples > 0 ? opt->samples : DEFAULT_SYNTHETIC_SAMPLES;
        out->synthetic = true;
    }
    int64_t ref_hits = 0, cand_hits = 0, agree = 0;
    double dot = 0, rr = 0, cc = 0, err2 = 0, max_err = 0;
    for (int64_t s = 0; s < n; s++) {
        edgec__progress("evaluating", s, n);
        if ((st = make_inputs(&r, data, s, opt->seed)) || (st = run_sample(&r, data)))
            goto cleanup;
        const edgec_array *ro = r.outs[0];
        int64_t ra = argmax(ro);
        int64_t label = labels ? (int64_t)edgec_array_get_f64(labels, s) : -1;
        ref_hits += labels && ra == label;
        if (!cand)
            continue;
        if (data) {
            if ((st = make_inputs(&c, data, s, opt->seed)))
                goto cleanup;
        } else {
            /* The candidate sees exactly the reference's synthetic inputs. */
            for (size_t i = 0; i < c.n_in; i++) {
                edgec_value_desc d;
                edgec_session_input(c.s, i, &d);
                edgec_array_free(c.ins[i]);
                c.ins[i] = NULL;
                for (size_t k = 0; k < r.n_in && !c.ins[i]; k++)
                    if (!strcmp(r.ins[k]->name, d.name) &&
                        (st = edgec_array_clone(r.ins[k], NULL, &c.ins[i])))
                        goto cleanup;
                if (!c.ins[i]) {
                    st = edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                                     "the candidate has an input '%s' that the reference lacks",
                                     d.name);
                    goto cleanup;
                }
            }
        }
        if ((st = run_sample(&c, data))) {
            char pre[600];
            snprintf(pre, sizeof pre, "candidate %s: ", cand->path ? cand->path : "model");
            edgec__fail_prefix(pre);
            goto cleanup;
        }
        const edgec_array *co = c.outs[0];
        bool same = co->rank == ro->rank && co->numel == ro->numel;
        for (int k = 0; same && k < ro->rank; k++)
            same = co->dims[k] == ro->dims[k];
        if (!same) {
            st = edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                             "the candidate's first output '%s' has another shape than the "
                             "reference's '%s'",
                             co->name, ro->name);
            goto cleanup;
        }
        int64_t ca = argmax(co);
        cand_hits += labels && ca == label;
        agree += ca == ra;
        for (int64_t i = 0; i < ro->numel; i++) {
            double x = edgec_array_get_f64(ro, i), y = edgec_array_get_f64(co, i);
            double d = x - y;
            dot += x * y;
            rr += x * x;
            cc += y * y;
            err2 += d * d;
            if (!(fabs(d) <= max_err))
                max_err = fabs(d);
        }
    }
    edgec__progress("evaluating", n, n);
    out->samples = n;
    out->has_labels = labels != NULL;
    out->ref_top1 = labels && n ? 100.0 * (double)ref_hits / (double)n : 0;
    out->ref_peak_bytes = edgec_session_peak_bytes(r.s);
    if (cand) {
        out->has_candidate = true;
        out->cand_top1 = labels && n ? 100.0 * (double)cand_hits / (double)n : 0;
        out->top1_drop = out->ref_top1 - out->cand_top1;
        out->cosine = rr == 0 && cc == 0 ? 1.0 : rr == 0 || cc == 0 ? 0.0 : dot / sqrt(rr * cc);
        out->sqnr_db = err2 == 0 ? INFINITY : 10.0 * log10(rr / err2);
        out->max_abs_err = max_err;
        out->top1_agreement = n ? 100.0 * (double)agree / (double)n : 0;
        out->cand_peak_bytes = edgec_session_peak_bytes(c.s);
    }
cleanup:
    run_release(&r);
    run_release(&c);
    return st;
}
