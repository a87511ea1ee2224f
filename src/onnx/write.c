/* From the IR back to protobuf-c messages.
 *
 * Every message is a shallow copy of the one it was read from, with the fields edgec
 * models replaced by the IR's values. Unknown fields, doc strings, metadata and the
 * parts edgec does not model therefore come out exactly as they went in, and nothing
 * large is copied: tensor bytes are shared with the IR. Messages for objects a pass
 * created start from the protobuf-c initializer. */
#include <stdio.h>
#include <string.h>

#include "onnx/onnx_internal.h"
#include "onnx/ext_writer.h"

typedef struct writer {
    edgec_model *m;
    edgec_arena *a;
    edgec_ext_writer *ext;
} writer;

#define NOMEM() edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory while writing the model")

/* Keeps the original pointer when the text is unchanged, so that an absent field stays
 * absent and a present empty one stays present. */
static char *keep_str(const char *ir, char *orig)
{
    const char *o = orig ? orig : "";
    if (!strcmp(ir, o))
        return orig;
    return (char *)ir;
}

static void *alloc_array(writer *w, size_t n, size_t size)
{
    return edgec__arena_calloc(w->a, n ? n : 1, size);
}

static edgec_status write_tensor(writer *w, edgec_tensor *t, Onnx__TensorProto **out)
{
    const Onnx__TensorProto *orig = t->origin;
    bool to_ext = w->ext && t->dtype != EDGEC_DTYPE_STRING &&
                  t->nbytes >= edgec__ext_writer_min_bytes(w->ext);
    bool renamed = orig && strcmp(t->name, orig->name ? orig->name : "");
    if (orig && !t->dirty && !t->external && !to_ext && !renamed) {
        *out = (Onnx__TensorProto *)orig;
        return EDGEC_STATUS_OK;
    }
    Onnx__TensorProto *p = edgec__arena_alloc(w->a, sizeof *p);
    if (!p)
        return NOMEM();
    if (orig) {
        *p = *orig;
        p->name = keep_str(t->name, orig->name);
        if (!t->dirty && !t->external && !to_ext) {
            *out = p; /* only the name changed: keep the original encoding */
            return EDGEC_STATUS_OK;
        }
    } else {
        *p = (Onnx__TensorProto)ONNX__TENSOR_PROTO__INIT;
        p->name = (char *)t->name;
    }
    if (t->dtype == EDGEC_DTYPE_STRING) {
        *out = p; /* strings are never re-encoded */
        return EDGEC_STATUS_OK;
    }
    p->n_dims = (size_t)t->rank;
    p->dims = t->dims;
    p->has_data_type = 1;
    p->data_type = t->dtype;
    p->n_float_data = p->n_int32_data = p->n_int64_data = 0;
    p->n_double_data = p->n_uint64_data = p->n_string_data = 0;
    p->n_external_data = 0;
    p->external_data = NULL;
    p->has_data_location = 0;
    p->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__DEFAULT;
    if (to_ext) {
        uint64_t off;
        edgec_status st = edgec__ext_writer_put(w->ext, t->data, t->nbytes, &off);
        if (st)
            return st;
        Onnx__StringStringEntryProto **kv = alloc_array(w, 3, sizeof *kv);
        Onnx__StringStringEntryProto *e = alloc_array(w, 3, sizeof *e);
        char *num = edgec__arena_alloc(w->a, 48);
        if (!kv || !e || !num)
            return NOMEM();
        snprintf(num, 24, "%llu", (unsigned long long)off);
        snprintf(num + 24, 24, "%zu", t->nbytes);
        const char *keys[3] = {"location", "offset", "length"};
        const char *vals[3] = {edgec__ext_writer_location(w->ext), num, num + 24};
        for (int i = 0; i < 3; i++) {
            e[i] = (Onnx__StringStringEntryProto)ONNX__STRING_STRING_ENTRY_PROTO__INIT;
            e[i].key = (char *)keys[i];
            e[i].value = (char *)vals[i];
            kv[i] = &e[i];
        }
        p->external_data = kv;
        p->n_external_data = 3;
        p->has_data_location = 1;
        p->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
        p->has_raw_data = 0;
        p->raw_data = (ProtobufCBinaryData){0, NULL};
    } else {
        p->has_raw_data = 1;
        p->raw_data = (ProtobufCBinaryData){t->nbytes, t->data};
    }
    *out = p;
    return EDGEC_STATUS_OK;
}

static edgec_status write_sparse(writer *w, edgec_sparse *s, Onnx__SparseTensorProto **out)
{
    Onnx__SparseTensorProto *p = edgec__arena_alloc(w->a, sizeof *p);
    if (!p)
        return NOMEM();
    if (s->origin)
        *p = *(const Onnx__SparseTensorProto *)s->origin;
    else
        *p = (Onnx__SparseTensorProto)ONNX__SPARSE_TENSOR_PROTO__INIT;
    p->n_dims = (size_t)s->rank;
    p->dims = s->dims;
    edgec_status st = write_tensor(w, s->values, &p->values);
    if (!st)
        st = write_tensor(w, s->indices, &p->indices);
    *out = p;
    return st;
}

static edgec_status write_graph(writer *w, edgec_graph *g, Onnx__GraphProto **out);

static edgec_status write_attr(writer *w, edgec_attr *at, Onnx__AttributeProto **out)
{
    Onnx__AttributeProto *p = edgec__arena_alloc(w->a, sizeof *p);
    if (!p)
        return NOMEM();
    const Onnx__AttributeProto *orig = at->origin;
    if (orig) {
        *p = *orig;
        p->name = keep_str(at->name, orig->name);
    } else {
        *p = (Onnx__AttributeProto)ONNX__ATTRIBUTE_PROTO__INIT;
        p->name = (char *)at->name;
        p->has_type = 1;
        p->type = (Onnx__AttributeProto__AttributeType)at->type;
        p->has_f = at->type == EDGEC_ATTR_FLOAT;
        p->has_i = at->type == EDGEC_ATTR_INT;
        p->has_s = at->type == EDGEC_ATTR_STRING;
    }
    if (orig && orig->has_type && (int32_t)orig->type != at->type)
        p->type = (Onnx__AttributeProto__AttributeType)at->type;
    p->f = at->f;
    p->i = at->i;
    p->s = (ProtobufCBinaryData){at->s.len, at->s.data};
    edgec_status st = EDGEC_STATUS_OK;
    p->t = NULL;
    p->g = NULL;
    p->sparse_tensor = NULL;
    if (at->t && (st = write_tensor(w, at->t, &p->t)))
        return st;
    if (at->g && (st = write_graph(w, at->g, &p->g)))
        return st;
    if (at->sparse && (st = write_sparse(w, at->sparse, &p->sparse_tensor)))
        return st;
    p->n_floats = at->type == EDGEC_ATTR_FLOATS ? at->n : 0;
    p->floats = at->floats;
    p->n_ints = at->type == EDGEC_ATTR_INTS ? at->n : 0;
    p->ints = at->ints;
    p->n_strings = at->type == EDGEC_ATTR_STRINGS ? at->n : 0;
    p->strings = (ProtobufCBinaryData *)at->strings;
    p->n_tensors = at->type == EDGEC_ATTR_TENSORS ? at->n : 0;
    p->n_graphs = at->type == EDGEC_ATTR_GRAPHS ? at->n : 0;
    p->n_sparse_tensors = at->type == EDGEC_ATTR_SPARSE_TENSORS ? at->n : 0;
    if (p->n_tensors) {
        if (!(p->tensors = alloc_array(w, p->n_tensors, sizeof *p->tensors)))
            return NOMEM();
        for (size_t i = 0; i < p->n_tensors; i++)
            if ((st = write_tensor(w, at->tensors[i], &p->tensors[i])))
                return st;
    }
    if (p->n_graphs) {
        if (!(p->graphs = alloc_array(w, p->n_graphs, sizeof *p->graphs)))
            return NOMEM();
        for (size_t i = 0; i < p->n_graphs; i++)
            if ((st = write_graph(w, at->graphs[i], &p->graphs[i])))
                return st;
    }
    if (p->n_sparse_tensors) {
        if (!(p->sparse_tensors = alloc_array(w, p->n_sparse_tensors, sizeof *p->sparse_tensors)))
            return NOMEM();
        for (size_t i = 0; i < p->n_sparse_tensors; i++)
            if ((st = write_sparse(w, at->sparse_tensors[i], &p->sparse_tensors[i])))
                return st;
    }
    *out = p;
    return EDGEC_STATUS_OK;
}

static edgec_status write_node(writer *w, edgec_node *n, Onnx__NodeProto **out)
{
    Onnx__NodeProto *p = edgec__arena_alloc(w->a, sizeof *p);
    if (!p)
        return NOMEM();
    const Onnx__NodeProto *orig = n->origin;
    if (orig) {
        *p = *orig;
        p->name = keep_str(n->name, orig->name);
        p->op_type = keep_str(n->op_type, orig->op_type);
        p->domain = keep_str(n->domain, orig->domain);
    } else {
        *p = (Onnx__NodeProto)ONNX__NODE_PROTO__INIT;
        p->name = *n->name ? (char *)n->name : NULL;
        p->op_type = (char *)n->op_type;
        p->domain = *n->domain ? (char *)n->domain : NULL;
    }
    p->n_input = n->n_inputs;
    p->input = n->inputs;
    p->n_output = n->n_outputs;
    p->output = n->outputs;
    p->n_attribute = n->n_attrs;
    if (n->n_attrs && !(p->attribute = alloc_array(w, n->n_attrs, sizeof *p->attribute)))
        return NOMEM();
    for (size_t i = 0; i < n->n_attrs; i++) {
        edgec_status st = write_attr(w, &n->attrs[i], &p->attribute[i]);
        if (st)
            return st;
    }
    *out = p;
    return EDGEC_STATUS_OK;
}

static edgec_status write_value_info(writer *w, edgec_value_info *v, Onnx__ValueInfoProto **out)
{
    const Onnx__ValueInfoProto *orig = v->origin;
    if (orig && !v->dirty) {
        *out = (Onnx__ValueInfoProto *)orig;
        return EDGEC_STATUS_OK;
    }
    Onnx__ValueInfoProto *p = edgec__arena_alloc(w->a, sizeof *p);
    Onnx__TypeProto *tp = edgec__arena_alloc(w->a, sizeof *tp);
    Onnx__TypeProto__Tensor *tt = edgec__arena_alloc(w->a, sizeof *tt);
    if (!p || !tp || !tt)
        return NOMEM();
    if (orig)
        *p = *orig;
    else
        *p = (Onnx__ValueInfoProto)ONNX__VALUE_INFO_PROTO__INIT;
    p->name = (char *)v->name;
    *tp = (Onnx__TypeProto)ONNX__TYPE_PROTO__INIT;
    *tt = (Onnx__TypeProto__Tensor)ONNX__TYPE_PROTO__TENSOR__INIT;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    tt->has_elem_type = 1;
    tt->elem_type = v->elem_type;
    if (v->rank >= 0) {
        Onnx__TensorShapeProto *sh = edgec__arena_alloc(w->a, sizeof *sh);
        Onnx__TensorShapeProto__Dimension **dp = alloc_array(w, (size_t)v->rank, sizeof *dp);
        Onnx__TensorShapeProto__Dimension *d = alloc_array(w, (size_t)v->rank, sizeof *d);
        if (!sh || !dp || !d)
            return NOMEM();
        *sh = (Onnx__TensorShapeProto)ONNX__TENSOR_SHAPE_PROTO__INIT;
        for (int32_t i = 0; i < v->rank; i++) {
            d[i] = (Onnx__TensorShapeProto__Dimension)ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
            if (v->dims[i] >= 0) {
                d[i].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
                d[i].dim_value = v->dims[i];
            } else if (v->dim_params && v->dim_params[i]) {
                d[i].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
                d[i].dim_param = (char *)v->dim_params[i];
            }
            dp[i] = &d[i];
        }
        sh->n_dim = (size_t)v->rank;
        sh->dim = dp;
        tt->shape = sh;
    }
    p->type = tp;
    *out = p;
    return EDGEC_STATUS_OK;
}

static edgec_status write_value_infos(writer *w, edgec_value_info *v, size_t n,
                                      Onnx__ValueInfoProto ***out)
{
    *out = NULL;
    if (!n)
        return EDGEC_STATUS_OK;
    Onnx__ValueInfoProto **arr = alloc_array(w, n, sizeof *arr);
    if (!arr)
        return NOMEM();
    for (size_t i = 0; i < n; i++) {
        edgec_status st = write_value_info(w, &v[i], &arr[i]);
        if (st)
            return st;
    }
    *out = arr;
    return EDGEC_STATUS_OK;
}

static edgec_status write_graph(writer *w, edgec_graph *g, Onnx__GraphProto **out)
{
    Onnx__GraphProto *p = edgec__arena_alloc(w->a, sizeof *p);
    if (!p)
        return NOMEM();
    const Onnx__GraphProto *orig = g->origin;
    if (orig) {
        *p = *orig;
        p->name = keep_str(g->name, orig->name);
    } else {
        *p = (Onnx__GraphProto)ONNX__GRAPH_PROTO__INIT;
        p->name = (char *)g->name;
    }
    edgec_status st;
    p->n_node = g->n_nodes;
    if (g->n_nodes && !(p->node = alloc_array(w, g->n_nodes, sizeof *p->node)))
        return NOMEM();
    for (size_t i = 0; i < g->n_nodes; i++)
        if ((st = write_node(w, g->nodes[i], &p->node[i])))
            return st;
    p->n_initializer = g->n_inits;
    if (g->n_inits && !(p->initializer = alloc_array(w, g->n_inits, sizeof *p->initializer)))
        return NOMEM();
    for (size_t i = 0; i < g->n_inits; i++)
        if ((st = write_tensor(w, g->inits[i], &p->initializer[i])))
            return st;
    p->n_sparse_initializer = g->n_sparse_inits;
    if (g->n_sparse_inits &&
        !(p->sparse_initializer = alloc_array(w, g->n_sparse_inits, sizeof *p->sparse_initializer)))
        return NOMEM();
    for (size_t i = 0; i < g->n_sparse_inits; i++)
        if ((st = write_sparse(w, g->sparse_inits[i], &p->sparse_initializer[i])))
            return st;
    p->n_input = g->n_inputs;
    p->n_output = g->n_outputs;
    p->n_value_info = g->n_value_info;
    if ((st = write_value_infos(w, g->inputs, g->n_inputs, &p->input)) ||
        (st = write_value_infos(w, g->outputs, g->n_outputs, &p->output)) ||
        (st = write_value_infos(w, g->value_info, g->n_value_info, &p->value_info)))
        return st;
    *out = p;
    return EDGEC_STATUS_OK;
}

edgec_status edgec__proto_from_ir(edgec_model *m, edgec_ext_writer *ext, Onnx__ModelProto **out)
{
    writer w = {m, m->arena, ext};
    Onnx__ModelProto *p = edgec__arena_alloc(m->arena, sizeof *p);
    if (!p)
        return NOMEM();
    const Onnx__ModelProto *orig = m->origin;
    if (orig)
        *p = *orig;
    else
        *p = (Onnx__ModelProto)ONNX__MODEL_PROTO__INIT;
    if (!orig || orig->ir_version != m->ir_version) {
        p->has_ir_version = 1;
        p->ir_version = m->ir_version;
    }
    p->n_opset_import = m->n_opsets;
    if (m->n_opsets && !(p->opset_import = alloc_array(&w, m->n_opsets, sizeof *p->opset_import)))
        return NOMEM();
    for (size_t i = 0; i < m->n_opsets; i++) {
        const Onnx__OperatorSetIdProto *o = m->opsets[i].origin;
        if (o && o->version == m->opsets[i].version && !strcmp(o->domain ? o->domain : "", m->opsets[i].domain)) {
            p->opset_import[i] = (Onnx__OperatorSetIdProto *)o;
            continue;
        }
        Onnx__OperatorSetIdProto *n = edgec__arena_alloc(m->arena, sizeof *n);
        if (!n)
            return NOMEM();
        *n = (Onnx__OperatorSetIdProto)ONNX__OPERATOR_SET_ID_PROTO__INIT;
        n->domain = (char *)m->opsets[i].domain;
        n->has_version = 1;
        n->version = m->opsets[i].version;
        p->opset_import[i] = n;
    }
    p->n_metadata_props = m->n_meta;
    if (m->n_meta && !(p->metadata_props = alloc_array(&w, m->n_meta, sizeof *p->metadata_props)))
        return NOMEM();
    for (size_t i = 0; i < m->n_meta; i++) {
        const Onnx__StringStringEntryProto *o = m->meta[i].origin;
        if (o && !strcmp(o->key ? o->key : "", m->meta[i].key) &&
            !strcmp(o->value ? o->value : "", m->meta[i].value)) {
            p->metadata_props[i] = (Onnx__StringStringEntryProto *)o;
            continue;
        }
        Onnx__StringStringEntryProto *n = edgec__arena_alloc(m->arena, sizeof *n);
        if (!n)
            return NOMEM();
        *n = (Onnx__StringStringEntryProto)ONNX__STRING_STRING_ENTRY_PROTO__INIT;
        n->key = (char *)m->meta[i].key;
        n->value = (char *)m->meta[i].value;
        p->metadata_props[i] = n;
    }
    edgec_status st = write_graph(&w, m->graph, &p->graph);
    *out = p;
    return st;
}
