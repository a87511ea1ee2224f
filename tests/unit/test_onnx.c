/* Reader and writer: lossless round trips and refusal of malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "edgec/edgec.h"
#include "ir/ir.h"
#include "pb_builder.h"

static const int64_t w_dims[2] = {4, 3};
static const int64_t b_dims[1] = {3};
static const int64_t x_dims[2] = {1, 4};
static float w_data[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
static float b_data[3] = {0.5f, -0.5f, 1.0f};
static float then_data[3] = {1, 1, 1};
static const char *const gemm_in[] = {"X", "W", "B", NULL};
static const char *const gemm_out[] = {"Y", NULL};
static const char *const b_out[] = {"B", NULL};
static const char *const if_in[] = {"cond", NULL};
static const char *const sample_if_in[] = {"Y", NULL};
static const char *const if_out[] = {"Z", NULL};
static const char *const then_out[] = {"t", NULL};

/* X -> Gemm(W initializer, B Constant) -> Y, plus an If whose then-branch holds a
 * Constant weight: the shapes of weights edgec must find everywhere. */
static Onnx__ModelProto *sample(pbb *b)
{
    Onnx__GraphProto *g = pbb_graph(b, "main");
    Onnx__NodeProto *cb = pbb_node(b, "Constant", "const_b", NULL, b_out);
    pbb_add_attr(b, cb, pbb_attr_tensor(b, "value",
                                        pbb_tensor(b, "", 1, 1, b_dims, b_data, sizeof b_data)));
    pbb_graph_add_node(b, g, cb);
    pbb_graph_add_node(b, g, pbb_node(b, "Gemm", "gemm", gemm_in, gemm_out));
    Onnx__GraphProto *then = pbb_graph(b, "then");
    Onnx__NodeProto *ct = pbb_node(b, "Constant", "const_t", NULL, then_out);
    pbb_add_attr(b, ct, pbb_attr_tensor(b, "value", pbb_tensor(b, "", 1, 1, b_dims, then_data,
                                                               sizeof then_data)));
    pbb_graph_add_node(b, then, ct);
    pbb_graph_io(b, then, NULL, pbb_value(b, "t", 1, 1, b_dims));
    Onnx__NodeProto *nif = pbb_node(b, "If", "the_if", sample_if_in, if_out);
    pbb_add_attr(b, nif, pbb_attr_graph(b, "then_branch", then));
    pbb_add_attr(b, nif, pbb_attr_graph(b, "else_branch", then));
    pbb_graph_add_node(b, g, nif);
    pbb_graph_add_init(b, g, pbb_tensor(b, "W", 1, 2, w_dims, w_data, sizeof w_data));
    pbb_graph_io(b, g, pbb_value(b, "X", 1, 2, x_dims), pbb_value(b, "Y", 1, 2, x_dims));
    return pbb_model(b, g, 13);
}

static edgec_status load_bytes(const uint8_t *buf, size_t len, edgec_model **m)
{
    return edgec_model_load_buffer(buf, len, "test.onnx", NULL, m);
}

static void test_roundtrip_is_byte_identical(void **state)
{
    (void)state;
    pbb b = {0};
    size_t len;
    uint8_t *buf = pbb_pack(sample(&b), &len);
    edgec_model *m;
    assert_int_equal(load_bytes(buf, len, &m), EDGEC_STATUS_OK);
    void *out;
    size_t out_len;
    assert_int_equal(edgec_model_save_buffer(m, &out, &out_len), EDGEC_STATUS_OK);
    assert_int_equal(out_len, len);
    assert_memory_equal(out, buf, len);
    free(out);
    edgec_model_free(m);
    free(buf);
    pbb_free(&b);
}

static void test_unknown_fields_survive(void **state)
{
    (void)state;
    pbb b = {0};
    size_t len;
    uint8_t *base = pbb_pack(sample(&b), &len);
    /* Field 99 (varint 7) and field 98 (bytes "hi") are not in the schema. */
    static const uint8_t extra[] = {0x98, 0x06, 0x07, 0x92, 0x06, 0x02, 'h', 'i'};
    uint8_t *buf = malloc(len + sizeof extra);
    memcpy(buf, base, len);
    memcpy(buf + len, extra, sizeof extra);
    edgec_model *m;
    assert_int_equal(load_bytes(buf, len + sizeof extra, &m), EDGEC_STATUS_OK);
    void *out;
    size_t out_len;
    assert_int_equal(edgec_model_save_buffer(m, &out, &out_len), EDGEC_STATUS_OK);
    assert_int_equal(out_len, len + sizeof extra);
    assert_memory_equal(out, buf, out_len);
    free(out);
    edgec_model_free(m);
    free(buf);
    free(base);
    pbb_free(&b);
}

typedef struct counts {
    int initializers, constants, in_subgraph;
} counts;

static edgec_status count_weight(edgec_weight *w, void *ctx)
{
    counts *c = ctx;
    if (w->kind == EDGEC_WEIGHT_INITIALIZER)
        c->initializers++;
    if (w->kind == EDGEC_WEIGHT_CONSTANT)
        c->constants++;
    if (w->graph->depth > 0)
        c->in_subgraph++;
    return EDGEC_STATUS_OK;
}

static void test_weights_found_everywhere(void **state)
{
    (void)state;
    pbb b = {0};
    size_t len;
    uint8_t *buf = pbb_pack(sample(&b), &len);
    edgec_model *m;
    assert_int_equal(load_bytes(buf, len, &m), EDGEC_STATUS_OK);
    counts c = {0};
    assert_int_equal(edgec__model_weights(m, count_weight, &c), EDGEC_STATUS_OK);
    assert_int_equal(c.initializers, 1);
    /* const_b in main, const_t in then_branch and again in else_branch. */
    assert_int_equal(c.constants, 3);
    assert_int_equal(c.in_subgraph, 2);
    edgec_model_free(m);
    free(buf);
    pbb_free(&b);
}

static void test_dirty_tensor_written_as_raw(void **state)
{
    (void)state;
    pbb b = {0};
    Onnx__ModelProto *pm = sample(&b);
    /* Store W in float_data instead of raw_data. */
    Onnx__TensorProto *w = pm->graph->initializer[0];
    w->has_raw_data = 0;
    w->n_float_data = 12;
    w->float_data = w_data;
    size_t len;
    uint8_t *buf = pbb_pack(pm, &len);
    edgec_model *m;
    assert_int_equal(load_bytes(buf, len, &m), EDGEC_STATUS_OK);
    edgec_tensor *t = m->graph->inits[0];
    assert_memory_equal(t->data, w_data, sizeof w_data);
    ((float *)t->data)[0] = 42.0f;
    t->dirty = true;
    void *out;
    size_t out_len;
    assert_int_equal(edgec_model_save_buffer(m, &out, &out_len), EDGEC_STATUS_OK);
    edgec_model *m2;
    assert_int_equal(load_bytes(out, out_len, &m2), EDGEC_STATUS_OK);
    const Onnx__TensorProto *o = m2->graph->inits[0]->origin;
    assert_true(o->has_raw_data);
    assert_int_equal(o->n_float_data, 0);
    assert_true(((float *)m2->graph->inits[0]->data)[0] == 42.0f);
    /* A rename alone must reach the file too, with or without new data. */
    m2->graph->inits[0]->name = "W_renamed";
    void *out2;
    size_t out2_len;
    assert_int_equal(edgec_model_save_buffer(m2, &out2, &out2_len), EDGEC_STATUS_OK);
    assert_non_null(memmem(out2, out2_len, "W_renamed", 9));
    free(out2);
    assert_memory_equal((float *)m2->graph->inits[0]->data + 1, w_data + 1, 11 * sizeof(float));
    edgec_model_free(m2);
    free(out);
    edgec_model_free(m);
    free(buf);
    pbb_free(&b);
}

/* Loads `pm` and expects `want`, with a message naming `needle`. */
static void expect_refused(Onnx__ModelProto *pm, edgec_status want, const char *needle)
{
    size_t len;
    uint8_t *buf = pbb_pack(pm, &len);
    edgec_model *m = (edgec_model *)1;
    edgec_status st = load_bytes(buf, len, &m);
    if (st != want || !strstr(edgec_error_message(), needle))
        fail_msg("got %s '%s', wanted %s naming '%s'", edgec_status_name(st),
                 edgec_error_message(), edgec_status_name(want), needle);
    assert_null(m);
    free(buf);
}

static void test_raw_data_size_mismatch(void **state)
{
    (void)state;
    pbb b = {0};
    Onnx__ModelProto *pm = sample(&b);
    pm->graph->initializer[0]->raw_data.len = 40;
    expect_refused(pm, EDGEC_STATUS_INVALID_MODEL, "'W'");
    static float longer[13];
    pm->graph->initializer[0]->raw_data.data = (uint8_t *)longer;
    pm->graph->initializer[0]->raw_data.len = sizeof longer;
    expect_refused(pm, EDGEC_STATUS_INVALID_MODEL, "raw_data holds 52 bytes");
    pbb_free(&b);
}

static void test_bad_dims(void **state)
{
    (void)state;
    pbb b = {0};
    Onnx__ModelProto *pm = sample(&b);
    static const int64_t neg[2] = {4, -3};
    static const int64_t huge[3] = {INT64_C(1) << 40, INT64_C(1) << 40, 1 << 20};
    static int64_t deep[EDGEC_MAX_RANK + 1];
    pm->graph->initializer[0]->dims = (int64_t *)neg;
    expect_refused(pm, EDGEC_STATUS_INVALID_MODEL, "negative dim");
    pm->graph->initializer[0]->dims = (int64_t *)huge;
    pm->graph->initializer[0]->n_dims = 3;
    expect_refused(pm, EDGEC_STATUS_INVALID_MODEL, "overflows");
    for (int i = 0; i <= EDGEC_MAX_RANK; i++)
        deep[i] = 1;
    pm->graph->initializer[0]->dims = deep;
    pm->graph->initializer[0]->n_dims = EDGEC_MAX_RANK + 1;
    expect_refused(pm, EDGEC_STATUS_LIMIT, "rank 33");
    pbb_free(&b);
}

static void test_unknown_dtype(void **state)
{
    (void)state;
    pbb b = {0};
    Onnx__ModelProto *pm = sample(&b);
    pm->graph->initializer[0]->data_type = 99;
    expect_refused(pm, EDGEC_STATUS_INVALID_MODEL, "unknown data_type 99");
    pbb_free(&b);
}

static void test_external_data_needs_folder(void **state)
{
    (void)state;
    pbb b = {0};
    Onnx__ModelProto *pm = sample(&b);
    Onnx__TensorProto *w = pm->graph->initializer[0];
    Onnx__StringStringEntryProto loc = ONNX__STRING_STRING_ENTRY_PROTO__INIT;
    Onnx__StringStringEntryProto *kv[1] = {&loc};
    loc.key = "location";
    loc.value = "w.bin";
    w->has_raw_data = 0;
    w->n_external_data = 1;
    w->external_data = kv;
    w->has_data_location = 1;
    w->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    expect_refused(pm, EDGEC_STATUS_UNSAFE_PATH, "w.bin");
    pbb_free(&b);
}

/* Subgraphs nest If inside If; depth 32 is allowed, 33 is not. */
static Onnx__ModelProto *nested_ifs(pbb *b, int depth)
{
    Onnx__GraphProto *leaf = pbb_graph(b, "leaf");
    pbb_graph_io(b, leaf, NULL, pbb_value(b, "cond", 9, 0, NULL));
    Onnx__GraphProto *inner = leaf;
    for (int i = 0; i < depth; i++) {
        Onnx__GraphProto *g = pbb_graph(b, "level");
        Onnx__NodeProto *n = pbb_node(b, "If", "if", if_in, if_out);
        /* Only then_branch nests; sharing one subgraph in both would double the
         * encoded size at every level. */
        pbb_add_attr(b, n, pbb_attr_graph(b, "then_branch", inner));
        pbb_add_attr(b, n, pbb_attr_graph(b, "else_branch", leaf));
        pbb_graph_add_node(b, g, n);
        pbb_graph_io(b, g, pbb_value(b, "cond", 9, 0, NULL), NULL);
        inner = g;
    }
    return pbb_model(b, inner, 13);
}

static void test_subgraph_depth_limit(void **state)
{
    (void)state;
    pbb b = {0};
    size_t len;
    uint8_t *buf = pbb_pack(nested_ifs(&b, EDGEC_MAX_GRAPH_DEPTH), &len);
    edgec_model *m;
    assert_int_equal(load_bytes(buf, len, &m), EDGEC_STATUS_OK);
    edgec_model_free(m);
    free(buf);
    pbb_free(&b);
    expect_refused(nested_ifs(&b, EDGEC_MAX_GRAPH_DEPTH + 1), EDGEC_STATUS_LIMIT,
                   "deeper than 32");
    pbb_free(&b);
}

/* A varint-encoded length-delimited field: tag, length, then the body. */
static size_t put_len_field(uint8_t *p, unsigned field, size_t body_len)
{
    size_t n = 0;
    p[n++] = (uint8_t)(field << 3 | 2);
    do {
        uint8_t byte = body_len & 0x7f;
        body_len >>= 7;
        p[n++] = byte | (body_len ? 0x80 : 0);
    } while (body_len);
    return n;
}

static void test_protobuf_nesting_bomb(void **state)
{
    (void)state;
    /* graph { node { attribute { g { node { attribute { g ... } } } } } }: 3 messages a
     * level, built inside out; 200 levels is far past the limit. */
    enum { LEVELS = 200 };
    static uint8_t buf[LEVELS * 3 * 4 + 16], tmp[sizeof buf];
    size_t len = 0;
    for (int i = 0; i < LEVELS; i++) {
        static const unsigned fields[3] = {6, 5, 1}; /* g, attribute, node (inside out) */
        for (int k = 0; k < 3; k++) {
            size_t h = put_len_field(tmp, fields[k], len);
            memmove(buf + h, buf, len);
            memcpy(buf, tmp, h);
            len += h;
        }
    }
    size_t h = put_len_field(tmp, 7, len); /* ModelProto.graph */
    memmove(buf + h, buf, len);
    memcpy(buf, tmp, h);
    len += h;
    edgec_model *m;
    assert_int_equal(load_bytes(buf, len, &m), EDGEC_STATUS_LIMIT);
    assert_non_null(strstr(edgec_error_message(), "nested deeper"));
}

static void test_truncations_never_crash(void **state)
{
    (void)state;
    pbb b = {0};
    size_t len;
    uint8_t *buf = pbb_pack(sample(&b), &len);
    int refused = 0;
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1); /* exact size, so ASan sees overreads */
        memcpy(copy, buf, cut);
        edgec_model *m;
        edgec_status st = load_bytes(copy, cut, &m);
        if (st) {
            refused++;
            assert_true(*edgec_error_message());
            assert_true(edgec_status_exit_code(st) == 2);
        }
        edgec_model_free(m);
        free(copy);
    }
    /* Almost every prefix cuts a field; the few that end on a field boundary may parse. */
    assert_true(refused > (int)len * 9 / 10);
    free(buf);
    pbb_free(&b);
}

static void test_overlong_varint_and_bad_wire_type(void **state)
{
    (void)state;
    static const uint8_t overlong[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    edgec_model *m;
    assert_int_equal(load_bytes(overlong, sizeof overlong, &m), EDGEC_STATUS_INVALID_MODEL);
    assert_non_null(strstr(edgec_error_message(), "varint"));
    /* ModelProto.graph (7) written as a varint. */
    static const uint8_t wrong[] = {0x38, 0x01};
    assert_int_equal(load_bytes(wrong, sizeof wrong, &m), EDGEC_STATUS_INVALID_MODEL);
    assert_non_null(strstr(edgec_error_message(), "graph"));
    static const uint8_t empty[1] = {0};
    assert_int_equal(load_bytes(empty, 0, &m), EDGEC_STATUS_INVALID_MODEL);
    assert_non_null(strstr(edgec_error_message(), "empty"));
}

static void test_index_topo_and_cycles(void **state)
{
    (void)state;
    pbb b = {0};
    size_t len;
    Onnx__ModelProto *pm = sample(&b);
    uint8_t *buf = pbb_pack(pm, &len);
    edgec_model *m;
    assert_int_equal(load_bytes(buf, len, &m), EDGEC_STATUS_OK);
    edgec_graph_index *ix;
    assert_int_equal(edgec__graph_index(m->arena, m->graph, &ix), EDGEC_STATUS_OK);
    size_t n;
    edgec_node *const *topo = edgec__index_topo(ix, &n);
    assert_int_equal(n, 3);
    assert_string_equal(topo[0]->name, "const_b");
    assert_ptr_equal(edgec__index_producer(ix, "B"), m->graph->nodes[0]);
    assert_non_null(edgec__index_init(ix, "W"));
    edgec__index_consumers(ix, "X", &n);
    assert_int_equal(n, 1);
    /* Make the Constant consume Y, which Gemm makes from B: a cycle. */
    edgec_node *c = m->graph->nodes[0];
    static char *y_in[] = {"Y"};
    c->inputs = y_in;
    c->n_inputs = 1;
    assert_int_equal(edgec__graph_index(m->arena, m->graph, &ix), EDGEC_STATUS_INVALID_MODEL);
    assert_non_null(strstr(edgec_error_message(), "cycle"));
    edgec_model_free(m);
    free(buf);
    pbb_free(&b);
}

static void test_index_counts_captured_values(void **state)
{
    (void)state;
    /* main: If(cond){then: Identity(P) -> t} listed BEFORE Relu(X) -> P. P is read only
     * inside the branch, so the If must still come after Relu and count as P's consumer. */
    static const char *const id_in[] = {"P", NULL}, *const relu_in[] = {"X", NULL};
    static const char *const relu_out[] = {"P", NULL};
    pbb b = {0};
    Onnx__GraphProto *then = pbb_graph(&b, "then");
    pbb_graph_add_node(&b, then, pbb_node(&b, "Identity", "id", id_in, then_out));
    pbb_graph_io(&b, then, NULL, pbb_value(&b, "t", 1, 2, x_dims));
    Onnx__GraphProto *g = pbb_graph(&b, "main");
    Onnx__NodeProto *nif = pbb_node(&b, "If", "the_if", relu_in, if_out);
    pbb_add_attr(&b, nif, pbb_attr_graph(&b, "then_branch", then));
    pbb_add_attr(&b, nif, pbb_attr_graph(&b, "else_branch", then));
    pbb_graph_add_node(&b, g, nif);
    pbb_graph_add_node(&b, g, pbb_node(&b, "Relu", "relu", relu_in, relu_out));
    pbb_graph_io(&b, g, pbb_value(&b, "X", 1, 2, x_dims), pbb_value(&b, "Z", 1, 2, x_dims));
    size_t len;
    uint8_t *buf = pbb_pack(pbb_model(&b, g, 13), &len);
    edgec_model *m;
    assert_int_equal(load_bytes(buf, len, &m), EDGEC_STATUS_OK);
    edgec_graph_index *ix;
    assert_int_equal(edgec__graph_index(m->arena, m->graph, &ix), EDGEC_STATUS_OK);
    size_t n;
    edgec_node *const *consumers = edgec__index_consumers(ix, "P", &n);
    assert_int_equal(n, 1);
    assert_string_equal(consumers[0]->op_type, "If");
    edgec_node *const *topo = edgec__index_topo(ix, &n);
    assert_int_equal(n, 2);
    assert_string_equal(topo[0]->op_type, "Relu");
    assert_string_equal(topo[1]->op_type, "If");
    edgec_model_free(m);
    free(buf);
    pbb_free(&b);
}

static void test_structure_checked_at_load(void **state)
{
    (void)state;
    static const char *const ghost_in[] = {"X", "ghost", NULL}, *const add_out[] = {"Y", NULL};
    static const char *const a_in[] = {"X", "b", NULL}, *const a_out[] = {"a", NULL};
    static const char *const nb_in[] = {"a", NULL}, *const nb_out[] = {"b", NULL};
    pbb b = {0};
    /* A node reading a value nothing defines. */
    Onnx__GraphProto *g = pbb_graph(&b, "main");
    pbb_graph_add_node(&b, g, pbb_node(&b, "Add", "adder", ghost_in, add_out));
    pbb_graph_io(&b, g, pbb_value(&b, "X", 1, 2, x_dims), pbb_value(&b, "Y", 1, 2, x_dims));
    expect_refused(pbb_model(&b, g, 13), EDGEC_STATUS_INVALID_MODEL, "'adder' (Add) reads 'ghost'");
    /* The same value defined by two nodes. */
    pbb_graph_add_node(&b, g, pbb_node(&b, "Relu", "again", gemm_in, add_out));
    g->node[0]->input = (char **)gemm_in;
    expect_refused(pbb_model(&b, g, 13), EDGEC_STATUS_INVALID_MODEL, "already defined");
    /* A graph output nothing defines. */
    Onnx__GraphProto *g2 = pbb_graph(&b, "main");
    pbb_graph_io(&b, g2, pbb_value(&b, "X", 1, 2, x_dims), pbb_value(&b, "nowhere", 1, 2, x_dims));
    expect_refused(pbb_model(&b, g2, 13), EDGEC_STATUS_INVALID_MODEL, "graph output 'nowhere'");
    /* Two nodes feeding each other. */
    Onnx__GraphProto *g3 = pbb_graph(&b, "main");
    pbb_graph_add_node(&b, g3, pbb_node(&b, "Add", "na", a_in, a_out));
    pbb_graph_add_node(&b, g3, pbb_node(&b, "Relu", "nb", nb_in, nb_out));
    pbb_graph_io(&b, g3, pbb_value(&b, "X", 1, 2, x_dims), pbb_value(&b, "b", 1, 2, x_dims));
    expect_refused(pbb_model(&b, g3, 13), EDGEC_STATUS_INVALID_MODEL, "cycle");
    pbb_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_is_byte_identical),
        cmocka_unit_test(test_unknown_fields_survive),
        cmocka_unit_test(test_weights_found_everywhere),
        cmocka_unit_test(test_dirty_tensor_written_as_raw),
        cmocka_unit_test(test_raw_data_size_mismatch),
        cmocka_unit_test(test_bad_dims),
        cmocka_unit_test(test_unknown_dtype),
        cmocka_unit_test(test_external_data_needs_folder),
        cmocka_unit_test(test_subgraph_depth_limit),
        cmocka_unit_test(test_protobuf_nesting_bomb),
        cmocka_unit_test(test_truncations_never_crash),
        cmocka_unit_test(test_overlong_varint_and_bad_wire_type),
        cmocka_unit_test(test_index_topo_and_cycles),
        cmocka_unit_test(test_index_counts_captured_values),
        cmocka_unit_test(test_structure_checked_at_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
