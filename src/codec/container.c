/* The .edgec container writer and reader (docs/FORMAT.md; the layout is summarized in
 * decoder/edgec_decode.h, whose decoder this file uses to read tensors back, so that the
 * host and the firmware share one decoding path). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "codec/codec.h"
#include "common/outfile.h"
#include "data/data_internal.h"
#include "edgec/container.h"
#include "ir/ir.h"
#include "../../decoder/edgec_decode.h"

#define HEADER_SIZE 24
/* Containers are addressed with 32-bit offsets; protobuf stops at 2 GB anyway. */
#define CONTAINER_LIMIT ((uint64_t)UINT32_MAX)
/* The most a record takes before its name: dtype, form, rank, 16 dims, raw_size and
 * payload_size as varints, the CRC, the name length. */
#define RECORD_MAX (3 + 5 * (EDGEC_CODEC_MAX_RANK + 2) + 4 + 5)

/* Format 4.1: the model section's zlib stream is compressed with this text, then the
 * directory, as preset dictionary. It holds the words serialized ONNX models repeat:
 * operator, attribute and exporter names, and the names edgec's own passes give. It is
 * part of the format: changing it needs a new version. */
static const char model_dictionary[] =
    "ai.onnx.ml com.microsoft ai.onnx.preview.training onnx.quantize tf2onnx keras2onnx "
    "skl2onnx onnxruntime pytorch 2.1.0 1.13.0 producer_version "
    "Abs Acos ArgMax ArgMin Ceil Celu Col2Im Compress CumSum DepthToSpace Det Einsum Elu "
    "EyeLike Floor GatherElements GatherND GridSample Hardmax IsNaN LRN LpNormalization "
    "MaxRoiPool MaxUnpool Mish NonMaxSuppression NonZero OneHot RandomNormal ReduceL2 "
    "ReduceLogSumExp ReduceMax ReduceMin ReduceProd Reciprocal RoiAlign Round ScatterElements "
    "ScatterND Selu Shrink Sign Sin Cos Softplus Softsign SpaceToDepth ThresholdedRelu TopK "
    "Trilu Unique Xor Or And Neg Exp Log Max Min Mean Sum Mod PRelu Gelu "
    "If Loop Scan LSTM GRU RNN then_branch else_branch body direction hidden_size "
    "activations clip input_forget layout linear_before_reset "
    "MaxPool AveragePool GlobalMaxPool Softmax LogSoftmax Sigmoid Tanh LeakyRelu Clip "
    "HardSigmoid HardSwish Transpose Reshape Squeeze Unsqueeze Concat Split Slice Shape "
    "Expand Tile Pad Resize Upsample Identity Dropout LayerNormalization "
    "InstanceNormalization GroupNormalization ReduceMean ReduceSum Pow Sqrt Div Mul Sub Erf "
    "Where Equal Greater Less Not ConstantOfShape Range Size CastLike BitShift "
    "coordinate_transformation_mode cubic_coeff_a nearest_mode half_pixel asymmetric "
    "epsilon momentum perm keepdims axes auto_pad ceil_mode count_include_pad storage_order "
    "mode value starts ends steps split num_outputs noop_with_empty_axes allowzero "
    "block_size output_dtype saturate largest sorted training_mode value_float value_ints "
    "QuantizeLinear QLinearConv QLinearMatMul MatMulInteger ConvInteger "
    "DynamicQuantizeLinear _zero_point _quantized _scale _lowrank_a _lowrank_b "
    "_dequantized _DequantizeLinear DequantizeLinear _codebook _indices_i32 _indices "
    "_cast Cast to _gather Gather Constant /Constant_output_0 "
    "edgec.version edgec.options --prune= --prune-structured= --nm= --int8 --int4 "
    "--svd= --cluster= 0.1.0 torch_jit main_graph "
    "weight bias running_mean running_var input output logits /Flatten_output_0 Flatten "
    "axis /Add_output_0 Add MatMul BatchNormalization_output_0 BatchNormalization Conv "
    "dilations group kernel_shape pads strides _output_0 /Relu Relu Gemm alpha beta "
    "transA transB ";

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v);
    put16(p + 2, v >> 16);
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    for (; v >= 0x80; v >>= 7)
        p[n++] = (uint8_t)(v | 0x80);
    p[n++] = (uint8_t)v;
    return n;
}

static uint32_t crc32_of(const void *data, size_t len)
{
    /* zlib's crc32 takes a uInt length: feed large buffers in pieces. */
    uLong crc = crc32(0L, Z_NULL, 0);
    const Bytef *p = data;
    while (len) {
        uInt n = len > (1u << 30) ? 1u << 30 : (uInt)len;
        crc = crc32(crc, p, n);
        p += n;
        len -= n;
    }
    return (uint32_t)crc;
}

/* Format 4.3: the bytes of a whole TensorProto up to its raw_data's contents: its length
 * prefix, then dims, data_type, the name when `name` is not NULL, and raw_data's tag and
 * length, as protobuf-c serializes them. Returns the count; writes them when `out` is
 * not NULL (it needs 32 + 11 * rank + name_len bytes). */
static size_t whole_head(const uint32_t *dims, int rank, uint32_t dtype, const uint8_t *name,
                         size_t name_len, uint64_t raw_len, uint8_t *out)
{
    uint8_t tmp[16];
    size_t fields = 0, n = 0;
    for (int k = 0; k < rank; k++)
        fields += 1 + put_varint(tmp, dims[k]);
    fields += 1 + put_varint(tmp, dtype);
    if (name)
        fields += 1 + put_varint(tmp, name_len) + name_len;
    fields += 1 + put_varint(tmp, raw_len);
    n = put_varint(out ? out : tmp, fields + raw_len);
    if (!out)
        return n + fields;
    for (int k = 0; k < rank; k++) {
        out[n++] = 0x08; /* dims: field 1, varint */
        n += put_varint(out + n, dims[k]);
    }
    out[n++] = 0x10; /* data_type: field 2, varint */
    n += put_varint(out + n, dtype);
    if (name) {
        out[n++] = 0x42; /* name: field 8, bytes */
        n += put_varint(out + n, name_len);
        memcpy(out + n, name, name_len);
        n += name_len;
    }
    out[n++] = 0x4a; /* raw_data: field 9, bytes */
    n += put_varint(out + n, raw_len);
    return n;
}

/* Whether the tensor's whole TensorProto is exactly what whole_head and its raw bytes
 * rebuild, so that the container can cut it out entirely. */
static bool is_whole(const uint8_t *src, const edgec_wire_tensor *t)
{
    const uint8_t *name = t->own_name ? t->name : NULL;
    size_t n = whole_head(t->dims, t->rank, (uint32_t)t->dtype, name, t->name_len, t->len, NULL);
    if (t->off + t->len != t->end || t->off - t->head != n)
        return false;
    uint8_t *buf = malloc(n);
    bool same = buf && whole_head(t->dims, t->rank, (uint32_t)t->dtype, name, t->name_len,
                                  t->len, buf) == n && !memcmp(buf, src + t->head, n);
    free(buf);
    return same;
}

/* The preset dictionary of the model section: the fixed text, then the directory; only
 * the last 32 kB of it can be referenced. */
static edgec_status model_dict(const uint8_t *dir, size_t dir_len, uint8_t **out, size_t *len)
{
    size_t fixed = sizeof model_dictionary - 1, total = fixed + dir_len;
    size_t skip = total > 32768 ? total - 32768 : 0;
    uint8_t *d = malloc(total - skip ? total - skip : 1);
    if (!d)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    if (skip < fixed)
        memcpy(d, model_dictionary + skip, fixed - skip);
    memcpy(d + (skip < fixed ? fixed - skip : 0), dir + (skip > fixed ? skip - fixed : 0),
           skip > fixed ? dir_len - (skip - fixed) : dir_len);
    *out = d;
    *len = total - skip;
    return EDGEC_STATUS_OK;
}

/* The model section: raw DEFLATE (no zlib header or Adler-32: the section has its CRC)
 * with `dict` as the preset dictionary. */
static edgec_status deflate_model(const uint8_t *src, size_t len, const uint8_t *dict,
                                  size_t dict_len, uint8_t **out, uLongf *out_len)
{
    z_stream z = {0};
    uLong bound = compressBound((uLong)len) + 64;
    *out = NULL;
    if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory compressing the model");
    edgec_status st = EDGEC_STATUS_OK;
    if (!(*out = malloc(bound)) ||
        (dict_len && deflateSetDictionary(&z, dict, (uInt)dict_len) != Z_OK)) {
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory compressing the model");
        goto cleanup;
    }
    z.next_in = (Bytef *)src;
    z.avail_in = (uInt)len;
    z.next_out = *out;
    z.avail_out = (uInt)bound;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
        st = edgec__fail(EDGEC_STATUS_INTERNAL, "deflate did not finish the model section");
        goto cleanup;
    }
    *out_len = z.total_out;
cleanup:
    deflateEnd(&z);
    if (st) {
        free(*out);
        *out = NULL;
    }
    return st;
}

/* Inverse of deflate_model; the output must be exactly `len` bytes. */
static bool inflate_model(const uint8_t *src, size_t src_len, const uint8_t *dict,
                          size_t dict_len, uint8_t *out, size_t len)
{
    z_stream z = {0};
    if (inflateInit2(&z, -15) != Z_OK)
        return false;
    z.next_in = (Bytef *)src;
    z.avail_in = (uInt)src_len;
    z.next_out = out;
    z.avail_out = (uInt)len;
    bool ok = (!dict_len || inflateSetDictionary(&z, dict, (uInt)dict_len) == Z_OK) &&
              inflate(&z, Z_FINISH) == Z_STREAM_END && z.total_out == len && z.avail_in == 0;
    inflateEnd(&z);
    return ok;
}

/* Writes the directory records (section 3) into `r`, or only counts their bytes when
 * `r` is NULL. */
static size_t write_directory(uint8_t *r, const edgec_wire_tensor *wt, const bool *whole,
                              const edgec_payload *pl, size_t n)
{
    uint8_t rec[RECORD_MAX];
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        static const uint8_t unit_code[33] = {[4] = 0, [8] = 1, [16] = 2, [32] = 3};
        rec[k++] = (uint8_t)wt[i].dtype;
        rec[k++] = (uint8_t)(pl[i].encoding | unit_code[pl[i].unit_bits] << 2 |
                             (whole[i] ? EDGEC_DEC_FORM_WHOLE : 0) |
                             (whole[i] && wt[i].own_name ? EDGEC_DEC_FORM_NAMED : 0));
        rec[k++] = (uint8_t)wt[i].rank;
        for (int d = 0; d < wt[i].rank; d++)
            k += put_varint(rec + k, wt[i].dims[d]);
        k += put_varint(rec + k, wt[i].len);
        k += put_varint(rec + k, pl[i].size);
        put32(rec + k, crc32_of(pl[i].data, pl[i].size));
        k += 4;
        k += put_varint(rec + k, wt[i].name_len);
        if (r) {
            memcpy(r + total, rec, k);
            memcpy(r + total + k, wt[i].name, wt[i].name_len);
        }
        total += k + wt[i].name_len;
    }
    return total;
}

edgec_status edgec_container_encode(const void *onnx, size_t onnx_size, void **data,
                                    size_t *size)
{
    const uint8_t *src = onnx;
    edgec_wire_tensor *wt = NULL;
    edgec_payload *pl = NULL;
    bool *whole = NULL;
    uint8_t *skel = NULL, *zmodel = NULL, *out = NULL, *dir = NULL, *dict = NULL;
    size_t n = 0, skel_len = 0, dict_len = 0;
    uLongf zlen = 0;
    edgec_status st;
    *data = NULL;
    *size = 0;
    if ((uint64_t)onnx_size > EDGEC_PROTO_LIMIT)
        return edgec__fail(EDGEC_STATUS_LIMIT, "the model is over the 2 GB protobuf limit");
    if ((st = edgec__wire_tensors(src, onnx_size, &wt, &n)))
        goto cleanup;
    /* The model section: the splice points (4.2), then everything but the cut bytes. */
    if (!(pl = calloc(n ? n : 1, sizeof *pl)) || !(whole = calloc(n ? n : 1, sizeof *whole)) ||
        !(skel = malloc(onnx_size + 5 * n + 1))) {
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        goto cleanup;
    }
    size_t pos = 0, cut = 0, last = 0;
    for (size_t i = 0; i < n; i++) {
        whole[i] = is_whole(src, &wt[i]);
        size_t from = whole[i] ? wt[i].head : wt[i].off, to = wt[i].off + wt[i].len;
        skel_len += put_varint(skel + skel_len, from - cut - last);
        last = from - cut;
        cut += to - from;
        if ((st = edgec__encode_tensor(src + wt[i].off, wt[i].len, wt[i].dtype, wt[i].dims,
                                       wt[i].rank, &pl[i])))
            goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        size_t from = whole[i] ? wt[i].head : wt[i].off;
        memcpy(skel + skel_len, src + pos, from - pos);
        skel_len += from - pos;
        pos = wt[i].off + wt[i].len;
    }
    memcpy(skel + skel_len, src + pos, onnx_size - pos);
    skel_len += onnx_size - pos;
    /* The directory also serves as deflate dictionary: the tensor names the model
     * repeats then cost a back-reference. */
    size_t dir_size = write_directory(NULL, wt, whole, pl, n);
    if (!(dir = malloc(dir_size ? dir_size : 1))) {
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        goto cleanup;
    }
    write_directory(dir, wt, whole, pl, n);
    if ((st = model_dict(dir, dir_size, &dict, &dict_len)) ||
        (st = deflate_model(skel, skel_len, dict, dict_len, &zmodel, &zlen)))
        goto cleanup;
    uint64_t total = HEADER_SIZE + (uint64_t)dir_size + 4 + zlen + 4;
    for (size_t i = 0; i < n; i++)
        total += pl[i].size;
    if (total > CONTAINER_LIMIT || skel_len > UINT32_MAX) {
        st = edgec__fail(EDGEC_STATUS_LIMIT, "the container would need %llu bytes, over 4 GB",
                         (unsigned long long)total);
        goto cleanup;
    }
    if (!(out = calloc(1, (size_t)total))) {
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        goto cleanup;
    }
    /* Header, directory, their CRC, the payloads; the model section, which firmware
     * never needs, comes last. */
    memcpy(out, "EDGC", 4);
    put16(out + 4, EDGEC_DEC_VERSION);
    put16(out + 6, 0);
    put32(out + 8, (uint32_t)n);
    put32(out + 12, (uint32_t)dir_size);
    put32(out + 16, (uint32_t)zlen);
    put32(out + 20, (uint32_t)skel_len);
    memcpy(out + HEADER_SIZE, dir, dir_size);
    put32(out + HEADER_SIZE + dir_size, crc32_of(out, HEADER_SIZE + dir_size));
    size_t o = HEADER_SIZE + dir_size + 4;
    for (size_t i = 0; i < n; i++) {
        if (pl[i].size)
            memcpy(out + o, pl[i].data, pl[i].size);
        o += pl[i].size;
    }
    memcpy(out + o, zmodel, zlen);
    put32(out + o + zlen, crc32_of(zmodel, zlen));
    *data = out;
    *size = (size_t)total;
    out = NULL;
cleanup:
    for (size_t i = 0; pl && i < n; i++)
        free(pl[i].data);
    free(pl);
    free(whole);
    free(wt);
    free(skel);
    free(dir);
    free(dict);
    free(zmodel);
    free(out);
    return st;
}

bool edgec_container_detect(const void *data, size_t size)
{
    return size >= 4 && !memcmp(data, "EDGC", 4);
}

static const char *dec_error(int rc)
{
    switch (rc) {
    case EDGEC_DEC_EREAD:
        return "read error";
    case EDGEC_DEC_EFORMAT:
        return "not an .edgec container, or a version this edgec does not know";
    case EDGEC_DEC_ECRC:
        return "CRC-32 mismatch: the file is damaged";
    case EDGEC_DEC_ERANGE:
        return "tensor out of range";
    default:
        return "corrupt: a length, offset or code is out of range";
    }
}

/* A varint of at most 32 bits from buf[*pos, end). */
static bool get_varint(const uint8_t *buf, size_t *pos, size_t end, uint32_t *v)
{
    uint64_t x = 0;
    for (int s = 0; s < 35 && *pos < end; s += 7) {
        uint8_t b = buf[(*pos)++];
        x |= (uint64_t)(b & 0x7f) << s;
        if (!(b & 0x80)) {
            *v = (uint32_t)x;
            return x <= UINT32_MAX;
        }
    }
    return false;
}

/* The bytes a record puts back into the model: the tensor's raw bytes, after the head
 * of its TensorProto when the whole of it was cut out (4.3). */
static uint64_t record_head(const uint8_t *data, const edgec_dec_tensor *t, uint8_t *out)
{
    if (!(t->form & EDGEC_DEC_FORM_WHOLE))
        return 0;
    const uint8_t *name = t->form & EDGEC_DEC_FORM_NAMED ? data + t->name_offset : NULL;
    return whole_head(t->dims, t->rank, t->dtype, name, t->name_len, t->raw_size, out);
}

edgec_status edgec_container_unpack(const void *data, size_t size, const char *name,
                                    void **onnx, size_t *onnx_size)
{
    edgec_dec *d = NULL;
    uint8_t *skel = NULL, *out = NULL, *dict = NULL;
    edgec_dec_mem mem = {data, (uint32_t)size};
    edgec_dec_tensor t;
    edgec_status st = EDGEC_STATUS_OK;
    size_t dict_len = 0;
    int rc = 0;
    *onnx = NULL;
    *onnx_size = 0;
    if ((uint64_t)size > CONTAINER_LIMIT)
        return edgec__fail(EDGEC_STATUS_INVALID_DATA, "%s: over 4 GB, not an .edgec container",
                           name);
    if (!(d = malloc(sizeof *d)))
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    if ((rc = edgec_dec_open(d, edgec_dec_mem_read, &mem, (uint32_t)size)))
        goto cleanup;
    /* Sizes come from the file: add them up in 64 bits and bound the sum first. */
    uint64_t total = d->model_raw_size;
    for (uint32_t i = 0; i < d->n_tensors; i++) {
        if ((rc = edgec_dec_info(d, i, &t)))
            goto cleanup;
        if ((t.form & EDGEC_DEC_FORM_NAMED) && !(t.form & EDGEC_DEC_FORM_WHOLE)) {
            rc = EDGEC_DEC_ECORRUPT;
            goto cleanup;
        }
        total += t.raw_size + record_head(data, &t, NULL);
    }
    if (total > EDGEC_PROTO_LIMIT) {
        st = edgec__fail(EDGEC_STATUS_LIMIT, "%s: the model would be over the 2 GB limit", name);
        goto cleanup;
    }
    const uint8_t *z = (const uint8_t *)data + d->model_offset;
    const uint8_t *zc = z + d->model_size;
    uint32_t zcrc = (uint32_t)zc[0] | (uint32_t)zc[1] << 8 | (uint32_t)zc[2] << 16 |
                    (uint32_t)zc[3] << 24;
    if (crc32_of(z, d->model_size) != zcrc) {
        rc = EDGEC_DEC_ECRC;
        goto cleanup;
    }
    size_t raw_len = d->model_raw_size;
    if (!(skel = malloc(raw_len ? raw_len : 1)) || !(out = malloc(total ? (size_t)total : 1))) {
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        goto cleanup;
    }
    if ((st = model_dict((const uint8_t *)data + HEADER_SIZE, d->dir_size, &dict, &dict_len)))
        goto cleanup;
    if (!inflate_model(z, d->model_size, dict, dict_len, skel, raw_len)) {
        rc = EDGEC_DEC_ECORRUPT;
        goto cleanup;
    }
    /* The splice points come first (4.2): find where the model bytes start. */
    size_t at = 0, vp = 0, pos = 0, o = 0, splice = 0;
    uint32_t delta;
    for (uint32_t i = 0; i < d->n_tensors; i++) {
        if (!get_varint(skel, &at, raw_len, &delta)) {
            rc = EDGEC_DEC_ECORRUPT;
            goto cleanup;
        }
    }
    const uint8_t *model = skel + at;
    size_t model_len = raw_len - at;
    for (uint32_t i = 0; i < d->n_tensors; i++) {
        get_varint(skel, &vp, at, &delta); /* read once above: cannot fail */
        splice += delta;
        if (splice > model_len) {
            rc = EDGEC_DEC_ECORRUPT;
            goto cleanup;
        }
        memcpy(out + o, model + pos, splice - pos);
        o += splice - pos;
        pos = splice;
        if ((rc = edgec_dec_info(d, i, &t)))
            goto cleanup;
        o += record_head(data, &t, out + o);
        if ((rc = edgec_dec_tensor_read(d, i, out + o, t.raw_size))) {
            st = edgec__fail(EDGEC_STATUS_INVALID_DATA, "%s: tensor %u: %s", name, (unsigned)i,
                             dec_error(rc));
            goto cleanup;
        }
        o += t.raw_size;
    }
    memcpy(out + o, model + pos, model_len - pos);
    o += model_len - pos;
    *onnx = out;
    *onnx_size = o;
    out = NULL;
cleanup:
    if (rc && !st)
        st = edgec__fail(EDGEC_STATUS_INVALID_DATA, "%s: %s", name, dec_error(rc));
    free(d);
    free(skel);
    free(dict);
    free(out);
    return st;
}

edgec_status edgec_container_read(const char *path, void **data, size_t *size)
{
    uint8_t *buf = NULL;
    void *onnx = NULL;
    size_t len = 0, onnx_len = 0;
    *data = NULL;
    *size = 0;
    edgec__error_clear();
    edgec_status st = edgec__read_file(path, CONTAINER_LIMIT, &buf, &len);
    if (!st && !edgec_container_detect(buf, len))
        st = edgec__fail(EDGEC_STATUS_INVALID_DATA, "%s: not an .edgec container (no EDGC magic)",
                         path);
    /* Unpacking checks every CRC and every tensor; the result itself is not needed. */
    if (!st)
        st = edgec_container_unpack(buf, len, path, &onnx, &onnx_len);
    free(onnx);
    if (st) {
        free(buf);
        return st;
    }
    *data = buf;
    *size = len;
    return EDGEC_STATUS_OK;
}

/* Writes `n` buffers to `path` as one file that appears whole or not at all. */
static edgec_status write_whole(const char *path, const edgec_inode *forbid, size_t n_forbid,
                                const void *data, size_t len)
{
    edgec_outfile *f = NULL;
    edgec_status st = edgec__outfile_open(path, forbid, n_forbid, &f);
    if (!st && (st = edgec__outfile_write(f, data, len))) {
        edgec__outfile_abort(f);
        return st;
    }
    return st ? st : edgec__outfile_commit(f);
}

edgec_status edgec_container_unpack_file(const char *in_path, const char *out_path)
{
    void *blob = NULL, *onnx = NULL;
    size_t len = 0, onnx_len = 0;
    struct stat sb;
    edgec_inode self = {0};
    edgec__error_clear();
    edgec_status st = edgec__read_file(in_path, CONTAINER_LIMIT, (uint8_t **)&blob, &len);
    if (!st && !edgec_container_detect(blob, len))
        st = edgec__fail(EDGEC_STATUS_INVALID_DATA, "%s: not an .edgec container (no EDGC magic)",
                         in_path);
    if (!st && stat(in_path, &sb) == 0)
        self = (edgec_inode){(uint64_t)sb.st_dev, (uint64_t)sb.st_ino};
    if (!st)
        st = edgec_container_unpack(blob, len, in_path, &onnx, &onnx_len);
    if (!st)
        st = write_whole(out_path, &self, 1, onnx, onnx_len);
    free(blob);
    free(onnx);
    return st;
}

edgec_status edgec_container_load(const char *path, edgec_model **out)
{
    void *blob = NULL, *onnx = NULL;
    size_t len = 0, onnx_len = 0;
    *out = NULL;
    edgec__error_clear();
    edgec_status st = edgec__read_file(path, CONTAINER_LIMIT, (uint8_t **)&blob, &len);
    if (!st)
        st = edgec_container_unpack(blob, len, path, &onnx, &onnx_len);
    if (!st)
        st = edgec_model_load_buffer(onnx, onnx_len, path, NULL, out);
    free(blob);
    free(onnx);
    return st;
}

edgec_status edgec_container_save(edgec_model *m, const char *path)
{
    void *onnx = NULL, *blob = NULL;
    size_t onnx_len = 0, len = 0;
    edgec_inode *forbid = NULL;
    edgec__error_clear();
    edgec_status st = edgec_model_save_buffer(m, &onnx, &onnx_len);
    if (!st)
        st = edgec_container_encode(onnx, onnx_len, &blob, &len);
    if (!st && !(forbid = calloc(m->n_files ? m->n_files : 1, sizeof *forbid)))
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    for (size_t i = 0; !st && i < m->n_files; i++)
        forbid[i] = (edgec_inode){m->files[i].dev, m->files[i].ino};
    if (!st)
        st = write_whole(path, forbid, m->n_files, blob, len);
    free(forbid);
    free(onnx);
    free(blob);
    return st;
}

static const char *dtype_name(int dtype)
{
    return edgec__dtype(dtype)->name;
}

/* Copies `s` into a C comment safely: no "*" followed by "/", printable ASCII only. */
static void comment_text(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool ok = c >= 0x20 && c < 0x7f && !(c == '*' && i + 1 < n && s[i + 1] == '/');
        fputc(ok ? c : '?', f);
    }
}

static bool is_identifier(const char *s)
{
    if (!*s || !(isalpha((unsigned char)*s) || *s == '_'))
        return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_'))
            return false;
    return true;
}

edgec_status edgec_container_emit_c(const void *data, size_t size, const char *symbol,
                                    const char *c_path, const char *h_path)
{
    char *h = NULL, *c = NULL, *upper = NULL;
    size_t h_len = 0, c_len = 0;
    FILE *hf = NULL, *cf = NULL;
    edgec_dec *d = NULL;
    edgec_dec_mem mem = {data, (uint32_t)size};
    edgec_dec_tensor t;
    edgec_status st = EDGEC_STATUS_OK;
    edgec__error_clear();
    if (!is_identifier(symbol))
        return edgec__fail(EDGEC_STATUS_USAGE, "--symbol '%s' is not a C identifier", symbol);
    if ((uint64_t)size > CONTAINER_LIMIT)
        return edgec__fail(EDGEC_STATUS_INVALID_DATA, "the container is over 4 GB");
    if (!(d = malloc(sizeof *d)) || !(upper = strdup(symbol)) ||
        !(hf = open_memstream(&h, &h_len)) || !(cf = open_memstream(&c, &c_len))) {
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        goto cleanup;
    }
    int rc = edgec_dec_open(d, edgec_dec_mem_read, &mem, (uint32_t)size);
    if (rc) {
        st = edgec__fail(EDGEC_STATUS_INVALID_DATA, "container: %s", dec_error(rc));
        goto cleanup;
    }
    for (char *p = upper; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    const char *h_base = strrchr(h_path, '/') ? strrchr(h_path, '/') + 1 : h_path;
    fprintf(hf,
            "/* Generated by edgec %s emit-c: an .edgec container (docs/FORMAT.md) as C data.\n"
            " * Decode it with decoder/edgec_decode.h:\n"
            " *   edgec_dec dec; edgec_dec_mem mem = {%s, %s_len};\n"
            " *   edgec_dec_open(&dec, edgec_dec_mem_read, &mem, mem.size);\n"
            " *   edgec_dec_tensor_read(&dec, index, buffer, sizeof buffer);\n"
            " * Tensors (index: name, type, dims, bytes once decoded):\n",
            edgec_version(), symbol, symbol);
    for (uint32_t i = 0; i < d->n_tensors; i++) {
        if ((rc = edgec_dec_info(d, i, &t))) {
            st = edgec__fail(EDGEC_STATUS_INVALID_DATA, "container: %s", dec_error(rc));
            goto cleanup;
        }
        fprintf(hf, " *   %u: ", (unsigned)i);
        comment_text(hf, (const char *)data + t.name_offset, t.name_len);
        fprintf(hf, "  %s [", dtype_name(t.dtype));
        for (int k = 0; k < t.rank; k++)
            fprintf(hf, "%s%u", k ? ", " : "", (unsigned)t.dims[k]);
        fprintf(hf, "]  %u\n", (unsigned)t.raw_size);
    }
    fprintf(hf,
            " */\n#ifndef %s_H_\n#define %s_H_\n\n#define %s_SIZE %zuu\n"
            "extern const unsigned char %s[%s_SIZE];\nextern const unsigned int %s_len;\n\n"
            "#endif\n",
            upper, upper, upper, size, symbol, upper, symbol);
    fprintf(cf,
            "/* Generated by edgec %s emit-c; see %s. */\n#include \"%s\"\n\n"
            "#ifndef EDGEC_BLOB_ALIGN\n"
            "#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L\n"
            "#define EDGEC_BLOB_ALIGN _Alignas(16)\n"
            "#elif defined(__GNUC__)\n"
            "#define EDGEC_BLOB_ALIGN __attribute__((aligned(16)))\n"
            "#else\n#define EDGEC_BLOB_ALIGN\n#endif\n#endif\n\n"
            "EDGEC_BLOB_ALIGN const unsigned char %s[%s_SIZE] = {",
            edgec_version(), h_base, h_base, symbol, upper);
    for (size_t i = 0; i < size; i++)
        fprintf(cf, "%s0x%02x,", i % 16 ? " " : "\n    ", ((const uint8_t *)data)[i]);
    fprintf(cf, "\n};\nconst unsigned int %s_len = %s_SIZE;\n", symbol, upper);
    if (fclose(hf) | fclose(cf)) {
        hf = cf = NULL;
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        goto cleanup;
    }
    hf = cf = NULL;
    if (!(st = write_whole(h_path, NULL, 0, h, h_len)))
        st = write_whole(c_path, NULL, 0, c, c_len);
cleanup:
    if (hf)
        fclose(hf);
    if (cf)
        fclose(cf);
    free(h);
    free(c);
    free(upper);
    free(d);
    return st;
}
