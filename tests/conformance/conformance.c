/* edgec_conformance: runs ONNX backend test cases (a folder with model.onnx and
 * test_data_set_N/{input,output}_K.pb) through the reference interpreter and compares
 * the outputs with ONNX's tolerances: |actual - expected| <= abs_tol + rel_tol * |expected|
 * with rtol 1e-3 and atol 1e-7 for floating types (NaN equals NaN), exact for integer
 * and boolean types.
 *
 * Usage: edgec_conformance [--ops FILE] [--rtol R] [--atol A] CASE_DIR...
 * Prints one line per case: "PASS name", "FAIL name: reason", "UNSUPPORTED name: reason"
 * or, with --ops, "SKIP name: uses OP" for cases using ops outside the list. Exits 0 when
 * no case failed. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "edgec/data.h"
#include "edgec/edgec.h"
#include "edgec/runtime.h"
#include "ir/ir.h"

typedef struct oplist {
    char **names;
    size_t n;
} oplist;

static int load_ops(const char *path, oplist *out)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "edgec_conformance: cannot open %s\n", path);
        return -1;
    }
    char line[4096];
    size_t cap = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        for (char *tok = strtok(line, " \t\r\n"); tok; tok = strtok(NULL, " \t\r\n")) {
            if (out->n == cap) {
                cap = cap ? cap * 2 : 64;
                char **nn = realloc(out->names, cap * sizeof *nn);
                if (!nn) {
                    fclose(f);
                    return -1;
                }
                out->names = nn;
            }
            out->names[out->n++] = strdup(tok);
        }
    }
    fclose(f);
    return 0;
}

typedef struct op_check {
    const oplist *ops;
    const char *missing;
} op_check;

static edgec_status check_graph_ops(edgec_graph *g, void *vctx)
{
    op_check *c = vctx;
    for (size_t i = 0; i < g->n_nodes && !c->missing; i++) {
        const edgec_node *n = g->nodes[i];
        bool found = false;
        if (!*n->domain || !strcmp(n->domain, "ai.onnx"))
            for (size_t k = 0; k < c->ops->n && !found; k++)
                found = !strcmp(c->ops->names[k], n->op_type);
        if (!found)
            c->missing = n->op_type;
    }
    return EDGEC_STATUS_OK;
}

static const char *base_name(const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    static char buf[1024];
    size_t start = n;
    while (start > 0 && path[start - 1] != '/')
        start--;
    snprintf(buf, sizeof buf, "%.*s", (int)(n - start), path + start);
    return buf;
}

static int cmp_sets(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    long nx = strtol(strrchr(x, '_') + 1, NULL, 10), ny = strtol(strrchr(y, '_') + 1, NULL, 10);
    return (nx > ny) - (nx < ny);
}

static bool is_float(edgec_elem_type t)
{
    return t == EDGEC_ELEM_FLOAT || t == EDGEC_ELEM_DOUBLE || t == EDGEC_ELEM_FLOAT16 ||
           t == EDGEC_ELEM_BFLOAT16;
}

static double rel_tol = 1e-3, abs_tol = 1e-7;

/* Compares one output; on mismatch writes a reason. */
static bool compare(const edgec_array *got, const edgec_array *want, char *why, size_t cap)
{
    if (got->type != want->type) {
        snprintf(why, cap, "output '%s' is %s, expected %s", got->name, edgec_elem_name(got->type),
                 edgec_elem_name(want->type));
        return false;
    }
    bool same_shape = got->rank == want->rank;
    for (int i = 0; same_shape && i < got->rank; i++)
        same_shape = got->dims[i] == want->dims[i];
    if (!same_shape) {
        char a[256] = "", b[256] = "";
        for (int i = 0; i < got->rank; i++)
            snprintf(a + strlen(a), sizeof a - strlen(a), "%s%lld", i ? "," : "",
                     (long long)got->dims[i]);
        for (int i = 0; i < want->rank; i++)
            snprintf(b + strlen(b), sizeof b - strlen(b), "%s%lld", i ? "," : "",
                     (long long)want->dims[i]);
        snprintf(why, cap, "output '%s' has shape [%s], expected [%s]", got->name, a, b);
        return false;
    }
    if (!is_float(got->type)) {
        size_t w = edgec_elem_size(got->type);
        for (int64_t i = 0; i < got->numel; i++) {
            const uint8_t *x = (const uint8_t *)got->data + (size_t)i * w;
            const uint8_t *y = (const uint8_t *)want->data + (size_t)i * w;
            bool eq = got->type == EDGEC_ELEM_BOOL ? (!*x == !*y) : !memcmp(x, y, w);
            if (!eq) {
                snprintf(why, cap, "output '%s' element %lld is %.17g, expected %.17g", got->name,
                         (long long)i, edgec_array_get_f64(got, i), edgec_array_get_f64(want, i));
                return false;
            }
        }
        return true;
    }
    int64_t bad = 0, first = -1;
    double worst = 0;
    for (int64_t i = 0; i < got->numel; i++) {
        double x = edgec_array_get_f64(got, i), y = edgec_array_get_f64(want, i);
        if (isnan(x) && isnan(y))
            continue;
        if (isinf(y) || isinf(x)) {
            if (x == y)
                continue;
        } else if (fabs(x - y) <= abs_tol + rel_tol * fabs(y)) {
            continue;
        }
        if (first < 0)
            first = i;
        bad++;
        if (!(fabs(x - y) <= worst))
            worst = fabs(x - y);
    }
    if (bad) {
        snprintf(why, cap,
                 "output '%s': %lld of %lld elements off (first at %lld: %.9g, expected %.9g; "
                 "max abs diff %.3g)",
                 got->name, (long long)bad, (long long)got->numel, (long long)first,
                 edgec_array_get_f64(got, first), edgec_array_get_f64(want, first), worst);
        return false;
    }
    return true;
}

static void one_line(char *s)
{
    for (; *s; s++)
        if (*s == '\n' || *s == '\r')
            *s = ' ';
}

/* Runs one case; returns 0 pass, 1 fail, 2 unsupported, 3 skipped. */
static int run_case(const char *dir, const oplist *ops)
{
    const char *name = base_name(dir);
    char path[4096], why[1024] = "";
    int result = 1;
    edgec_model *m = NULL;
    edgec_session *s = NULL;
    char **sets = NULL;
    size_t n_sets = 0;
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    edgec_status st = edgec_model_load(path, &m);
    if (st) {
        snprintf(why, sizeof why, "%s", edgec_error_message());
        result = st == EDGEC_STATUS_UNSUPPORTED ? 2 : 1;
        goto done;
    }
    if (ops) {
        op_check c = {ops, NULL};
        edgec__model_graphs(m, check_graph_ops, &c);
        if (c.missing) {
            snprintf(why, sizeof why, "uses %s", c.missing);
            result = 3;
            goto done;
        }
    }
    if ((st = edgec_session_create(m, NULL, &s))) {
        snprintf(why, sizeof why, "%s", edgec_error_message());
        result = st == EDGEC_STATUS_UNSUPPORTED ? 2 : 1;
        goto done;
    }
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(why, sizeof why, "cannot list %s", dir);
        goto done;
    }
    size_t cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (strncmp(e->d_name, "test_data_set_", 14))
            continue;
        if (n_sets == cap) {
            cap = cap ? cap * 2 : 8;
            char **ns = realloc(sets, cap * sizeof *ns);
            if (!ns)
                break;
            sets = ns;
        }
        sets[n_sets++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(sets, n_sets, sizeof *sets, cmp_sets);
    if (!n_sets) {
        snprintf(why, sizeof why, "no test_data_set_N folders");
        goto done;
    }
    size_t n_out = edgec_session_output_count(s);
    for (size_t k = 0; k < n_sets; k++) {
        edgec_dataset *in = NULL, *want = NULL;
        edgec_array **got = calloc(n_out + 1, sizeof *got);
        const edgec_array **ins = NULL;
        bool ok = false;
        snprintf(path, sizeof path, "%s/%s", dir, sets[k]);
        if ((st = edgec_test_data_read(path, "input", &in)) ||
            (st = edgec_test_data_read(path, "output", &want))) {
            snprintf(why, sizeof why, "%s: %s", sets[k], edgec_error_message());
            result = st == EDGEC_STATUS_UNSUPPORTED ? 2 : 1;
            goto next;
        }
        size_t n_in = edgec_dataset_count(in);
        ins = calloc(n_in + 1, sizeof *ins);
        /* Inputs bind by position to the inputs the caller must give, as ONNX's backend
         * runner does; arrays are renamed after them when their names differ. */
        for (size_t i = 0; i < n_in; i++) {
            edgec_array *a = (edgec_array *)edgec_dataset_at(in, i);
            edgec_value_desc vd;
            if (edgec_session_input(s, i, &vd) == EDGEC_STATUS_OK) {
                if (!a->name || strcmp(a->name, vd.name))
                    edgec_array_set_name(a, vd.name);
                /* numpy has no bfloat16: ONNX's test data stores it as uint16 bits. */
                if (vd.type == EDGEC_ELEM_BFLOAT16 && a->type == EDGEC_ELEM_UINT16)
                    a->type = EDGEC_ELEM_BFLOAT16;
            }
            ins[i] = a;
        }
        if ((st = edgec_session_run(s, ins, n_in, got, n_out))) {
            snprintf(why, sizeof why, "%s: %s", sets[k], edgec_error_message());
            result = st == EDGEC_STATUS_UNSUPPORTED ? 2 : 1;
            goto next;
        }
        if (edgec_dataset_count(want) != n_out) {
            snprintf(why, sizeof why, "%s: the model has %zu outputs but the data set %zu",
                     sets[k], n_out, edgec_dataset_count(want));
            goto next;
        }
        for (size_t i = 0; i < n_out; i++) {
            char w[900];
            edgec_array *e = (edgec_array *)edgec_dataset_at(want, i);
            if (got[i]->type == EDGEC_ELEM_BFLOAT16 && e->type == EDGEC_ELEM_UINT16)
                e->type = EDGEC_ELEM_BFLOAT16;
            if (!compare(got[i], edgec_dataset_at(want, i), w, sizeof w)) {
                snprintf(why, sizeof why, "%s: %s", sets[k], w);
                goto next;
            }
        }
        ok = true;
    next:
        for (size_t i = 0; got && i < n_out; i++)
            edgec_array_free(got[i]);
        free(got);
        free(ins);
        edgec_dataset_free(in);
        edgec_dataset_free(want);
        if (!ok)
            goto done;
    }
    result = 0;
done:
    one_line(why);
    if (result == 0)
        printf("PASS %s\n", name);
    else
        printf("%s %s: %s\n", result == 1 ? "FAIL" : result == 2 ? "UNSUPPORTED" : "SKIP", name,
               why);
    fflush(stdout);
    for (size_t i = 0; i < n_sets; i++)
        free(sets[i]);
    free(sets);
    edgec_session_free(s);
    edgec_model_free(m);
    return result;
}

int main(int argc, char **argv)
{
    oplist ops = {0};
    bool have_ops = false;
    int first = 1, failed = 0;
    while (first < argc && argv[first][0] == '-') {
        if (!strcmp(argv[first], "--ops") && first + 1 < argc) {
            if (load_ops(argv[first + 1], &ops))
                return 2;
            have_ops = true;
            first += 2;
        } else if (!strcmp(argv[first], "--rtol") && first + 1 < argc) {
            rel_tol = strtod(argv[first + 1], NULL);
            first += 2;
        } else if (!strcmp(argv[first], "--atol") && first + 1 < argc) {
            abs_tol = strtod(argv[first + 1], NULL);
            first += 2;
        } else {
            fprintf(stderr, "usage: edgec_conformance [--ops FILE] [--rtol R] [--atol A] "
                            "CASE_DIR...\n");
            return 1;
        }
    }
    if (first >= argc) {
        fprintf(stderr, "usage: edgec_conformance [--ops FILE] [--rtol R] [--atol A] CASE_DIR...\n");
        return 1;
    }
    for (int i = first; i < argc; i++) {
        int r = run_case(argv[i], have_ops ? &ops : NULL);
        failed += r == 1 || r == 2;
    }
    for (size_t i = 0; i < ops.n; i++)
        free(ops.names[i]);
    free(ops.names);
    return failed ? 1 : 0;
}
