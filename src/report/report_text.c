/* The report for people: the text summary after every compress, and Markdown for
 * pull-request comments. Both show the same figures as the JSON report. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

/* The text table shows the first this many layers in model order; the JSON, Markdown and
 * HTML reports show them all. */
#define TEXT_MAX_LAYERS 30
#define NAME_WIDTH 28

void edgec__report_shape(char *buf, size_t size, const edgec_rweight *w)
{
    if (!w) {
        snprintf(buf, size, "-");
        return;
    }
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int32_t i = 0; i < w->rank && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%lld", i ? "," : "",
                                 (long long)w->dims[i]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
}

/* 1234567 -> "1,234,567". */
static void grouped(char *buf, size_t size, uint64_t v)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
    size_t o = 0;
    for (int i = 0; i < n && o + 2 < size; i++) {
        if (i && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
}

void edgec__report_bytes(char *buf, size_t size, uint64_t b)
{
    grouped(buf, size, b);
    size_t used = strlen(buf);
    snprintf(buf + used, size - used, " B");
}

double edgec__report_sparsity(int64_t numel, int64_t nonzero)
{
    return numel > 0 ? 100.0 * (double)(numel - nonzero) / (double)numel : NAN;
}

double edgec__report_zeros(const edgec_rweight *w)
{
    return w ? edgec__report_sparsity(w->numel, w->nonzero) : NAN;
}

int edgec__report_bits(const edgec_rweight *w)
{
    return w ? edgec__dtype(w->dtype)->bits : 0;
}

const char *edgec__report_dtype(const edgec_rweight *w)
{
    return w ? edgec__dtype(w->dtype)->name : "-";
}

static void pct(char *buf, size_t size, double v)
{
    if (isnan(v))
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%.1f%%", v);
}

/* "a -> b", or "a" when both sides are the same text. */
static void arrow(char *buf, size_t size, const char *a, const char *b)
{
    if (!strcmp(a, b))
        snprintf(buf, size, "%s", a);
    else
        snprintf(buf, size, "%s -> %s", a, b);
}

/* The row's cells as text, shared by the text and Markdown tables. */
typedef struct row_cells {
    char name[NAME_WIDTH * 4], op[224], shape[224], dtype[224], zeros[224], rank[24], bytes[224];
} row_cells;

static void cells(const edgec_report *r, const edgec_rrow *row, row_cells *c)
{
    const edgec_rlayer *l = row->before ? row->before : row->after[0];
    char a[96], b[96];
    snprintf(c->name, sizeof c->name, "%s%s", row->before ? "" : "+", l->name);
    if (!r->has_after)
        snprintf(c->op, sizeof c->op, "%s", l->op);
    else
        arrow(c->op, sizeof c->op, row->before ? row->before->op : "-",
              row->n_after ? row->op_after : "removed");
    edgec__report_shape(a, sizeof a, row->main_before);
    edgec__report_shape(b, sizeof b, row->main_after);
    if (r->has_after)
        arrow(c->shape, sizeof c->shape, a, b);
    else
        snprintf(c->shape, sizeof c->shape, "%s", a);
    if (r->has_after)
        arrow(c->dtype, sizeof c->dtype, edgec__report_dtype(row->main_before),
              edgec__report_dtype(row->main_after));
    else
        snprintf(c->dtype, sizeof c->dtype, "%s", edgec__report_dtype(row->main_before));
    pct(a, sizeof a, edgec__report_zeros(row->main_before));
    pct(b, sizeof b, edgec__report_zeros(row->main_after));
    if (r->has_after)
        arrow(c->zeros, sizeof c->zeros, a, b);
    else
        snprintf(c->zeros, sizeof c->zeros, "%s", a);
    if (row->rank >= 0)
        snprintf(c->rank, sizeof c->rank, "%lld", (long long)row->rank);
    else
        snprintf(c->rank, sizeof c->rank, "-");
    grouped(a, sizeof a, row->bytes_before);
    grouped(b, sizeof b, row->bytes_after);
    if (r->has_after)
        snprintf(c->bytes, sizeof c->bytes, "%s -> %s", a, b);
    else
        snprintf(c->bytes, sizeof c->bytes, "%s", a);
    bool sparse = false;
    for (size_t k = 0; k < row->n_after; k++)
        for (size_t i = 0; i < row->after[k]->n_weights; i++)
            sparse |= r->after.weights[row->after[k]->weights[i]].sparse;
    if (sparse)
        strncat(c->bytes, " sparse", sizeof c->bytes - strlen(c->bytes) - 1);
}

/* "A -> B (what C -> D)" with the four counts grouped by thousands. */
static void counts(char *buf, size_t size, const char *what, uint64_t a, uint64_t b, uint64_t c,
                   uint64_t d)
{
    char ga[32], gb[32], gc[32], gd[32];
    grouped(ga, sizeof ga, a);
    grouped(gb, sizeof gb, b);
    grouped(gc, sizeof gc, c);
    grouped(gd, sizeof gd, d);
    snprintf(buf, size, "%s -> %s (%s %s -> %s)", ga, gb, what, gc, gd);
}

/* Headline figures shared by the text and Markdown forms. */
static void size_line(const edgec_report *r, char *buf, size_t size)
{
    char a[48], b[48];
    edgec__report_bytes(a, sizeof a, r->input_bytes >= 0 ? (uint64_t)r->input_bytes : 0);
    if (r->input_bytes < 0)
        snprintf(a, sizeof a, "? B (standard input)");
    if (r->output_bytes >= 0) {
        edgec__report_bytes(b, sizeof b, (uint64_t)r->output_bytes);
        double x = r->input_bytes > 0 && r->output_bytes > 0
                       ? (double)r->input_bytes / (double)r->output_bytes
                       : 0;
        if (x >= 1)
            snprintf(buf, size, "%s -> %s (%.2fx smaller, %+.1f%%)", a, b, x, 100.0 * (1 / x - 1));
        else if (x > 0)
            snprintf(buf, size, "%s -> %s (%.2fx larger, %+.1f%%)", a, b, 1 / x, 100.0 * (1 / x - 1));
        else
            snprintf(buf, size, "%s -> %s", a, b);
    } else if (r->serialized_bytes >= 0) {
        edgec__report_bytes(b, sizeof b, (uint64_t)r->serialized_bytes);
        snprintf(buf, size, "%s -> not written (would have been %s)", a, b);
    } else {
        snprintf(buf, size, "%s -> not written", a);
    }
}

static void eval_lines(const edgec_report *r, FILE *out, const char *indent, const char *bullet)
{
    const edgec_eval_result *e = &r->eval;
    if (e->synthetic)
        fprintf(out, "%s%lld seeded synthetic samples (no --eval data: fidelity only)\n", bullet,
                (long long)e->samples);
    else
        fprintf(out, "%s%lld samples from %s%s\n", bullet, (long long)e->samples,
                r->data_path ? r->data_path : "?", e->has_labels ? " (with labels)" : " (no labels)");
    if (e->has_labels)
        fprintf(out, "%stop-1 %.2f%% -> %.2f%% (drop %.2f points)\n", indent, e->ref_top1,
                e->cand_top1, e->top1_drop);
    if (!e->has_candidate)
        return;
    fprintf(out, "%scosine %.6f, SQNR ", indent, e->cosine);
    if (isfinite(e->sqnr_db))
        fprintf(out, "%.2f dB", e->sqnr_db);
    else
        fprintf(out, "inf (identical outputs)");
    fprintf(out, ", max abs error %.6g, top-1 agreement %.2f%%\n", e->max_abs_err,
            e->top1_agreement);
}

static void gate_line(const edgec_report *r, FILE *out)
{
    if (!r->gate_passed) {
        fprintf(out, "FAILED: %s; no model written", r->gate_message ? r->gate_message : "");
        return;
    }
    fprintf(out, "passed:");
    for (size_t i = 0; i < r->n_checks; i++) {
        const edgec_gate_check *c = &r->checks[i];
        if (!strcmp(c->name, "max_drop") && c->by_agreement)
            fprintf(out, "%s --max-drop %g (no labels: top-1 changed on %.2f%% of samples, %.2f "
                         "to spare)",
                    i ? ";" : "", c->limit, c->value, c->margin);
        else if (!strcmp(c->name, "max_drop"))
            fprintf(out, "%s --max-drop %g (drop %.2f, %.2f to spare)", i ? ";" : "", c->limit,
                    c->value, c->margin);
        else
            fprintf(out, "%s --min-cosine %g (cosine %.6f, %.6f to spare)", i ? ";" : "",
                    c->limit, c->value, c->margin);
    }
}

void edgec__report_text(const edgec_report *r, FILE *out)
{
    char line[512];
    const edgec_snapshot *a = r->has_after ? &r->after : &r->before;
    fprintf(out, "edgec: %s -> %s\n", r->input_path ? r->input_path : "-",
            r->output_bytes >= 0 && r->output_path ? r->output_path : "(nothing written)");
    fprintf(out, "  passes:   %s\n", r->options && *r->options ? r->options : "none (lossless copy)");
    size_line(r, line, sizeof line);
    fprintf(out, "  size:     %s\n", line);
    if (r->container_path && r->container_bytes >= 0) {
        char b[48];
        edgec__report_bytes(b, sizeof b, (uint64_t)r->container_bytes);
        fprintf(out, "  container: %s, %s", r->container_path, b);
        if (r->input_bytes > 0 && r->container_bytes > 0)
            fprintf(out, " (%.2fx smaller)", (double)r->input_bytes / (double)r->container_bytes);
        fputc('\n', out);
    }
    char b0[32], b1[32];
    counts(line, sizeof line, "non-zero", r->before.params, a->params, r->before.nonzero,
           a->nonzero);
    fprintf(out, "  params:   %s\n", line);
    edgec__report_bytes(b0, sizeof b0, r->before.bytes);
    edgec__report_bytes(b1, sizeof b1, a->bytes);
    fprintf(out, "  weights:  %s -> %s\n", b0, b1);
    if (r->before.has_macs && a->has_macs) {
        counts(line, sizeof line, "with non-zero weights:", r->before.macs, a->macs,
               r->before.macs_nonzero, a->macs_nonzero);
        fprintf(out, "  MACs:     %s\n", line);
    }
    if (r->n_rows) {
        /* Widths from the rows shown, so the columns line up. */
        size_t shown = r->n_rows <= TEXT_MAX_LAYERS ? r->n_rows : TEXT_MAX_LAYERS;
        int w[6] = {5, 2, 5, 5, 5, 4};
        row_cells c;
        for (size_t i = 0; i < shown; i++) {
            cells(r, &r->rows[i], &c);
            const char *cols[6] = {c.name, c.op, c.shape, c.dtype, c.zeros, c.rank};
            for (int k = 0; k < 6; k++)
                if ((int)strlen(cols[k]) > w[k])
                    w[k] = (int)strlen(cols[k]);
        }
        if (w[0] > NAME_WIDTH)
            w[0] = NAME_WIDTH;
        fprintf(out, "  layers:\n    %-*s  %-*s  %-*s  %-*s  %-*s  %-*s  %s\n", w[0], "layer", w[1],
                "op", w[2], "shape", w[3], "dtype", w[4], "zeros", w[5], "rank", "bytes");
        for (size_t i = 0; i < shown; i++) {
            cells(r, &r->rows[i], &c);
            fprintf(out, "    %-*.*s  %-*s  %-*s  %-*s  %-*s  %-*s  %s\n", w[0], w[0], c.name, w[1],
                    c.op, w[2], c.shape, w[3], c.dtype, w[4], c.zeros, w[5], c.rank, c.bytes);
        }
        if (shown < r->n_rows)
            fprintf(out, "    ... %zu more layers (all of them in --report FILE)\n",
                    r->n_rows - shown);
    }
    if (r->has_eval) {
        fprintf(out, "  eval:     ");
        eval_lines(r, out, "            ", "");
    }
    if (r->gate_checked) {
        fprintf(out, "  gate:     ");
        gate_line(r, out);
        fputc('\n', out);
    }
}

/* Markdown: a pipe in a cell would end it, and other marks would format it. */
static void md_cell(FILE *out, const char *s)
{
    fputs("| ", out);
    for (; *s; s++) {
        if (*s == '|' || *s == '\\' || *s == '`' || *s == '*' || *s == '_' || *s == '<')
            fputc('\\', out);
        fputc(*s, out);
    }
    fputc(' ', out);
}

static void md_row(FILE *out, const char *key, const char *value)
{
    md_cell(out, key);
    md_cell(out, value);
    fprintf(out, "|\n");
}

void edgec__report_rows(const edgec_report *r, edgec_row_fn row, FILE *out)
{
    char line[512];
    const edgec_snapshot *a = r->has_after ? &r->after : &r->before;
    row(out, "input", r->input_path ? r->input_path : "-");
    row(out, "output", r->output_bytes >= 0 && r->output_path ? r->output_path : "not written");
    row(out, "passes", r->options && *r->options ? r->options : "none (lossless copy)");
    size_line(r, line, sizeof line);
    row(out, "size", line);
    if (r->container_path && r->container_bytes >= 0) {
        char b[48];
        edgec__report_bytes(b, sizeof b, (uint64_t)r->container_bytes);
        snprintf(line, sizeof line, "%s, %s", r->container_path, b);
        row(out, "container", line);
    }
    counts(line, sizeof line, "non-zero", r->before.params, a->params, r->before.nonzero,
           a->nonzero);
    row(out, "parameters", line);
    if (r->before.has_macs && a->has_macs) {
        counts(line, sizeof line, "with non-zero weights:", r->before.macs, a->macs,
               r->before.macs_nonzero, a->macs_nonzero);
        row(out, "MACs", line);
    }
    if (r->has_eval) {
        const edgec_eval_result *e = &r->eval;
        if (e->synthetic)
            snprintf(line, sizeof line, "%lld seeded synthetic samples (fidelity only)",
                     (long long)e->samples);
        else
            snprintf(line, sizeof line, "%lld samples from %s", (long long)e->samples,
                     r->data_path ? r->data_path : "?");
        row(out, "evaluation", line);
        if (e->has_labels) {
            snprintf(line, sizeof line, "%.2f%% -> %.2f%% (drop %.2f points)", e->ref_top1,
                     e->cand_top1, e->top1_drop);
            row(out, "top-1", line);
        }
        if (e->has_candidate) {
            char sq[32] = "inf";
            if (isfinite(e->sqnr_db))
                snprintf(sq, sizeof sq, "%.2f", e->sqnr_db);
            snprintf(line, sizeof line, "cosine %.6f, SQNR %s dB, top-1 agreement %.2f%%",
                     e->cosine, sq, e->top1_agreement);
            row(out, "fidelity", line);
        }
    }
    if (r->gate_checked) {
        char *buf = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&buf, &len);
        if (mem) {
            gate_line(r, mem);
            fclose(mem);
            row(out, "gate", buf ? buf : "");
        }
        free(buf);
    }
    if (r->timestamp)
        row(out, "generated", r->timestamp);
}

void edgec__report_markdown(const edgec_report *r, FILE *out)
{
    fprintf(out, "## edgec compression report\n\n");
    fprintf(out, "| | |\n| --- | --- |\n");
    edgec__report_rows(r, md_row, out);
    if (!r->n_rows)
        return;
    fprintf(out, "\n### Layers\n\n| layer | op | shape | dtype | zeros | rank | bytes |\n"
                 "| --- | --- | --- | --- | --- | --- | --- |\n");
    for (size_t i = 0; i < r->n_rows; i++) {
        row_cells c;
        cells(r, &r->rows[i], &c);
        md_cell(out, c.name);
        md_cell(out, c.op);
        md_cell(out, c.shape);
        md_cell(out, c.dtype);
        md_cell(out, c.zeros);
        md_cell(out, c.rank);
        md_cell(out, c.bytes);
        fprintf(out, "|\n");
    }
}
