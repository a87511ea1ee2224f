/* edgec run MODEL --data IN -o OUT.npz [--repeat N] [--input-shape NAME:DIMS] [--threads N] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "edgec/data.h"
#include "edgec/runtime.h"

static int run(int argc, char **argv);

const cli_command cli_run = {
    "run",
    "run a model with the reference interpreter on data, optionally timing it",
    "Usage: edgec run MODEL --data IN -o OUT.npz [options]\n\n"
    "Runs MODEL on the arrays in IN (.npz keyed by input name, .npy for a one-input model,\n"
    ".pb, or a folder of input_N.pb files) and writes the outputs to OUT, keyed by output\n"
    "name (.npz; .npy or .pb for a single output). Arrays feed the model as they are; when\n"
    "the model takes one sample at a time (a fixed batch dim of 1, or no batch axis), the\n"
    "samples along the first axis run one by one and the outputs are stacked. A `labels`\n"
    "array is ignored. Without -o, a line per output (name, type, shape) goes to stdout.\n\n"
    "Options:\n"
    "  --data IN              input arrays (required)\n"
    "  -o, --output OUT       where to write the outputs; appears whole or not at all\n"
    "  --repeat N             run N times and print the median latency per inference\n"
    "                         (one session run) to stderr\n"
    "  --input-shape NAME:D0xD1...  fix the shape of input NAME (repeatable)\n"
    "  --threads N            worker threads for kernels (default 1; results identical)\n",
    run,
    NULL,
};


static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static bool parse_count(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* Joins per-sample outputs along the first axis: concatenated when each has a leading
 * dim of 1, stacked on a new axis otherwise. */
static edgec_status join_samples(edgec_array **parts, int64_t n, edgec_array **out)
{
    const edgec_array *p0 = parts[0];
    for (int64_t i = 1; i < n; i++) {
        bool same = parts[i]->type == p0->type && parts[i]->rank == p0->rank;
        for (int k = 0; same && k < p0->rank; k++)
            same = parts[i]->dims[k] == p0->dims[k];
        if (!same) {
            fprintf(stderr, "edgec: output '%s' changes shape from sample to sample; cannot "
                            "stack it\n", p0->name);
            return EDGEC_STATUS_INVALID_DATA;
        }
    }
    int64_t dims[EDGEC_ARRAY_MAX_RANK];
    int rank;
    if (p0->rank >= 1 && p0->dims[0] == 1) {
        rank = p0->rank;
        memcpy(dims, p0->dims, (size_t)rank * sizeof *dims);
        dims[0] = n;
    } else {
        if (p0->rank + 1 > EDGEC_ARRAY_MAX_RANK)
            return EDGEC_STATUS_LIMIT;
        rank = p0->rank + 1;
        dims[0] = n;
        memcpy(dims + 1, p0->dims, (size_t)p0->rank * sizeof *dims);
    }
    edgec_status st = edgec_array_create(p0->name, p0->type, rank, dims, out);
    if (st)
        return st;
    for (int64_t i = 0; i < n; i++)
        if (p0->nbytes)
            memcpy((char *)(*out)->data + (size_t)i * p0->nbytes, parts[i]->data, p0->nbytes);
    return EDGEC_STATUS_OK;
}

static int run(int argc, char **argv)
{
    const char *model_path = NULL, *data_path = NULL, *out_path = NULL;
    long long repeat = 0, threads = 1;
    static cli_shapes shapes; /* large: kept off the stack */
    cli_args a;
    cli_args_init(&a, argc, argv);
    while (cli_args_next(&a)) {
        const char *v;
        if (a.positional) {
            if (model_path)
                return cli_usage_error(&cli_run, "unexpected argument '%s'", a.opt);
            model_path = a.opt;
        } else if (cli_is(&a, "--data")) {
            if (!(data_path = cli_value(&a)))
                return cli_usage_error(&cli_run, "--data needs a file");
        } else if (cli_is(&a, "-o") || cli_is(&a, "--output")) {
            if (!(out_path = cli_value(&a)))
                return cli_usage_error(&cli_run, "%s needs a file", a.opt);
        } else if (cli_is(&a, "--repeat")) {
            if (!(v = cli_value(&a)) || !parse_count(v, 1, 1000000, &repeat))
                return cli_usage_error(&cli_run, "--repeat needs a count from 1 to 1000000");
        } else if (cli_is(&a, "--threads")) {
            if (!(v = cli_value(&a)) || !parse_count(v, 1, 256, &threads))
                return cli_usage_error(&cli_run, "--threads needs a count from 1 to 256");
        } else if (cli_is(&a, "--input-shape")) {
            if (cli_shapes_add(&shapes, &cli_run, cli_value(&a)))
                return 1;
        } else {
            return cli_usage_error(&cli_run, "unknown option '%s'", a.opt);
        }
    }
    if (!model_path)
        return cli_usage_error(&cli_run, "missing MODEL");
    if (!data_path)
        return cli_usage_error(&cli_run, "missing --data IN");

    edgec_model *m = NULL;
    edgec_session *s = NULL;
    edgec_dataset *data = NULL, *result = NULL;
    edgec_array **ins = NULL, **outs = NULL, ***parts = NULL;
    double *times = NULL;
    size_t n_in = 0, n_out = 0, n_times = 0;
    int64_t n_samples = 1, n_parts = 0;
    int rc = 0;
    edgec_status st;
    edgec_session_options so = {(int)threads, shapes.shapes, shapes.n};
    if ((st = cli_load_model(model_path, &m)) || (st = edgec_session_create(m, &so, &s)) ||
        (st = edgec_dataset_load(data_path, &data)))
        goto fail;
    n_in = edgec_session_input_count(s);
    n_out = edgec_session_output_count(s);
    ins = calloc(n_in + 1, sizeof *ins);
    outs = calloc(n_out + 1, sizeof *outs);
    if (!ins || !outs) {
        fprintf(stderr, "edgec: out of memory\n");
        rc = 4;
        goto cleanup;
    }
    /* Bind arrays to inputs by name; a lone array (besides labels) feeds a lone input. */
    const edgec_array **src = calloc(n_in + 1, sizeof *src);
    if (!src) {
        rc = 4;
        goto cleanup;
    }
    bool per_sample = false;
    for (size_t i = 0; i < n_in; i++) {
        edgec_value_desc d;
        edgec_session_input(s, i, &d);
        src[i] = edgec_dataset_find(data, d.name);
        if (!src[i] && n_in == 1) {
            size_t cands = 0;
            for (size_t k = 0; k < edgec_dataset_count(data); k++) {
                const edgec_array *c = edgec_dataset_at(data, k);
                if (!c->name || strcmp(c->name, "labels")) {
                    src[i] = c;
                    cands++;
                }
            }
            if (cands != 1)
                src[i] = NULL;
        }
        if (!src[i]) {
            fprintf(stderr, "edgec: %s: no array for model input '%s'; name the arrays after "
                            "the model's inputs\n", data_path, d.name);
            free(src);
            rc = 2;
            goto cleanup;
        }
        if (src[i]->rank >= 1 &&
            ((d.rank >= 0 && d.rank == src[i]->rank - 1) ||
             (d.rank == src[i]->rank && d.rank >= 1 && d.dims[0] >= 0 &&
              d.dims[0] != src[i]->dims[0] && d.dims[0] == 1)))
            per_sample = true;
    }
    if (per_sample) {
        for (size_t i = 0; i < n_in; i++) {
            if (src[i]->rank < 1 || (i && src[i]->dims[0] != n_samples)) {
                fprintf(stderr, "edgec: %s: arrays disagree on the number of samples\n",
                        data_path);
                free(src);
                rc = 2;
                goto cleanup;
            }
            n_samples = src[i]->dims[0];
        }
    }
    parts = calloc(n_out + 1, sizeof *parts);
    times = calloc((size_t)(repeat ? repeat : 1) * (size_t)n_samples + 1, sizeof *times);
    for (size_t k = 0; parts && k < n_out; k++)
        if (!(parts[k] = calloc((size_t)n_samples + 1, sizeof *parts[k])))
            break;
    if (!parts || !times || (n_out && !parts[n_out - 1])) {
        fprintf(stderr, "edgec: out of memory\n");
        free(src);
        rc = 4;
        goto cleanup;
    }
    for (long long r = 0; r < (repeat ? repeat : 1); r++) {
        for (int64_t smp = 0; smp < n_samples; smp++) {
            for (size_t i = 0; i < n_in; i++) {
                edgec_value_desc d;
                edgec_session_input(s, i, &d);
                edgec_array_free(ins[i]);
                ins[i] = NULL;
                st = per_sample ? edgec_array_slice(src[i], smp, 1, &ins[i])
                                : edgec_array_clone(src[i], d.name, &ins[i]);
                if (!st && per_sample && d.rank == ins[i]->rank - 1) {
                    memmove(ins[i]->dims, ins[i]->dims + 1, (size_t)d.rank * sizeof(int64_t));
                    ins[i]->rank--;
                }
                if (!st)
                    st = edgec_array_set_name(ins[i], d.name);
                if (st) {
                    free(src);
                    goto fail;
                }
            }
            double t0 = now_ms();
            st = edgec_session_run(s, (const edgec_array *const *)ins, n_in, outs, n_out);
            times[n_times++] = now_ms() - t0;
            if (st) {
                free(src);
                if (st == EDGEC_STATUS_INVALID_DATA) {
                    fprintf(stderr, "edgec: %s: %s\n", data_path, edgec_error_message());
                    rc = 2;
                    goto cleanup;
                }
                goto fail;
            }
            for (size_t k = 0; k < n_out; k++) {
                if (r == 0) {
                    parts[k][smp] = outs[k];
                    n_parts = smp + 1;
                } else {
                    edgec_array_free(outs[k]);
                }
                outs[k] = NULL;
            }
        }
    }
    free(src);
    if (repeat) {
        qsort(times, n_times, sizeof *times, cmp_double);
        double med = n_times % 2 ? times[n_times / 2]
                                 : (times[n_times / 2 - 1] + times[n_times / 2]) / 2;
        fprintf(stderr,
                "latency: median %.3f ms per inference (%zu runs%s), peak tensor memory %.1f "
                "KiB\n",
                med, n_times, per_sample ? ", one sample each" : "",
                (double)edgec_session_peak_bytes(s) / 1024.0);
    }
    if ((st = edgec_dataset_create(&result)))
        goto fail;
    for (size_t k = 0; k < n_out; k++) {
        edgec_array *o = NULL;
        if (per_sample) {
            if ((st = join_samples(parts[k], n_samples, &o))) {
                rc = edgec_status_exit_code(st);
                goto cleanup;
            }
        } else {
            o = parts[k][0];
            parts[k][0] = NULL;
        }
        if ((st = edgec_dataset_add(result, o))) {
            edgec_array_free(o);
            goto fail;
        }
    }
    if (out_path) {
        if ((st = edgec_dataset_save(out_path, result)))
            goto fail;
    } else {
        for (size_t k = 0; k < n_out; k++) {
            const edgec_array *o = edgec_dataset_at(result, k);
            printf("%s: %s [", o->name, edgec_elem_name(o->type));
            for (int d = 0; d < o->rank; d++)
                printf("%s%lld", d ? ", " : "", (long long)o->dims[d]);
            printf("]\n");
        }
    }
    goto cleanup;
fail:
    rc = cli_fail(st);
cleanup:
    for (size_t k = 0; parts && k < n_out; k++) {
        for (int64_t i = 0; parts[k] && i < n_parts; i++)
            edgec_array_free(parts[k][i]);
        free(parts[k]);
    }
    free(parts);
    for (size_t i = 0; ins && i < n_in; i++)
        edgec_array_free(ins[i]);
    for (size_t i = 0; outs && i < n_out; i++)
        edgec_array_free(outs[i]);
    free(ins);
    free(outs);
    free(times);
    edgec_dataset_free(result);
    edgec_dataset_free(data);
    edgec_session_free(s);
    edgec_model_free(m);
    return rc;
}
