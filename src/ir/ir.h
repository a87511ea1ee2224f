/* The in-memory graph that passes and the interpreter work on.
 *
 * src/onnx builds it from the file and writes it back; nothing outside src/onnx sees
 * protobuf-c types. Each object keeps an opaque `origin` (the message it was read from)
 * so that the writer can re-emit everything edgec does not model — unknown fields, doc
 * strings, metadata, types of value_info — unchanged. All memory belongs to the model's
 * arena: passes allocate there and drop references instead of freeing. */
#ifndef EDGEC_IR_H
#define EDGEC_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "edgec/model.h"

/* Hard limits checked while reading, before anything is allocated from them. */
#define EDGEC_MAX_RANK 32
#define EDGEC_MAX_GRAPH_DEPTH 32
/* Each subgraph level costs three message levels (GraphProto > NodeProto >
 * AttributeProto), and types nest a few more, so 32 subgraph levels need about 110.
 * protobuf-c recurses once per level; 160 levels stay far from the stack's limit. */
#define EDGEC_MAX_PROTO_DEPTH 160
/* The protobuf 2 GB limit; beyond it a model needs external data. */
#define EDGEC_PROTO_LIMIT ((uint64_t)2147483647)

/* ONNX TensorProto.DataType values. */
enum edgec_dtype {
    EDGEC_DTYPE_UNDEFINED = 0,
    EDGEC_DTYPE_FLOAT = 1,
    EDGEC_DTYPE_UINT8 = 2,
    EDGEC_DTYPE_INT8 = 3,
    EDGEC_DTYPE_UINT16 = 4,
    EDGEC_DTYPE_INT16 = 5,
    EDGEC_DTYPE_INT32 = 6,
    EDGEC_DTYPE_INT64 = 7,
    EDGEC_DTYPE_STRING = 8,
    EDGEC_DTYPE_BOOL = 9,
    EDGEC_DTYPE_FLOAT16 = 10,
    EDGEC_DTYPE_DOUBLE = 11,
    EDGEC_DTYPE_UINT32 = 12,
    EDGEC_DTYPE_UINT64 = 13,
    EDGEC_DTYPE_COMPLEX64 = 14,
    EDGEC_DTYPE_COMPLEX128 = 15,
    EDGEC_DTYPE_BFLOAT16 = 16,
    EDGEC_DTYPE_FLOAT8E4M3FN = 17,
    EDGEC_DTYPE_FLOAT8E4M3FNUZ = 18,
    EDGEC_DTYPE_FLOAT8E5M2 = 19,
    EDGEC_DTYPE_FLOAT8E5M2FNUZ = 20,
    EDGEC_DTYPE_UINT4 = 21,
    EDGEC_DTYPE_INT4 = 22,
    EDGEC_DTYPE_FLOAT4E2M1 = 23,
    EDGEC_DTYPE_COUNT
};

/* What edgec knows about each data type. `bits` is 0 for types without a fixed width
 * (STRING) and for unknown values. */
typedef struct edgec_dtype_traits {
    const char *name;
    uint8_t bits;
    bool is_float;
    bool is_signed;
} edgec_dtype_traits;

/* Traits of `dtype`, or of UNDEFINED (bits 0, name "UNDEFINED") for unknown values. */
const edgec_dtype_traits *edgec__dtype(int32_t dtype);

/* Bytes that `numel` elements of `dtype` occupy in raw form (sub-byte types packed, rounded
 * up). Returns false for types without a fixed width or on overflow. */
bool edgec__dtype_nbytes(int32_t dtype, int64_t numel, size_t *out);

/* Length-prefixed bytes, laid out exactly like ProtobufCBinaryData. */
typedef struct edgec_bytes {
    size_t len;
    uint8_t *data;
} edgec_bytes;

/* A constant tensor: an initializer, a Constant node's value, a tensor attribute. */
typedef struct edgec_tensor {
    const char *name; /* "" when unnamed (attribute tensors) */
    int32_t dtype;
    int32_t rank;
    int64_t *dims;
    int64_t numel;
    void *data;    /* raw little-endian elements, sub-byte types packed low nibble first;
                      NULL for STRING tensors, whose values stay in the origin message */
    size_t nbytes;
    const void *origin; /* the message as read; NULL for tensors a pass created */
    bool dirty;         /* dtype, dims or data changed: the writer re-encodes as raw_data */
    bool external;      /* the data was read from an external file */
} edgec_tensor;

/* A sparse tensor (sparse_initializer or a sparse attribute). */
typedef struct edgec_sparse {
    edgec_tensor *values;  /* [NNZ] */
    edgec_tensor *indices; /* [NNZ] linear or [NNZ, rank] INT64 */
    int32_t rank;
    int64_t *dims;
    const void *origin;
} edgec_sparse;

/* ONNX AttributeProto.AttributeType values. */
enum edgec_attr_type {
    EDGEC_ATTR_UNDEFINED = 0,
    EDGEC_ATTR_FLOAT = 1,
    EDGEC_ATTR_INT = 2,
    EDGEC_ATTR_STRING = 3,
    EDGEC_ATTR_TENSOR = 4,
    EDGEC_ATTR_GRAPH = 5,
    EDGEC_ATTR_FLOATS = 6,
    EDGEC_ATTR_INTS = 7,
    EDGEC_ATTR_STRINGS = 8,
    EDGEC_ATTR_TENSORS = 9,
    EDGEC_ATTR_GRAPHS = 10,
    EDGEC_ATTR_SPARSE_TENSOR = 11,
    EDGEC_ATTR_SPARSE_TENSORS = 12,
    EDGEC_ATTR_TYPE_PROTO = 13,
    EDGEC_ATTR_TYPE_PROTOS = 14
};

struct edgec_graph;

typedef struct edgec_attr {
    const char *name;
    int32_t type; /* enum edgec_attr_type */
    float f;
    int64_t i;
    edgec_bytes s;
    edgec_tensor *t;
    struct edgec_graph *g;
    edgec_sparse *sparse;
    size_t n; /* element count of the list below that `type` selects */
    float *floats;
    int64_t *ints;
    edgec_bytes *strings;
    edgec_tensor **tensors;
    struct edgec_graph **graphs;
    edgec_sparse **sparse_tensors;
    const char *ref_attr_name; /* set inside functions only */
    const void *origin;
} edgec_attr;

typedef struct edgec_node {
    const char *name; /* "" when unnamed */
    const char *op_type;
    const char *domain; /* "" for the default ONNX domain */
    size_t n_inputs, n_outputs;
    char **inputs;  /* "" marks an omitted optional input */
    char **outputs;
    size_t n_attrs;
    edgec_attr *attrs;
    struct edgec_graph *graph; /* the graph holding this node */
    const void *origin;
} edgec_node;

/* Type and shape of a graph input, output or intermediate value. */
typedef struct edgec_value_info {
    const char *name;
    int32_t elem_type;        /* 0 when unknown or not a tensor */
    int32_t rank;             /* -1 when the shape is unknown */
    int64_t *dims;            /* -1 for symbolic or unknown dims */
    const char **dim_params;  /* the symbol where a dim is symbolic, else NULL */
    const void *origin;
    bool dirty;               /* type changed: the writer builds a new ValueInfoProto */
} edgec_value_info;

typedef struct edgec_graph {
    const char *name;
    edgec_node **nodes;
    size_t n_nodes, cap_nodes;
    edgec_tensor **inits;
    size_t n_inits, cap_inits;
    edgec_sparse **sparse_inits;
    size_t n_sparse_inits;
    edgec_value_info *inputs, *outputs, *value_info;
    size_t n_inputs, n_outputs, n_value_info;
    struct edgec_graph *parent; /* NULL for the main graph */
    edgec_node *owner;          /* the If/Loop/Scan node whose attribute holds this graph */
    const char *owner_attr;     /* e.g. "then_branch" */
    int depth;                  /* 0 for the main graph */
    const void *origin;
} edgec_graph;

typedef struct edgec_opset {
    const char *domain;
    int64_t version;
    const void *origin;
} edgec_opset;

typedef struct edgec_meta {
    const char *key, *value;
    const void *origin;
} edgec_meta;

/* A file the model was read from, kept to refuse writing onto it. */
typedef struct edgec_file_id {
    uint64_t dev, ino;
    const char *path;
} edgec_file_id;

struct edgec_model {
    edgec_arena *arena;
    const char *path; /* as given by the caller, for messages */
    const char *dir;  /* folder that external data is resolved in, or NULL */
    int64_t ir_version;
    const char *producer_name, *producer_version, *domain; /* "" when absent */
    int64_t model_version;
    edgec_opset *opsets;
    size_t n_opsets;
    edgec_meta *meta;
    size_t n_meta;
    edgec_graph *graph;
    size_t n_functions; /* model-local functions, kept as read */
    edgec_file_id *files; /* [0] the model file (when read from a file), then external data */
    size_t n_files;
    bool had_external;  /* some tensor was read from external data */
    uint64_t file_size;
    void *names; /* every name in use, built by edgec__unique_name on first use */
    const void *origin;
};

/* Checks that every value is defined once, every node input and graph output is
 * defined in its graph or an enclosing one, and no graph has a cycle. INVALID_MODEL
 * naming the node and graph otherwise. */
edgec_status edgec__model_validate(edgec_model *m);

/* Version of the default ("" or "ai.onnx") opset the model imports, 0 if none. */
int64_t edgec__model_opset(const edgec_model *m, const char *domain);

/* Attribute `name` of `node`, or NULL. */
const edgec_attr *edgec__node_attr(const edgec_node *node, const char *name);

/* A place where a weight tensor lives. */
typedef enum edgec_weight_kind {
    EDGEC_WEIGHT_INITIALIZER,
    EDGEC_WEIGHT_SPARSE_INITIALIZER,
    EDGEC_WEIGHT_CONSTANT,        /* Constant node, attribute value */
    EDGEC_WEIGHT_CONSTANT_SPARSE, /* Constant node, attribute sparse_value */
    EDGEC_WEIGHT_CONSTANT_LIST    /* Constant node, value_floats / value_ints */
} edgec_weight_kind;

typedef struct edgec_weight {
    edgec_weight_kind kind;
    const char *name;      /* the value name consumers use */
    edgec_tensor *tensor;  /* dense form; NULL for sparse and list kinds */
    edgec_sparse *sparse;  /* for the sparse kinds */
    edgec_attr *attr;      /* for the Constant kinds */
    edgec_node *node;      /* the Constant node, for the Constant kinds */
    edgec_graph *graph;    /* the graph it belongs to */
    int32_t dtype;
    int32_t rank;
    const int64_t *dims;
    int64_t numel;
} edgec_weight;

/* Calls `fn` for every weight of the model: initializers, sparse initializers and
 * Constant nodes, in the main graph and in every subgraph at any depth, in a stable
 * order (graph order, depth first). Stops at the first non-OK status `fn` returns. */
typedef edgec_status (*edgec_weight_fn)(edgec_weight *w, void *ctx);
edgec_status edgec__model_weights(edgec_model *m, edgec_weight_fn fn, void *ctx);

/* Calls `fn` for the graph and every subgraph, parents before children. */
typedef edgec_status (*edgec_graph_fn)(edgec_graph *g, void *ctx);
edgec_status edgec__model_graphs(edgec_model *m, edgec_graph_fn fn, void *ctx);

/* Writes a path naming where `g` sits, e.g. "main" or "main/If 'cond'/then_branch". */
void edgec__graph_path(const edgec_graph *g, char *buf, size_t size);

/* Index of one graph: producers and consumers by name, and a topological order. */
typedef struct edgec_graph_index edgec_graph_index;

/* Builds the index in the model's arena. Fails with INVALID_MODEL, naming the node, when
 * a value has two producers or the nodes form a cycle. Names produced by an enclosing
 * graph count as defined (subgraphs capture outer values). */
edgec_status edgec__graph_index(edgec_arena *a, edgec_graph *g, edgec_graph_index **out);
/* The node producing `name`, or NULL for graph inputs, initializers and outer values. */
edgec_node *edgec__index_producer(const edgec_graph_index *ix, const char *name);
/* Nodes consuming `name` (as a direct input), and how many. */
edgec_node *const *edgec__index_consumers(const edgec_graph_index *ix, const char *name,
                                          size_t *count);
/* The nodes in an order where every producer comes before its consumers. */
edgec_node *const *edgec__index_topo(const edgec_graph_index *ix, size_t *count);
/* Initializer named `name` in this graph, or NULL. */
edgec_tensor *edgec__index_init(const edgec_graph_index *ix, const char *name);

#endif
