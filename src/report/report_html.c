/* The HTML report: one self-contained page (inline CSS and SVG, no scripts, no external
 * assets) with the summary, charts of bytes, bits and zeros per layer and of accuracy
 * and fidelity, and the layer table. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

#define LABEL_W 220
#define BAR_W 480
#define VALUE_W 120
#define ROW_H 22
#define COLOR_BEFORE "#9aa5b1"
#define COLOR_AFTER "#1f77b4"

static void esc(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default: fputc(*s, out);
        }
    }
}

typedef void (*value_fmt)(char *buf, size_t size, double v);

static void fmt_bytes(char *buf, size_t size, double v)
{
    edgec__report_bytes(buf, size, (uint64_t)v);
}
static void fmt_bits(char *buf, size_t size, double v)
{
    snprintf(buf, size, "%.0f bits", v);
}
static void fmt_pct(char *buf, size_t size, double v)
{
    snprintf(buf, size, "%.2f%%", v);
}

/* A horizontal bar chart: one group per label, a grey "before" bar and a blue "after"
 * bar (`b` may be NULL for a single series). NaN values draw no bar and read "n/a". */
static void chart(FILE *out, const char *title, const char *const *labels, size_t n,
                  const double *a, const double *b, const char *name_a, const char *name_b,
                  double vmax, value_fmt fmt)
{
    int bars = b ? 2 : 1;
    int group = bars * ROW_H + 8, top = 48;
    int height = top + (int)n * group + 8, width = LABEL_W + BAR_W + VALUE_W;
    if (!(vmax > 0))
        vmax = 1;
    fprintf(out, "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                 "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"",
            width, height, width, height);
    esc(out, title);
    fprintf(out, "\" class=\"chart\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n");
    fprintf(out, "<text x=\"0\" y=\"16\" class=\"title\">");
    esc(out, title);
    fprintf(out, "</text>\n");
    fprintf(out, "<rect x=\"%d\" y=\"26\" width=\"12\" height=\"12\" fill=\"%s\"/><text x=\"%d\" "
                 "y=\"37\">",
            LABEL_W, COLOR_BEFORE, LABEL_W + 16);
    esc(out, name_a);
    fprintf(out, "</text>\n");
    if (b) {
        fprintf(out, "<rect x=\"%d\" y=\"26\" width=\"12\" height=\"12\" fill=\"%s\"/><text "
                     "x=\"%d\" y=\"37\">",
                LABEL_W + 150, COLOR_AFTER, LABEL_W + 166);
        esc(out, name_b);
        fprintf(out, "</text>\n");
    }
    for (size_t i = 0; i < n; i++) {
        int y = top + (int)i * group;
        fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" class=\"label\">", LABEL_W - 8,
                y + ROW_H * bars / 2 + 4);
        /* Long names are cut so they stay left of the bars. */
        char cut[40];
        if (strlen(labels[i]) > 30)
            snprintf(cut, sizeof cut, "%.27s...", labels[i]);
        else
            snprintf(cut, sizeof cut, "%s", labels[i]);
        esc(out, cut);
        fprintf(out, "</text>\n");
        for (int s = 0; s < bars; s++) {
            double v = s ? b[i] : a[i];
            int by = y + s * ROW_H + 2;
            char val[48] = "n/a";
            double w = 0;
            if (!isnan(v)) {
                w = v / vmax * BAR_W;
                if (w < 0)
                    w = 0;
                if (w > BAR_W)
                    w = BAR_W;
                if (v > 0 && w < 1)
                    w = 1; /* a tiny value still shows */
                fmt(val, sizeof val, v);
            }
            fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>",
                    LABEL_W, by, w, ROW_H - 4, s ? COLOR_AFTER : COLOR_BEFORE);
            fprintf(out, "<text x=\"%.1f\" y=\"%d\" class=\"value\">%s</text>\n",
                    LABEL_W + w + 4, by + ROW_H - 8, val);
        }
    }
    fprintf(out, "</svg></figure>\n");
}

static void kv(FILE *out, const char *k, const char *v)
{
    fprintf(out, "<tr><th>");
    esc(out, k);
    fprintf(out, "</th><td>");
    esc(out, v);
    fprintf(out, "</td></tr>\n");
}

static void summary(FILE *out, const edgec_report *r)
{
    fprintf(out, "<table class=\"summary\">\n");
    edgec__report_rows(r, kv, out);
    fprintf(out, "</table>\n");
}

static void layer_table(FILE *out, const edgec_report *r)
{
    fprintf(out, "<table class=\"layers\"><tr><th>layer</th><th>op</th><th>shape</th><th>dtype"
                 "</th><th>bits</th><th>zeros</th><th>rank</th><th>bytes before</th><th>bytes "
                 "after</th></tr>\n");
    for (size_t i = 0; i < r->n_rows; i++) {
        const edgec_rrow *row = &r->rows[i];
        const edgec_rlayer *l = row->before ? row->before : row->after[0];
        char s0[128], s1[128], b0[48], b1[48];
        edgec__report_shape(s0, sizeof s0, row->main_before);
        edgec__report_shape(s1, sizeof s1, row->main_after);
        edgec__report_bytes(b0, sizeof b0, row->bytes_before);
        edgec__report_bytes(b1, sizeof b1, row->bytes_after);
        fprintf(out, "<tr><td>");
        esc(out, l->name);
        fprintf(out, "</td><td>");
        esc(out, row->before ? row->before->op : "(new)");
        if (r->has_after) {
            fprintf(out, " &rarr; ");
            esc(out, row->n_after ? row->op_after : "removed");
        }
        fprintf(out, "</td><td>");
        esc(out, s0);
        if (r->has_after && strcmp(s0, s1)) {
            fprintf(out, " &rarr; ");
            esc(out, s1);
        }
        fprintf(out, "</td><td>%s &rarr; %s</td><td>%d &rarr; %d</td>",
                edgec__report_dtype(row->main_before), edgec__report_dtype(row->main_after),
                edgec__report_bits(row->main_before), edgec__report_bits(row->main_after));
        double z0 = edgec__report_zeros(row->main_before);
        double z1 = edgec__report_zeros(row->main_after);
        fprintf(out, "<td>%.1f%% &rarr; %.1f%%</td>", isnan(z0) ? 0.0 : z0, isnan(z1) ? 0.0 : z1);
        if (row->rank >= 0)
            fprintf(out, "<td>%lld</td>", (long long)row->rank);
        else
            fprintf(out, "<td>-</td>");
        fprintf(out, "<td class=\"num\">%s</td><td class=\"num\">%s</td></tr>\n", b0, b1);
    }
    fprintf(out, "</table>\n");
}

void edgec__report_html(const edgec_report *r, FILE *out)
{
    size_t n = r->n_rows;
    const char **labels = calloc(n + 1, sizeof *labels);
    double *v = calloc(6 * (n + 1), sizeof *v);
    fprintf(out,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
            "<title>edgec report: ");
    esc(out, r->input_path);
    fprintf(out,
            "</title>\n<style>\n"
            "body{font-family:sans-serif;margin:24px;color:#222;background:#fff}\n"
            "h1{font-size:22px}h2{font-size:18px;margin-top:28px}\n"
            "table{border-collapse:collapse;margin:8px 0}\n"
            "th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:13px}\n"
            "td.num{text-align:right}\n"
            "figure{margin:12px 0}\n"
            ".chart text{font-family:sans-serif;font-size:12px;fill:#222}\n"
            ".chart text.title{font-size:15px;font-weight:bold}\n"
            ".pass{color:#1a7f37;font-weight:bold}.fail{color:#c62828;font-weight:bold}\n"
            "</style></head><body>\n<h1>edgec compression report</h1>\n");
    if (r->gate_checked)
        fprintf(out, "<p class=\"%s\">Quality gate %s</p>\n", r->gate_passed ? "pass" : "fail",
                r->gate_passed ? "passed" : "FAILED: no model was written");
    summary(out, r);
    if (!labels || !v) {
        fprintf(out, "<p>Charts left out: out of memory.</p>\n");
    } else if (n) {
        double *b0 = v, *b1 = v + n, *t0 = v + 2 * n, *t1 = v + 3 * n, *z0 = v + 4 * n,
               *z1 = v + 5 * n, bmax = 0, tmax = 0;
        for (size_t i = 0; i < n; i++) {
            const edgec_rrow *row = &r->rows[i];
            labels[i] = row->before ? row->before->name : row->after[0]->name;
            b0[i] = (double)row->bytes_before;
            b1[i] = r->has_after ? (double)row->bytes_after : NAN;
            t0[i] = row->main_before ? edgec__report_bits(row->main_before) : NAN;
            t1[i] = row->main_after ? edgec__report_bits(row->main_after) : NAN;
            z0[i] = edgec__report_zeros(row->main_before);
            z1[i] = edgec__report_zeros(row->main_after);
            bmax = fmax(bmax, fmax(b0[i], isnan(b1[i]) ? 0 : b1[i]));
            tmax = fmax(tmax, fmax(isnan(t0[i]) ? 0 : t0[i], isnan(t1[i]) ? 0 : t1[i]));
        }
        fprintf(out, "<h2>Per layer</h2>\n");
        chart(out, "Bytes per layer", labels, n, b0, b1, "original", "compressed", bmax, fmt_bytes);
        chart(out, "Bits per weight (largest tensor of each layer)", labels, n, t0, t1, "original",
              "compressed", tmax, fmt_bits);
        chart(out, "Zeros per layer (%)", labels, n, z0, z1, "original", "compressed", 100.0,
              fmt_pct);
    }
    if (r->has_eval && r->eval.has_candidate) {
        const edgec_eval_result *e = &r->eval;
        const char *names[3];
        double ea[3], eb[3];
        size_t k = 0;
        if (e->has_labels) {
            names[k] = "top-1 accuracy (%)";
            ea[k] = e->ref_top1;
            eb[k++] = e->cand_top1;
        }
        names[k] = "top-1 agreement (%)";
        ea[k] = 100.0;
        eb[k++] = e->top1_agreement;
        names[k] = "output cosine x 100";
        ea[k] = 100.0;
        eb[k++] = e->cosine * 100.0;
        fprintf(out, "<h2>Accuracy and fidelity</h2>\n");
        chart(out, "Accuracy and fidelity", names, k, ea, eb, "original", "compressed", 100.0,
              fmt_pct);
    } else {
        fprintf(out, "<h2>Accuracy and fidelity</h2>\n<p>Not evaluated: pass <code>--eval "
                     "DATA</code> to measure them.</p>\n");
    }
    if (n) {
        fprintf(out, "<h2>Layers</h2>\n");
        layer_table(out, r);
    }
    fprintf(out, "<p><small>edgec %s</small></p>\n</body></html>\n", edgec_version());
    free(labels);
    free(v);
}
