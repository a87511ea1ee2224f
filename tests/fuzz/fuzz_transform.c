/* Passes on a small fixed model, chosen and tuned by the input.
 *
 * The input picks up to four options among whatever the pipeline lists
 * (edgec_pipeline_option_count: passes are added to the table over time and this
 * harness covers each one as it lands), a value for each (none, a number, an integer,
 * "N:M", one of the alternatives the option's help lists, or raw bytes), a seed, and
 * then rewrites weights of the model: single elements set to 0, -0, NaN, +-Inf, huge,
 * denormal or arbitrary values, or whole tensors set to one constant (all-zero
 * tensors included), so that passes meet degenerate weights.
 *
 * Invariants: options are accepted or refused with USAGE; a run either fails with an
 * expected status or yields a model that saves, loads back, and is byte-identical to a
 * second run on the same input (determinism); the result runs in the interpreter or is
 * refused with a status, never a crash. */
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "ir/ir.h"

#ifndef EDGEC_FUZZ_MODEL
#error "EDGEC_FUZZ_MODEL must name the fixed model file"
#endif

static uint8_t *model_bytes;
static size_t model_size;
static edgec_dataset *calib;
static edgec_array *sample;

typedef struct reader {
    const uint8_t *p;
    size_t n;
} reader;

static unsigned take(reader *r)
{
    if (!r->n)
        return 0;
    r->n--;
    return *r->p++;
}

static edgec_status make_calib(void)
{
    edgec_status st;
    int64_t dims[4] = {4, 1, 6, 6};
    edgec_array *x = NULL;
    if ((st = edgec_dataset_create(&calib)) ||
        (st = edgec_array_create("X", EDGEC_ELEM_FLOAT, 4, dims, &x)))
        return st;
    /* A fixed pattern, so every run sees the same calibration data. */
    float *v = x->data;
    for (int64_t i = 0; i < x->numel; i++)
        v[i] = (float)((i * 7919) % 257) / 128.0f - 1.0f;
    if ((st = edgec_array_slice(x, 0, 1, &sample)) || (st = edgec_dataset_add(calib, x))) {
        edgec_array_free(x);
        return st;
    }
    return EDGEC_STATUS_OK;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    FILE *f = fopen(EDGEC_FUZZ_MODEL, "rb");
    if (!f) {
        fprintf(stderr, "fuzz_transform: cannot open %s\n", EDGEC_FUZZ_MODEL);
        abort();
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    model_bytes = malloc(len > 0 ? (size_t)len : 1);
    if (!model_bytes || len <= 0 || fread(model_bytes, 1, (size_t)len, f) != (size_t)len)
        abort();
    model_size = (size_t)len;
    fclose(f);
    if (make_calib())
        abort();
    return 0;
}

/* The alternatives of an option's value, e.g. "[=weights|dynamic|static]" or "R|rank:K". */
static void pick_alternative(const char *spec, unsigned k, char *out, size_t size)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", spec ? spec : "");
    char *alts[16];
    size_t n = 0;
    for (char *tok = strtok(buf, "[=]|"); tok && n < 16; tok = strtok(NULL, "[=]|"))
        alts[n++] = tok;
    snprintf(out, size, "%s", n ? alts[k % n] : "");
}

static void make_value(reader *r, const edgec_option_info *o, char *out, size_t size,
                       const char **value)
{
    unsigned kind = take(r) % 7, a = take(r), b = take(r);
    *value = out;
    switch (kind) {
    case 0:
        *value = NULL;
        break;
    case 1: /* mostly inside [0, 1], sometimes just outside */
        snprintf(out, size, "%.4g", (double)(a * 256 + b) / 65535.0 * 1.2 - 0.1);
        break;
    case 2:
        snprintf(out, size, "%u", a % 64);
        break;
    case 3:
        snprintf(out, size, "%u:%u", a % 9, b % 9);
        break;
    case 4:
        pick_alternative(o->arg, a, out, size);
        break;
    case 5:
        snprintf(out, size, "rank:%u", a % 40);
        break;
    default: {
        size_t n = a % 12;
        size_t i = 0;
        for (; i < n && i + 1 < size; i++) {
            unsigned c = take(r);
            out[i] = (char)(c ? c : '0');
        }
        out[i] = '\0';
        break;
    }
    }
}

static float special(unsigned code, reader *r)
{
    switch (code % 9) {
    case 0:
        return 0.0f;
    case 1:
        return -0.0f;
    case 2:
        return NAN;
    case 3:
        return INFINITY;
    case 4:
        return -INFINITY;
    case 5:
        return 3e38f;
    case 6:
        return 1e-42f; /* denormal */
    case 7:
        return (float)((int)take(r) - 128) / 16.0f;
    default: {
        uint32_t bits = take(r) | take(r) << 8 | take(r) << 16 | (uint32_t)take(r) << 24;
        float f;
        memcpy(&f, &bits, 4);
        return f;
    }
    }
}

typedef struct patch_ctx {
    reader *r;
} patch_ctx;

/* Rewrites float weights from the rest of the input. */
static edgec_status patch_weight(edgec_weight *w, void *vctx)
{
    patch_ctx *c = vctx;
    if (!c->r->n || !w->tensor || w->tensor->dtype != EDGEC_DTYPE_FLOAT || !w->tensor->numel)
        return EDGEC_STATUS_OK;
    edgec_tensor *t = w->tensor;
    float *v = t->data;
    unsigned op = take(c->r);
    if (op % 4 == 0) { /* leave this tensor alone */
    } else if (op % 4 == 1) {
        float f = special(take(c->r), c->r);
        for (int64_t i = 0; i < t->numel; i++)
            v[i] = f;
    } else {
        unsigned count = 1 + take(c->r) % 4;
        for (unsigned k = 0; k < count; k++) {
            unsigned idx = take(c->r) | take(c->r) << 8;
            v[idx % (uint64_t)t->numel] = special(take(c->r), c->r);
        }
    }
    t->dirty = true;
    return EDGEC_STATUS_OK;
}

/* One pipeline run on a fresh copy of the model; the saved bytes go to *out. */
static edgec_status run_once(const uint8_t *data, size_t size, void **out, size_t *out_n)
{
    reader r = {data, size};
    edgec_pipeline *p = NULL;
    edgec_model *m = NULL;
    edgec_status st = edgec_pipeline_create(&p);
    FUZZ_CHECK(st == EDGEC_STATUS_OK, "pipeline_create");
    size_t n_opts = edgec_pipeline_option_count();
    unsigned head = take(&r);
    unsigned n_set = n_opts ? 1 + head % 4 : 0;
    edgec_pipeline_set_seed(p, head >> 4);
    for (unsigned i = 0; i < n_set; i++) {
        const edgec_option_info *o = edgec_pipeline_option_at(take(&r) % n_opts);
        FUZZ_CHECK(o && o->name, "option table has a hole");
        char buf[64];
        const char *value;
        make_value(&r, o, buf, sizeof buf, &value);
        st = edgec_pipeline_set(p, o->name, value);
        FUZZ_CHECK(st == EDGEC_STATUS_OK || st == EDGEC_STATUS_USAGE,
                   "set --%s=%s returned %s", o->name, value ? value : "(none)",
                   edgec_status_name(st));
    }
    if (take(&r) & 1)
        edgec_pipeline_set_calib(p, calib);
    st = edgec_model_load_buffer(model_bytes, model_size, "transform.onnx", NULL, &m);
    FUZZ_CHECK(st == EDGEC_STATUS_OK, "the fixed model does not load");
    patch_ctx pc = {&r};
    edgec__model_weights(m, patch_weight, &pc);
    st = edgec_pipeline_run(p, m, NULL);
    if (getenv("EDGEC_FUZZ_VERBOSE"))
        fprintf(stderr, "transform: %s -> %s %s\n", edgec_pipeline_describe(p),
                edgec_status_name(st), st ? edgec_error_message() : "");
    FUZZ_CHECK(fuzz_status_expected(st) || st == EDGEC_STATUS_USAGE || st == EDGEC_STATUS_GATE,
               "pipeline (%s) returned %s", edgec_pipeline_describe(p), edgec_status_name(st));
    if (!st) {
        st = edgec_model_save_buffer(m, out, out_n);
        FUZZ_CHECK(st == EDGEC_STATUS_OK, "cannot save the result of %s",
                   edgec_pipeline_describe(p));
    }
    edgec_pipeline_free(p);
    edgec_model_free(m);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    void *b1 = NULL, *b2 = NULL;
    size_t n1 = 0, n2 = 0;
    edgec_model *back = NULL;
    edgec_session *s = NULL;
    edgec_array *outs[4] = {0};
    edgec_status st = run_once(data, size, &b1, &n1);
    if (st)
        goto cleanup;
    st = run_once(data, size, &b2, &n2);
    FUZZ_CHECK(st == EDGEC_STATUS_OK && n1 == n2 && !memcmp(b1, b2, n1),
               "two runs on the same input differ (%zu vs %zu bytes)", n1, n2);
    st = edgec_model_load_buffer(b1, n1, "transformed.onnx", NULL, &back);
    FUZZ_CHECK(st == EDGEC_STATUS_OK, "the transformed model does not load back");
    st = edgec_session_create(back, NULL, &s);
    FUZZ_CHECK(fuzz_status_expected(st), "session_create returned %s", edgec_status_name(st));
    size_t n_out = s ? edgec_session_output_count(s) : 0;
    if (!st && edgec_session_input_count(s) == 1 && n_out <= 4) {
        const edgec_array *in[1] = {sample};
        st = edgec_session_run(s, in, 1, outs, n_out);
        FUZZ_CHECK(fuzz_status_expected(st), "run returned %s", edgec_status_name(st));
    }
cleanup:
    for (size_t i = 0; i < 4; i++)
        edgec_array_free(outs[i]);
    edgec_session_free(s);
    edgec_model_free(back);
    free(b1);
    free(b2);
    return 0;
}
