/* Streaming calibration statistics; see calibrate.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/calibrate.h"

#define NBINS 2048
#define PERCENTILE 99.99

typedef struct value_stats {
    double min, max;
    uint64_t hist[NBINS]; /* counts of nonzero |x| in bins of `width` */
    double width;         /* 0 until the first nonzero value */
    uint64_t count; /* values in the histogram */
    int axis;
    int64_t channels;
    double *sum; /* [channels] */
    uint64_t per_channel; /* elements per channel seen so far */
} value_stats;

struct edgec_calib {
    size_t n;
    value_stats *v;
    int64_t samples;
};

edgec_status edgec__calib_method_parse(const char *s, edgec_calib_method *out)
{
    if (!s || !strcmp(s, "minmax"))
        *out = EDGEC_CALIB_MINMAX;
    else if (!strcmp(s, "percentile"))
        *out = EDGEC_CALIB_PERCENTILE;
    else if (!strcmp(s, "entropy"))
        *out = EDGEC_CALIB_ENTROPY;
    else
        return edgec__fail(EDGEC_STATUS_USAGE,
                           "--calib-method must be minmax, percentile or entropy, not '%s'", s);
    return EDGEC_STATUS_OK;
}

/* Makes the histogram cover `amax`: the first time, the smallest power of two above it
 * (so that ranges do not depend on float noise); later by doubling, merging bin pairs,
 * which keeps every count. */
static void hist_fit(value_stats *v, double amax)
{
    if (v->width == 0.0) {
        double r = 1.0;
        while (r <= amax)
            r *= 2.0;
        while (r / 2.0 > amax && r > 1e-30)
            r /= 2.0;
        v->width = r / NBINS;
        return;
    }
    while (amax >= v->width * NBINS) {
        for (int i = 0; i < NBINS / 2; i++)
            v->hist[i] = v->hist[2 * i] + v->hist[2 * i + 1];
        memset(v->hist + NBINS / 2, 0, sizeof v->hist / 2);
        v->width *= 2.0;
    }
}

static void stats_add(value_stats *v, const edgec_array *a)
{
    const float *x = a->data;
    double amax = 0.0;
    for (int64_t i = 0; i < a->numel; i++) {
        double d = x[i];
        if (!isfinite(d))
            continue;
        if (d < v->min)
            v->min = d;
        if (d > v->max)
            v->max = d;
        if (fabs(d) > amax)
            amax = fabs(d);
    }
    if (amax > 0.0)
        hist_fit(v, amax);
    /* Exact zeros (ReLU's output is half zeros) stay out of the histogram: every range
     * represents them exactly, and their spike would drag the entropy threshold down. */
    for (int64_t i = 0; v->width > 0.0 && i < a->numel; i++) {
        double d = fabs((double)x[i]);
        if (!isfinite(d) || d == 0.0)
            continue;
        int64_t b = (int64_t)(d / v->width);
        v->hist[b < NBINS ? b : NBINS - 1]++;
        v->count++;
    }
    int axis = v->axis < 0 && v->axis != EDGEC_CALIB_NO_AXIS ? a->rank + v->axis : v->axis;
    if (v->axis == EDGEC_CALIB_NO_AXIS || axis < 0 || axis >= a->rank)
        return;
    int64_t outer = 1, inner = 1, ch = a->dims[axis];
    for (int i = 0; i < a->rank; i++) {
        if (i < axis)
            outer *= a->dims[i];
        else if (i > axis)
            inner *= a->dims[i];
    }
    if (!v->sum) {
        v->channels = ch;
        v->sum = calloc((size_t)(ch ? ch : 1), sizeof *v->sum);
        if (!v->sum)
            return;
    }
    if (ch != v->channels)
        return;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t c = 0; c < ch; c++) {
            const float *p = x + (o * ch + c) * inner;
            double s = 0.0;
            for (int64_t i = 0; i < inner; i++)
                s += p[i];
            v->sum[c] += s;
        }
    v->per_channel += (uint64_t)(outer * inner);
}

typedef struct collect_ctx {
    edgec_calib *c;
} collect_ctx;

static edgec_status on_sample(int64_t sample, const edgec_array *const *values, void *vctx)
{
    collect_ctx *cc = vctx;
    for (size_t i = 0; i < cc->c->n; i++)
        stats_add(&cc->c->v[i], values[i]);
    cc->c->samples = sample + 1;
    return EDGEC_STATUS_OK;
}

edgec_status edgec__calibrate(edgec_model *m, const edgec_dataset *data, const char *const *names,
                              size_t n, const int *channel_axis, int64_t max_samples,
                              edgec_calib **out)
{
    edgec_calib *c = calloc(1, sizeof *c);
    edgec_status st = EDGEC_STATUS_OK;
    *out = NULL;
    if (!c || !(c->v = calloc(n ? n : 1, sizeof *c->v))) {
        free(c);
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    }
    c->n = n;
    for (size_t i = 0; i < n; i++) {
        c->v[i].min = INFINITY;
        c->v[i].max = -INFINITY;
        c->v[i].axis = channel_axis ? channel_axis[i] : EDGEC_CALIB_NO_AXIS;
    }
    collect_ctx cc = {c};
    if (n && (st = edgec__collect(m, data, names, n, max_samples, on_sample, &cc))) {
        edgec__calib_free(c);
        return st;
    }
    *out = c;
    return st;
}

double edgec__entropy_threshold(const uint64_t *hist, int bins, double width, int levels)
{
    double best_kl = INFINITY;
    int best = bins;
    double *p = malloc((size_t)bins * sizeof *p), *q = malloc((size_t)bins * sizeof *q);
    if (!p || !q) {
        free(p);
        free(q);
        return bins * width;
    }
    uint64_t total = 0;
    for (int i = 0; i < bins; i++)
        total += hist[i];
    if (!total) {
        free(p);
        free(q);
        return bins * width;
    }
    for (int t = levels; t <= bins; t++) {
        /* P: the histogram cut at t with the clipped mass folded into its last bin. */
        uint64_t outliers = 0;
        for (int i = t; i < bins; i++)
            outliers += hist[i];
        for (int i = 0; i < t; i++)
            p[i] = (double)hist[i];
        p[t - 1] += (double)outliers;
        /* Q: the first t bins without the clipped mass (so that clipping costs), merged
         * into `levels` groups, each group's mass spread evenly over its nonzero bins. */
        for (int g = 0; g < levels; g++) {
            int lo = (int)((int64_t)g * t / levels), hi = (int)((int64_t)(g + 1) * t / levels);
            double mass = 0.0;
            int nz = 0;
            for (int i = lo; i < hi; i++) {
                mass += (double)hist[i];
                nz += hist[i] != 0;
            }
            for (int i = lo; i < hi; i++)
                q[i] = hist[i] && nz ? mass / nz : 0.0;
        }
        double ps = 0.0, qs = 0.0;
        for (int i = 0; i < t; i++) {
            ps += p[i];
            qs += q[i];
        }
        if (qs <= 0.0)
            continue;
        double kl = 0.0;
        for (int i = 0; i < t; i++) {
            if (p[i] <= 0.0)
                continue;
            double pi = p[i] / ps, qi = q[i] / qs;
            /* Mass in P where Q has none: count it as a large but finite penalty. */
            kl += qi > 0.0 ? pi * log(pi / qi) : pi * 50.0;
        }
        if (kl < best_kl) {
            best_kl = kl;
            best = t;
        }
    }
    free(p);
    free(q);
    return best * width;
}

void edgec__calib_range(const edgec_calib *c, size_t i, edgec_calib_method method, float *lo,
                        float *hi)
{
    const value_stats *v = &c->v[i];
    double mn = isfinite(v->min) ? v->min : 0.0, mx = isfinite(v->max) ? v->max : 0.0;
    if (method != EDGEC_CALIB_MINMAX && v->width > 0.0 && v->count) {
        double t = INFINITY;
        if (method == EDGEC_CALIB_PERCENTILE) {
            uint64_t keep = (uint64_t)ceil((double)v->count * PERCENTILE / 100.0), cum = 0;
            for (int b = 0; b < NBINS; b++) {
                cum += v->hist[b];
                if (cum >= keep) {
                    t = (b + 1) * v->width;
                    break;
                }
            }
        } else {
            /* Non-negative values (after ReLU) use all 256 levels of uint8, others half. */
            t = edgec__entropy_threshold(v->hist, NBINS, v->width, mn >= 0.0 ? 255 : 128);
        }
        if (mx > t)
            mx = t;
        if (mn < -t)
            mn = -t;
    }
    *lo = (float)(mn < 0.0 ? mn : 0.0);
    *hi = (float)(mx > 0.0 ? mx : 0.0);
}

const double *edgec__calib_means(const edgec_calib *c, size_t i, int64_t *channels)
{
    value_stats *v = &c->v[i];
    *channels = v->channels;
    if (!v->sum || !v->per_channel)
        return NULL;
    /* Turned into means in place on first request; sums are not needed after. */
    if (v->per_channel != UINT64_MAX) {
        for (int64_t k = 0; k < v->channels; k++)
            v->sum[k] /= (double)v->per_channel;
        v->per_channel = UINT64_MAX;
    }
    return v->sum;
}

int64_t edgec__calib_samples(const edgec_calib *c)
{
    return c->samples;
}

void edgec__calib_free(edgec_calib *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i].sum);
    free(c->v);
    free(c);
}
