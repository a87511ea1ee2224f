/* Editing the graph: the helpers passes use to add nodes, weights and attributes,
 * rewire inputs, and find the constant behind a node input. Everything is allocated in
 * the model's arena. */
#ifndef EDGEC_EDIT_H
#define EDGEC_EDIT_H

#include "ir/ir.h"

/* A fresh tensor with zeroed data (`dims` copied). */
edgec_tensor *edgec__tensor_new(edgec_model *m, const char *name, int32_t dtype, int32_t rank,
                                const int64_t *dims);

/* Replaces a tensor's type, shape and data (`data` must live in the model's arena or
 * longer) and marks it for re-encoding. */
void edgec__tensor_replace(edgec_tensor *t, int32_t dtype, int32_t rank, const int64_t *dims,
                           void *data, size_t nbytes);

/* A name no value, node or tensor of the model uses yet, built from `base` (e.g.
 * "fc1.weight_quantized", then "fc1.weight_quantized_1", ...). */
const char *edgec__unique_name(edgec_model *m, const char *base);

/* A new node with room for the given inputs and outputs (all ""), in no graph yet. */
edgec_node *edgec__node_new(edgec_model *m, const char *op_type, const char *name, size_t n_inputs,
                            size_t n_outputs);

/* Inserts `n` into `g` at position `pos` (n_nodes appends). Nodes need not be in
 * topological order in memory; the writer keeps the order given here, so insert
 * producers before their consumers. */
edgec_status edgec__graph_insert(edgec_model *m, edgec_graph *g, size_t pos, edgec_node *n);

/* Removes nodes for which `drop` returns true, keeping the others' order. */
void edgec__graph_remove_nodes(edgec_graph *g, bool (*drop)(const edgec_node *n, void *ctx),
                               void *ctx);

/* Appends an initializer to `g`. */
edgec_status edgec__graph_add_init(edgec_model *m, edgec_graph *g, edgec_tensor *t);

/* Removes initializers for which `drop` returns true. */
void edgec__graph_remove_inits(edgec_graph *g, bool (*drop)(const edgec_tensor *t, void *ctx),
                               void *ctx);

/* Sets (adding or replacing) a node attribute. */
edgec_status edgec__attr_set_int(edgec_model *m, edgec_node *n, const char *name, int64_t v);
edgec_status edgec__attr_set_float(edgec_model *m, edgec_node *n, const char *name, float v);
edgec_status edgec__attr_set_ints(edgec_model *m, edgec_node *n, const char *name,
                                  const int64_t *v, size_t count);
edgec_status edgec__attr_set_string(edgec_model *m, edgec_node *n, const char *name,
                                    const char *v);
edgec_status edgec__attr_set_tensor(edgec_model *m, edgec_node *n, const char *name,
                                    edgec_tensor *t);
/* Removes an attribute if present. */
void edgec__attr_remove(edgec_node *n, const char *name);

/* Sets input `i` of `n` to `name`, growing the input list (with "" entries) as needed. */
edgec_status edgec__node_set_input(edgec_model *m, edgec_node *n, size_t i, const char *name);

/* Whether `name` is one of `g`'s graph inputs, or one of its graph outputs. */
bool edgec__graph_is_input(const edgec_graph *g, const char *name);
bool edgec__graph_is_output(const edgec_graph *g, const char *name);

/* References of value `name` in `g` and in every subgraph below it, plus `g`'s graph
 * outputs; a name shadowed below only adds to the count, which errs on the side of
 * leaving a value alone. */
size_t edgec__value_uses(const edgec_graph *g, const char *name);

/* The graph input, output or value_info entry describing `name` in `g`, or NULL. */
edgec_value_info *edgec__graph_value_info(edgec_graph *g, const char *name);

/* Finds the constant that value `name` holds as seen from graph `g`: an initializer of
 * `g` or of an enclosing graph, or the output of a Constant node in `g` or an enclosing
 * graph (dense `value` tensors only). Returns false when `name` is computed, or is a
 * graph input that the caller may override (an initializer that is also a graph input
 * counts as constant only when `allow_overridable`). */
bool edgec__find_const(edgec_model *m, edgec_graph *g, const char *name, bool allow_overridable,
                       edgec_weight *out);

/* Sets the version of the default ONNX opset (adding the import when missing). Callers
 * check that every op keeps its meaning at the new version. */
edgec_status edgec__model_set_opset(edgec_model *m, int64_t version);

/* Sets (adding or replacing) a metadata_props entry. */
edgec_status edgec__model_set_meta(edgec_model *m, const char *key, const char *value);

#endif
