/* Builds small ONNX models with protobuf-c for the unit tests, so that each test states
 * its model in a few lines and gets the exact bytes a protobuf writer would produce. */
#ifndef EDGEC_TEST_PB_BUILDER_H
#define EDGEC_TEST_PB_BUILDER_H

#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"

/* Everything a builder allocates is released together by pbb_free. */
typedef struct pbb {
    void *ptrs[4096];
    size_t n;
} pbb;

static inline void *pbb_alloc(pbb *b, size_t size)
{
    void *p = calloc(1, size ? size : 1);
    b->ptrs[b->n++] = p;
    return p;
}

static inline void pbb_free(pbb *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->ptrs[i]);
    b->n = 0;
}

static inline Onnx__TensorProto *pbb_tensor(pbb *b, const char *name, int32_t dtype, size_t rank,
                                            const int64_t *dims, const void *raw, size_t nbytes)
{
    Onnx__TensorProto *t = pbb_alloc(b, sizeof *t);
    *t = (Onnx__TensorProto)ONNX__TENSOR_PROTO__INIT;
    t->name = (char *)name;
    t->has_data_type = 1;
    t->data_type = dtype;
    t->n_dims = rank;
    t->dims = (int64_t *)dims;
    if (raw) {
        t->has_raw_data = 1;
        t->raw_data.len = nbytes;
        t->raw_data.data = (uint8_t *)raw;
    }
    return t;
}

static inline Onnx__ValueInfoProto *pbb_value(pbb *b, const char *name, int32_t elem,
                                              size_t rank, const int64_t *dims)
{
    Onnx__ValueInfoProto *v = pbb_alloc(b, sizeof *v);
    Onnx__TypeProto *tp = pbb_alloc(b, sizeof *tp);
    Onnx__TypeProto__Tensor *tt = pbb_alloc(b, sizeof *tt);
    Onnx__TensorShapeProto *sh = pbb_alloc(b, sizeof *sh);
    Onnx__TensorShapeProto__Dimension **dp = pbb_alloc(b, (rank + 1) * sizeof *dp);
    *v = (Onnx__ValueInfoProto)ONNX__VALUE_INFO_PROTO__INIT;
    *tp = (Onnx__TypeProto)ONNX__TYPE_PROTO__INIT;
    *tt = (Onnx__TypeProto__Tensor)ONNX__TYPE_PROTO__TENSOR__INIT;
    *sh = (Onnx__TensorShapeProto)ONNX__TENSOR_SHAPE_PROTO__INIT;
    for (size_t i = 0; i < rank; i++) {
        Onnx__TensorShapeProto__Dimension *d = pbb_alloc(b, sizeof *d);
        *d = (Onnx__TensorShapeProto__Dimension)ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
        d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        d->dim_value = dims[i];
        dp[i] = d;
    }
    sh->n_dim = rank;
    sh->dim = dp;
    tt->has_elem_type = 1;
    tt->elem_type = elem;
    tt->shape = sh;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    v->name = (char *)name;
    v->type = tp;
    return v;
}

/* A node with up to 4 inputs and 2 outputs; NULL ends each list. */
static inline Onnx__NodeProto *pbb_node(pbb *b, const char *op, const char *name,
                                        const char *const *in, const char *const *out)
{
    Onnx__NodeProto *n = pbb_alloc(b, sizeof *n);
    *n = (Onnx__NodeProto)ONNX__NODE_PROTO__INIT;
    n->op_type = (char *)op;
    n->name = (char *)name;
    while (in && in[n->n_input])
        n->n_input++;
    while (out && out[n->n_output])
        n->n_output++;
    n->input = (char **)in;
    n->output = (char **)out;
    return n;
}

/* Appends `item` to a protobuf-c repeated message field (`*arr`, `*n`). */
static inline void pbb_append(pbb *b, void *arr, size_t *n, void *item)
{
    void ***field = arr;
    void **grown = pbb_alloc(b, (*n + 1) * sizeof *grown);
    if (*n)
        memcpy(grown, *field, *n * sizeof *grown);
    grown[(*n)++] = item;
    *field = grown;
}

static inline void pbb_add_attr(pbb *b, Onnx__NodeProto *n, Onnx__AttributeProto *a)
{
    pbb_append(b, &n->attribute, &n->n_attribute, a);
}

static inline Onnx__AttributeProto *pbb_attr_tensor(pbb *b, const char *name, Onnx__TensorProto *t)
{
    Onnx__AttributeProto *a = pbb_alloc(b, sizeof *a);
    *a = (Onnx__AttributeProto)ONNX__ATTRIBUTE_PROTO__INIT;
    a->name = (char *)name;
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
    a->t = t;
    return a;
}

static inline Onnx__AttributeProto *pbb_attr_graph(pbb *b, const char *name, Onnx__GraphProto *g)
{
    Onnx__AttributeProto *a = pbb_alloc(b, sizeof *a);
    *a = (Onnx__AttributeProto)ONNX__ATTRIBUTE_PROTO__INIT;
    a->name = (char *)name;
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH;
    a->g = g;
    return a;
}

static inline Onnx__GraphProto *pbb_graph(pbb *b, const char *name)
{
    Onnx__GraphProto *g = pbb_alloc(b, sizeof *g);
    *g = (Onnx__GraphProto)ONNX__GRAPH_PROTO__INIT;
    g->name = (char *)name;
    return g;
}

static inline void pbb_graph_add_node(pbb *b, Onnx__GraphProto *g, Onnx__NodeProto *n)
{
    pbb_append(b, &g->node, &g->n_node, n);
}

static inline void pbb_graph_add_init(pbb *b, Onnx__GraphProto *g, Onnx__TensorProto *t)
{
    pbb_append(b, &g->initializer, &g->n_initializer, t);
}

static inline void pbb_graph_io(pbb *b, Onnx__GraphProto *g, Onnx__ValueInfoProto *in,
                                Onnx__ValueInfoProto *out)
{
    if (in) {
        g->input = pbb_alloc(b, sizeof *g->input);
        g->input[0] = in;
        g->n_input = 1;
    }
    if (out) {
        g->output = pbb_alloc(b, sizeof *g->output);
        g->output[0] = out;
        g->n_output = 1;
    }
}

static inline Onnx__ModelProto *pbb_model(pbb *b, Onnx__GraphProto *g, int64_t opset)
{
    Onnx__ModelProto *m = pbb_alloc(b, sizeof *m);
    Onnx__OperatorSetIdProto *os = pbb_alloc(b, sizeof *os);
    *m = (Onnx__ModelProto)ONNX__MODEL_PROTO__INIT;
    *os = (Onnx__OperatorSetIdProto)ONNX__OPERATOR_SET_ID_PROTO__INIT;
    os->domain = "";
    os->has_version = 1;
    os->version = opset;
    m->has_ir_version = 1;
    m->ir_version = 8;
    m->producer_name = "edgec-tests";
    m->n_opset_import = 1;
    m->opset_import = pbb_alloc(b, sizeof *m->opset_import);
    m->opset_import[0] = os;
    m->graph = g;
    return m;
}

/* Packs into a malloc'ed buffer the caller frees. */
static inline uint8_t *pbb_pack(const Onnx__ModelProto *m, size_t *len)
{
    *len = onnx__model_proto__get_packed_size(m);
    uint8_t *buf = malloc(*len ? *len : 1);
    onnx__model_proto__pack(m, buf);
    return buf;
}

#endif
