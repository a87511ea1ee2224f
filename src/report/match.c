/* Matching the result's layers to the original's, for the per-layer table.
 *
 * Passes keep node names where they can and always keep the values other nodes read, so
 * a result layer is the original layer of the same name, else the one that produced the
 * same value, else the layer it feeds (the first half of a factorized Gemm feeds the
 * second, which kept the name). What stays unmatched is new. */
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

/* How far a new layer's outputs are followed to find the layer it belongs to. */
#define MAX_CHAIN 8

typedef struct key_ref {
    const char *graph, *key;
    size_t layer;
} key_ref;

static int cmp_key(const void *a, const void *b)
{
    const key_ref *x = a, *y = b;
    int c = strcmp(x->graph, y->graph);
    if (!c)
        c = strcmp(x->key, y->key);
    return c ? c : (x->layer > y->layer) - (x->layer < y->layer);
}

/* The first original layer with `key` in `graph`, or -1. */
static ptrdiff_t find_key(const key_ref *t, size_t n, const char *graph, const char *key)
{
    if (!*key || !n)
        return -1;
    size_t lo = 0, hi = n;
    key_ref k = {graph, key, 0};
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_key(&t[mid], &k) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < n && !strcmp(t[lo].graph, graph) && !strcmp(t[lo].key, key))
        return (ptrdiff_t)t[lo].layer;
    return -1;
}

static const edgec_rweight *largest(const edgec_snapshot *s, const edgec_rlayer *l,
                                    const edgec_rweight *best)
{
    for (size_t i = 0; i < l->n_weights; i++) {
        const edgec_rweight *w = &s->weights[l->weights[i]];
        if (!best || w->numel > best->numel)
            best = w;
    }
    return best;
}

static void add_totals(const edgec_snapshot *s, const edgec_rlayer *l, int64_t *params,
                       int64_t *nonzero, uint64_t *bytes, size_t *matrices)
{
    for (size_t i = 0; i < l->n_weights; i++) {
        const edgec_rweight *w = &s->weights[l->weights[i]];
        *params += w->numel;
        *nonzero += w->nonzero;
        *bytes += w->bytes;
        *matrices += w->rank >= 2 && edgec__dtype(w->dtype)->bits >= 4 && w->numel > 1;
    }
}

/* Fills a row's figures from its layers. A row with more weight matrices after than
 * before was factorized; its rank is the smallest leading dimension among them. */
static void fill_row(const edgec_snapshot *before, const edgec_snapshot *after, edgec_rrow *row)
{
    size_t mats_before = 0, mats_after = 0;
    row->rank = -1;
    if (row->before) {
        row->main_before = largest(before, row->before, NULL);
        add_totals(before, row->before, &row->params_before, &row->nonzero_before,
                   &row->bytes_before, &mats_before);
    }
    size_t used = 0;
    for (size_t k = 0; k < row->n_after; k++) {
        const edgec_rlayer *l = row->after[k];
        row->main_after = largest(after, l, row->main_after);
        add_totals(after, l, &row->params_after, &row->nonzero_after, &row->bytes_after,
                   &mats_after);
        bool seen = false;
        for (size_t j = 0; j < k && !seen; j++)
            seen = !strcmp(row->after[j]->op, l->op);
        if (!seen && used + strlen(l->op) + 2 < sizeof row->op_after)
            used += (size_t)snprintf(row->op_after + used, sizeof row->op_after - used, "%s%s",
                                     used ? "+" : "", l->op);
    }
    if (row->before && mats_after > mats_before && mats_before) {
        for (size_t k = 0; k < row->n_after; k++) {
            const edgec_rlayer *l = row->after[k];
            for (size_t i = 0; i < l->n_weights; i++) {
                const edgec_rweight *w = &after->weights[l->weights[i]];
                if (w->rank < 2 || w->numel <= 1)
                    continue;
                int64_t r = w->dims[0] < w->dims[1] ? w->dims[0] : w->dims[1];
                if (row->rank < 0 || r < row->rank)
                    row->rank = r;
            }
        }
    }
}

edgec_status edgec__report_match(const edgec_snapshot *before, const edgec_snapshot *after,
                                 edgec_rrow **rows_out, size_t *n_out)
{
    edgec_status st = EDGEC_STATUS_OK;
    size_t nb = before->n_layers, na = after->n_layers;
    key_ref *by_name = malloc((nb ? nb : 1) * sizeof *by_name);
    key_ref *by_output = malloc((nb ? nb : 1) * sizeof *by_output);
    ptrdiff_t *match = malloc((na ? na : 1) * sizeof *match);
    size_t *count = calloc(nb + 1, sizeof *count);
    edgec_rrow *rows = calloc(nb + na + 1, sizeof *rows);
    size_t n_rows = 0;
    *rows_out = NULL;
    *n_out = 0;
    if (!by_name || !by_output || !match || !count || !rows) {
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < nb; i++) {
        const edgec_rlayer *l = &before->layers[i];
        by_name[i] = (key_ref){l->graph, l->node, i};
        by_output[i] = (key_ref){l->graph, l->output, i};
    }
    if (nb) {
        qsort(by_name, nb, sizeof *by_name, cmp_key);
        qsort(by_output, nb, sizeof *by_output, cmp_key);
    }
    for (size_t j = 0; j < na; j++) {
        const edgec_rlayer *l = &after->layers[j];
        match[j] = find_key(by_name, nb, l->graph, l->node);
        if (match[j] < 0)
            match[j] = find_key(by_output, nb, l->graph, l->output);
    }
    for (size_t j = 0; j < na; j++) {
        ptrdiff_t k = after->layers[j].next;
        for (int step = 0; match[j] < 0 && k >= 0 && step < MAX_CHAIN; step++) {
            match[j] = find_key(by_name, nb, after->layers[k].graph, after->layers[k].node);
            if (match[j] < 0)
                match[j] = find_key(by_output, nb, after->layers[k].graph, after->layers[k].output);
            k = after->layers[k].next;
        }
    }
    for (size_t j = 0; j < na; j++)
        if (match[j] >= 0)
            count[match[j]]++;
    for (size_t i = 0; i < nb; i++) {
        edgec_rrow *row = &rows[n_rows++];
        row->before = &before->layers[i];
        if (count[i] && !(row->after = malloc(count[i] * sizeof *row->after))) {
            st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
            goto cleanup;
        }
        for (size_t j = 0; j < na; j++)
            if (match[j] == (ptrdiff_t)i)
                row->after[row->n_after++] = &after->layers[j];
    }
    for (size_t j = 0; j < na; j++) {
        if (match[j] >= 0)
            continue;
        edgec_rrow *row = &rows[n_rows++];
        if (!(row->after = malloc(sizeof *row->after))) {
            st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
            goto cleanup;
        }
        row->after[row->n_after++] = &after->layers[j];
    }
    for (size_t i = 0; i < n_rows; i++)
        fill_row(before, after, &rows[i]);
    *rows_out = rows;
    *n_out = n_rows;
    rows = NULL;
cleanup:
    if (rows)
        edgec__report_rows_free(rows, n_rows);
    free(by_name);
    free(by_output);
    free(match);
    free(count);
    return st;
}

void edgec__report_rows_free(edgec_rrow *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++)
        free((void *)rows[i].after);
    free(rows);
}
