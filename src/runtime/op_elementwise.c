/* Elementwise ops: arithmetic, comparison and logic with numpy broadcasting (Add Sub Mul
 * Div Pow Mod And Or Xor Equal Greater GreaterOrEqual Less LessOrEqual, variadic Max Min
 * Mean Sum), Where, unary math (Not Abs Neg Ceil Floor Round Sign Sqrt Reciprocal Exp Log
 * Sin Cos Erf), Cast/CastLike and Clip; plus the broadcasting driver (kernels_b.h).
 *
 * float32 runs natively; float16/bfloat16 are staged through float32; double and every
 * integer type run natively and exactly. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/kernels_b.h"

/* ---------------------------------------------------------------- broadcasting */

edgec_status edgec__kb_broadcast_shape(const edgec_op_ctx *ctx, size_t n,
                                       const edgec_rt_tensor *const *in, int32_t *rank,
                                       int64_t *dims)
{
    int32_t r = 0;
    int64_t d[EDGEC_MAX_RANK];
    for (size_t k = 0; k < n; k++) {
        int32_t nr;
        int64_t nd[EDGEC_MAX_RANK];
        if (!edgec__broadcast_shape(r, d, in[k]->rank, in[k]->dims, &nr, nd)) {
            char a[160] = "", b[160] = "";
            size_t la = 0, lb = 0;
            for (int32_t i = 0; i < r && la < sizeof a - 24; i++)
                la += (size_t)snprintf(a + la, sizeof a - la, "%s%lld", i ? "x" : "", (long long)d[i]);
            for (int32_t i = 0; i < in[k]->rank && lb < sizeof b - 24; i++)
                lb += (size_t)snprintf(b + lb, sizeof b - lb, "%s%lld", i ? "x" : "",
                                       (long long)in[k]->dims[i]);
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                  "input %zu of shape [%s] does not broadcast with [%s]", k, b, a);
        }
        r = nr;
        memcpy(d, nd, sizeof(int64_t) * (size_t)r);
    }
    *rank = r;
    memcpy(dims, d, sizeof(int64_t) * (size_t)r);
    return EDGEC_STATUS_OK;
}

void edgec__kb_broadcast(kb_run_fn fn, void *user, edgec_rt_tensor *o, size_t n_in,
                         const edgec_rt_tensor *const *in)
{
    if (o->numel == 0)
        return;
    int32_t r = o->rank;
    int64_t d[EDGEC_MAX_RANK], s[3][EDGEC_MAX_RANK], st[3][EDGEC_MAX_RANK];
    size_t es[3], eo = edgec__kb_esize(o->dtype);
    for (size_t k = 0; k < n_in; k++) {
        const edgec_rt_tensor *t = in[k];
        es[k] = edgec__kb_esize(t->dtype);
        int64_t ts[EDGEC_MAX_RANK];
        edgec__kb_strides(t->rank, t->dims, ts);
        for (int32_t i = 0; i < r; i++) {
            int32_t j = i - (r - t->rank);
            st[k][i] = j < 0 || t->dims[j] == 1 ? 0 : ts[j];
        }
    }
    /* Drop unit dims and merge dims that are contiguous for every operand. */
    int32_t n = 0;
    for (int32_t i = 0; i < r; i++) {
        if (o->dims[i] == 1)
            continue;
        bool merge = n > 0;
        for (size_t k = 0; merge && k < n_in; k++)
            merge = s[k][n - 1] == st[k][i] * o->dims[i];
        if (merge) {
            d[n - 1] *= o->dims[i];
            for (size_t k = 0; k < n_in; k++)
                s[k][n - 1] = st[k][i];
        } else {
            d[n] = o->dims[i];
            for (size_t k = 0; k < n_in; k++)
                s[k][n] = st[k][i];
            n++;
        }
    }
    int64_t inner = 1, is[3] = {0, 0, 0};
    if (n > 0) {
        inner = d[n - 1];
        for (size_t k = 0; k < n_in; k++)
            is[k] = s[k][n - 1] ? 1 : 0;
        n--;
    }
    int64_t cnt[EDGEC_MAX_RANK] = {0}, off[3] = {0, 0, 0};
    char *op = o->data;
    const void *ptr[3];
    for (;;) {
        for (size_t k = 0; k < n_in; k++)
            ptr[k] = (const char *)in[k]->data + off[k] * (int64_t)es[k];
        fn(user, inner, op, ptr, is);
        op += (size_t)inner * eo;
        int32_t k = n - 1;
        for (; k >= 0; k--) {
            for (size_t q = 0; q < n_in; q++)
                off[q] += s[q][k];
            if (++cnt[k] < d[k])
                break;
            for (size_t q = 0; q < n_in; q++)
                off[q] -= s[q][k] * d[k];
            cnt[k] = 0;
        }
        if (k < 0)
            break;
    }
}

/* ---------------------------------------------------------------- binary kernels */

/* One binary loop over a run: x, y are the operands of type T_, EXPR yields the result. */
#define KB_LOOP2(TYPE, OTYPE, EXPR)                                                               \
    typedef TYPE T_;                                                                              \
    OTYPE *o = (OTYPE *)o_;                                                                       \
    const T_ *a = (const T_ *)in[0], *b = (const T_ *)in[1];                                      \
    (void)user;                                                                                   \
    if (s[0] && s[1]) {                                                                           \
        for (int64_t i = 0; i < n; i++) {                                                         \
            T_ x = a[i], y = b[i];                                                                \
            o[i] = (OTYPE)(EXPR);                                                                 \
        }                                                                                         \
    } else if (s[0]) {                                                                            \
        T_ y = b[0];                                                                              \
        for (int64_t i = 0; i < n; i++) {                                                         \
            T_ x = a[i];                                                                          \
            o[i] = (OTYPE)(EXPR);                                                                 \
        }                                                                                         \
    } else if (s[1]) {                                                                            \
        T_ x = a[0];                                                                              \
        for (int64_t i = 0; i < n; i++) {                                                         \
            T_ y = b[i];                                                                          \
            o[i] = (OTYPE)(EXPR);                                                                 \
        }                                                                                         \
    } else {                                                                                      \
        T_ x = a[0], y = b[0];                                                                    \
        OTYPE v = (OTYPE)(EXPR);                                                                  \
        for (int64_t i = 0; i < n; i++)                                                           \
            o[i] = v;                                                                             \
    }

#define KB_FN(NAME) \
    static void NAME(void *user, int64_t n, void *o_, const void *const *in, const int64_t *s)

/* A table of run functions indexed by element type. */
typedef struct fnset {
    kb_run_fn f32, f64, i8, u8, i16, u16, i32, u32, i64, u64, b;
} fnset;

static kb_run_fn pick(const fnset *f, int32_t dt)
{
    switch (dt) {
    case EDGEC_DTYPE_FLOAT:
        return f->f32;
    case EDGEC_DTYPE_DOUBLE:
        return f->f64;
    case EDGEC_DTYPE_INT8:
        return f->i8;
    case EDGEC_DTYPE_UINT8:
        return f->u8;
    case EDGEC_DTYPE_INT16:
        return f->i16;
    case EDGEC_DTYPE_UINT16:
        return f->u16;
    case EDGEC_DTYPE_INT32:
        return f->i32;
    case EDGEC_DTYPE_UINT32:
        return f->u32;
    case EDGEC_DTYPE_INT64:
        return f->i64;
    case EDGEC_DTYPE_UINT64:
        return f->u64;
    case EDGEC_DTYPE_BOOL:
        return f->b;
    default:
        return NULL;
    }
}

/* Defines NAME_<type> for float, double and the eight integer types, and fnset NAME.
 * EF is the float expression, ES the signed-integer one, EU the unsigned one; OUT is
 * the output type (T_ for same-type results). */
#define DEF_NUM(NAME, EF, ES, EU, OUTF, OUTI, BOOLFN)                                               \
    KB_FN(NAME##_f32) { KB_LOOP2(float, OUTF(float), EF) }                                        \
    KB_FN(NAME##_f64) { KB_LOOP2(double, OUTF(double), EF) }                                      \
    KB_FN(NAME##_i8) { KB_LOOP2(int8_t, OUTI(int8_t), ES) }                                       \
    KB_FN(NAME##_u8) { KB_LOOP2(uint8_t, OUTI(uint8_t), EU) }                                     \
    KB_FN(NAME##_i16) { KB_LOOP2(int16_t, OUTI(int16_t), ES) }                                    \
    KB_FN(NAME##_u16) { KB_LOOP2(uint16_t, OUTI(uint16_t), EU) }                                  \
    KB_FN(NAME##_i32) { KB_LOOP2(int32_t, OUTI(int32_t), ES) }                                    \
    KB_FN(NAME##_u32) { KB_LOOP2(uint32_t, OUTI(uint32_t), EU) }                                  \
    KB_FN(NAME##_i64) { KB_LOOP2(int64_t, OUTI(int64_t), ES) }                                    \
    KB_FN(NAME##_u64) { KB_LOOP2(uint64_t, OUTI(uint64_t), EU) }                                  \
    static const fnset NAME = {NAME##_f32, NAME##_f64, NAME##_i8,  NAME##_u8,                      \
                               NAME##_i16, NAME##_u16, NAME##_i32, NAME##_u32,                     \
                               NAME##_i64, NAME##_u64, BOOLFN};

#define SAME(T) T
#define BOOLOUT(T) uint8_t

static inline int64_t sdiv(int64_t x, int64_t y)
{
    if (y == 0)
        return 0;
    if (y == -1)
        return (int64_t)(0 - (uint64_t)x);
    return x / y;
}
static inline int64_t smod(int64_t x, int64_t y) /* Python %: sign of the divisor */
{
    if (y == 0 || y == -1)
        return 0;
    int64_t r = x % y;
    if (r != 0 && ((r < 0) != (y < 0)))
        r += y;
    return r;
}
static inline int64_t sfmod(int64_t x, int64_t y) /* C %: sign of the dividend */
{
    if (y == 0 || y == -1)
        return 0;
    return x % y;
}
static inline double fmod_py(double x, double y)
{
    double r = fmod(x, y);
    if (r != 0 && ((r < 0) != (y < 0)))
        r += y;
    return r;
}
static inline float fmodf_py(float x, float y)
{
    float r = fmodf(x, y);
    if (r != 0 && ((r < 0) != (y < 0)))
        r += y;
    return r;
}

#define WRAP(op) (T_)((uint64_t)x op(uint64_t) y)

KB_FN(and_b) { KB_LOOP2(uint8_t, uint8_t, (x != 0) & (y != 0)) }
KB_FN(or_b) { KB_LOOP2(uint8_t, uint8_t, (x != 0) | (y != 0)) }
KB_FN(xor_b) { KB_LOOP2(uint8_t, uint8_t, (x != 0) ^ (y != 0)) }
KB_FN(eq_b) { KB_LOOP2(uint8_t, uint8_t, (x != 0) == (y != 0)) }
KB_FN(gt_b) { KB_LOOP2(uint8_t, uint8_t, (x != 0) > (y != 0)) }
KB_FN(ge_b) { KB_LOOP2(uint8_t, uint8_t, (x != 0) >= (y != 0)) }
KB_FN(lt_b) { KB_LOOP2(uint8_t, uint8_t, (x != 0) < (y != 0)) }
KB_FN(le_b) { KB_LOOP2(uint8_t, uint8_t, (x != 0) <= (y != 0)) }
KB_FN(max_b) { KB_LOOP2(uint8_t, uint8_t, (x != 0) | (y != 0)) }
KB_FN(min_b) { KB_LOOP2(uint8_t, uint8_t, (x != 0) & (y != 0)) }

DEF_NUM(f_add, x + y, WRAP(+), WRAP(+), SAME, SAME, NULL)
DEF_NUM(f_sub, x - y, WRAP(-), WRAP(-), SAME, SAME, NULL)
DEF_NUM(f_mul, x *y, WRAP(*), WRAP(*), SAME, SAME, NULL)
DEF_NUM(f_div, x / y, sdiv(x, y), (y ? x / y : 0), SAME, SAME, NULL)
DEF_NUM(f_mod, fmod_py(x, y), smod(x, y), (y ? x % y : 0), SAME, SAME, NULL)
DEF_NUM(f_fmod, fmod(x, y), sfmod(x, y), (y ? x % y : 0), SAME, SAME, NULL)
DEF_NUM(f_max, (x != x || x >= y) ? x : y, (x >= y ? x : y), (x >= y ? x : y), SAME, SAME, max_b)
DEF_NUM(f_min, (x != x || x <= y) ? x : y, (x <= y ? x : y), (x <= y ? x : y), SAME, SAME, min_b)
DEF_NUM(f_eq, x == y, x == y, x == y, BOOLOUT, BOOLOUT, eq_b)
DEF_NUM(f_gt, x > y, x > y, x > y, BOOLOUT, BOOLOUT, gt_b)
DEF_NUM(f_ge, x >= y, x >= y, x >= y, BOOLOUT, BOOLOUT, ge_b)
DEF_NUM(f_lt, x < y, x < y, x < y, BOOLOUT, BOOLOUT, lt_b)
DEF_NUM(f_le, x <= y, x <= y, x <= y, BOOLOUT, BOOLOUT, le_b)

/* float32 specialisations that avoid double math. */
KB_FN(mod_f32) { KB_LOOP2(float, float, fmodf_py(x, y)) }
KB_FN(fmod_f32) { KB_LOOP2(float, float, fmodf(x, y)) }
KB_FN(pow_f32_gen) { KB_LOOP2(float, float, powf(x, y)) }
/* Pow by a constant 2 or 1 (LayerNorm decompositions): exact without powf. */
KB_FN(pow_f32)
{
    if (!s[1] && (((const float *)in[1])[0] == 2.0f || ((const float *)in[1])[0] == 1.0f)) {
        const float *a = in[0];
        float *o = o_;
        bool sq = ((const float *)in[1])[0] == 2.0f;
        int64_t sa = s[0];
        for (int64_t i = 0; i < n; i++) {
            float x = a[i * sa];
            o[i] = sq ? x * x : x;
        }
        return;
    }
    pow_f32_gen(user, n, o_, in, s);
}
KB_FN(pow_f64) { KB_LOOP2(double, double, pow(x, y)) }

static const fnset f_logic_and = {.b = and_b};
static const fnset f_logic_or = {.b = or_b};
static const fnset f_logic_xor = {.b = xor_b};

void edgec__kb_prelu_f32(void *user, int64_t n, void *o_, const void *const *in, const int64_t *s)
{
    KB_LOOP2(float, float, x < 0 ? x * y : x)
}

/* ---------------------------------------------------------------- drivers */

static bool is_f16ish(int32_t dt)
{
    return dt == EDGEC_DTYPE_FLOAT16 || dt == EDGEC_DTYPE_BFLOAT16;
}

/* Runs `fn` over the broadcast of `n` inputs into a new output of `out_dtype`; float16 and
 * bfloat16 operands are staged through float32 (so `fn` must be the float32 kernel). */
static edgec_status run_broadcast(edgec_op_ctx *ctx, kb_run_fn fn, size_t n,
                                  const edgec_rt_tensor *const *in, int32_t out_dtype)
{
    int32_t r = 0;
    int64_t dims[EDGEC_MAX_RANK];
    edgec_status st = edgec__kb_broadcast_shape(ctx, n, in, &r, dims);
    if (st)
        return st;
    edgec_rt_tensor *o = edgec__rt_output(ctx, 0, out_dtype, r, dims);
    if (!o)
        return EDGEC_STATUS_NO_MEMORY;
    bool stage = false;
    for (size_t k = 0; k < n; k++)
        stage |= is_f16ish(in[k]->dtype);
    if (!stage) {
        edgec__kb_broadcast(fn, NULL, o, n, in);
        return EDGEC_STATUS_OK;
    }
    edgec_rt_tensor *tmp[3] = {NULL, NULL, NULL}, *to = NULL;
    const edgec_rt_tensor *use[3];
    for (size_t k = 0; k < n && !st; k++) {
        if (is_f16ish(in[k]->dtype)) {
            st = edgec__kb_to_f32(ctx, in[k], &tmp[k]);
            use[k] = tmp[k];
        } else {
            use[k] = in[k];
        }
    }
    bool out_f16 = is_f16ish(out_dtype);
    if (!st && out_f16)
        st = edgec__rt_tensor_new(EDGEC_DTYPE_FLOAT, r, dims, &to);
    if (!st) {
        edgec__kb_broadcast(fn, NULL, out_f16 ? to : o, n, use);
        if (out_f16)
            edgec__kb_store_f32(o, to->data);
    }
    for (size_t k = 0; k < n; k++)
        edgec__rt_tensor_free(tmp[k]);
    edgec__rt_tensor_free(to);
    return st;
}

static edgec_status same_types(const edgec_op_ctx *ctx, size_t n)
{
    for (size_t k = 1; k < n; k++)
        if (ctx->inputs[k]->dtype != ctx->inputs[0]->dtype)
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                  "input %zu is %s but input 0 is %s", k,
                                  edgec__dtype(ctx->inputs[k]->dtype)->name,
                                  edgec__dtype(ctx->inputs[0]->dtype)->name);
    return EDGEC_STATUS_OK;
}

static kb_run_fn pick_staged(const fnset *f, int32_t dt)
{
    return is_f16ish(dt) ? f->f32 : pick(f, dt);
}

static edgec_status unsupported_type(const edgec_op_ctx *ctx, int32_t dt)
{
    return edgec__op_fail(ctx, EDGEC_STATUS_UNSUPPORTED, "data type %s is not supported",
                          edgec__dtype(dt)->name);
}

/* Two inputs of the same type; the output has that type or BOOL. */
static edgec_status binary(edgec_op_ctx *ctx, const fnset *f, bool bool_out)
{
    edgec_status st = edgec__kb_need_inputs(ctx, 2);
    if (st || (st = same_types(ctx, 2)))
        return st;
    int32_t dt = ctx->inputs[0]->dtype;
    kb_run_fn fn = pick_staged(f, dt);
    if (!fn)
        return unsupported_type(ctx, dt);
    const edgec_rt_tensor *in[2] = {ctx->inputs[0], ctx->inputs[1]};
    /* Before opset 7: `broadcast`/`axis` attributes place B inside A. */
    edgec_rt_tensor bview;
    if (ctx->opset < 7 && edgec__attr_int(ctx->node, "broadcast", 0) &&
        edgec__node_attr(ctx->node, "axis")) {
        int64_t axis = edgec__attr_int(ctx->node, "axis", 0);
        const edgec_rt_tensor *a = in[0], *b = in[1];
        if (axis < 0)
            axis += a->rank;
        if (axis < 0 || axis + b->rank > a->rank)
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "axis is out of range");
        bview = *b;
        bview.rank = (int32_t)(a->rank - axis);
        for (int32_t i = 0; i < bview.rank; i++)
            bview.dims[i] = i < b->rank ? b->dims[i] : 1;
        in[1] = &bview;
    }
    return run_broadcast(ctx, fn, 2, in, bool_out ? EDGEC_DTYPE_BOOL : dt);
}

static edgec_status op_add(edgec_op_ctx *ctx) { return binary(ctx, &f_add, false); }
static edgec_status op_sub(edgec_op_ctx *ctx) { return binary(ctx, &f_sub, false); }
static edgec_status op_mul(edgec_op_ctx *ctx) { return binary(ctx, &f_mul, false); }
static edgec_status op_div(edgec_op_ctx *ctx) { return binary(ctx, &f_div, false); }
static edgec_status op_equal(edgec_op_ctx *ctx) { return binary(ctx, &f_eq, true); }
static edgec_status op_greater(edgec_op_ctx *ctx) { return binary(ctx, &f_gt, true); }
static edgec_status op_greater_eq(edgec_op_ctx *ctx) { return binary(ctx, &f_ge, true); }
static edgec_status op_less(edgec_op_ctx *ctx) { return binary(ctx, &f_lt, true); }
static edgec_status op_less_eq(edgec_op_ctx *ctx) { return binary(ctx, &f_le, true); }

static edgec_status logic(edgec_op_ctx *ctx, const fnset *f)
{
    edgec_status st = edgec__kb_need_inputs(ctx, 2);
    if (st)
        return st;
    if (ctx->inputs[0]->dtype != EDGEC_DTYPE_BOOL || ctx->inputs[1]->dtype != EDGEC_DTYPE_BOOL)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "inputs must be bool");
    return binary(ctx, f, true);
}
static edgec_status op_and(edgec_op_ctx *ctx) { return logic(ctx, &f_logic_and); }
static edgec_status op_or(edgec_op_ctx *ctx) { return logic(ctx, &f_logic_or); }
static edgec_status op_xor(edgec_op_ctx *ctx) { return logic(ctx, &f_logic_xor); }

static edgec_status op_mod(edgec_op_ctx *ctx)
{
    bool fm = edgec__attr_int(ctx->node, "fmod", 0) != 0;
    fnset f = fm ? f_fmod : f_mod;
    f.f32 = fm ? fmod_f32 : mod_f32;
    return binary(ctx, &f, false);
}

/* Pow: base and exponent may differ in type (opset 12+); the output has the base type. */
static edgec_status op_pow(edgec_op_ctx *ctx)
{
    edgec_status st = edgec__kb_need_inputs(ctx, 2);
    if (st)
        return st;
    const edgec_rt_tensor *a = ctx->inputs[0], *b = ctx->inputs[1];
    if (a->dtype == b->dtype && (a->dtype == EDGEC_DTYPE_FLOAT || is_f16ish(a->dtype)))
        return binary(ctx, &(fnset){.f32 = pow_f32}, false);
    if (a->dtype == EDGEC_DTYPE_DOUBLE && b->dtype == EDGEC_DTYPE_DOUBLE)
        return binary(ctx, &(fnset){.f64 = pow_f64}, false);
    if (!edgec__kb_is_numeric(a->dtype) || !edgec__kb_is_numeric(b->dtype) ||
        a->dtype == EDGEC_DTYPE_BOOL || b->dtype == EDGEC_DTYPE_BOOL)
        return unsupported_type(ctx, a->dtype);
    /* Mixed or integer types: elementwise in double over a broadcast index map. */
    int32_t r = 0;
    int64_t dims[EDGEC_MAX_RANK];
    const edgec_rt_tensor *in[2] = {a, b};
    if ((st = edgec__kb_broadcast_shape(ctx, 2, in, &r, dims)))
        return st;
    edgec_rt_tensor *o = edgec__rt_output(ctx, 0, a->dtype, r, dims);
    if (!o)
        return EDGEC_STATUS_NO_MEMORY;
    /* Broadcast element indices of a and b via two int64 index tensors. */
    edgec_rt_tensor *ia = NULL, *ib = NULL, *ja = NULL, *jb = NULL;
    if ((st = edgec__rt_tensor_new(EDGEC_DTYPE_INT64, a->rank, a->dims, &ia)) ||
        (st = edgec__rt_tensor_new(EDGEC_DTYPE_INT64, b->rank, b->dims, &ib)) ||
        (st = edgec__rt_tensor_new(EDGEC_DTYPE_INT64, r, dims, &ja)) ||
        (st = edgec__rt_tensor_new(EDGEC_DTYPE_INT64, r, dims, &jb)))
        goto done;
    for (int64_t i = 0; i < a->numel; i++)
        ((int64_t *)ia->data)[i] = i;
    for (int64_t i = 0; i < b->numel; i++)
        ((int64_t *)ib->data)[i] = i;
    {
        /* Reuse the broadcasting add on int64: index + 0 copies the broadcast index. */
        edgec_rt_tensor *zero = NULL;
        int64_t one = 1;
        if ((st = edgec__rt_tensor_new(EDGEC_DTYPE_INT64, 0, &one, &zero)))
            goto done;
        const edgec_rt_tensor *pa[2] = {ia, zero}, *pb[2] = {ib, zero};
        edgec__kb_broadcast(f_add_i64, NULL, ja, 2, pa);
        edgec__kb_broadcast(f_add_i64, NULL, jb, 2, pb);
        edgec__rt_tensor_free(zero);
    }
    bool int_out = !edgec__kb_is_float(a->dtype);
    for (int64_t i = 0; i < o->numel; i++) {
        double x = edgec__rt_get_f64(a, ((int64_t *)ja->data)[i]);
        double y = edgec__rt_get_f64(b, ((int64_t *)jb->data)[i]);
        double v = pow(x, y);
        if (int_out) {
            if (a->dtype == EDGEC_DTYPE_INT64 && edgec__kb_is_int(b->dtype) && y >= 0) {
                /* exact integer power */
                int64_t base = edgec__rt_get_i64(a, ((int64_t *)ja->data)[i]);
                int64_t e = edgec__rt_get_i64(b, ((int64_t *)jb->data)[i]);
                uint64_t acc = 1, bb = (uint64_t)base;
                while (e > 0) {
                    if (e & 1)
                        acc *= bb;
                    bb *= bb;
                    e >>= 1;
                }
                ((int64_t *)o->data)[i] = (int64_t)acc;
                continue;
            }
            edgec__kb_set_i64(o, i, v != v ? 0 : (int64_t)llround(v));
        } else {
            edgec__rt_set_f64(o, i, v);
        }
    }
done:
    edgec__rt_tensor_free(ia);
    edgec__rt_tensor_free(ib);
    edgec__rt_tensor_free(ja);
    edgec__rt_tensor_free(jb);
    return st;
}

/* Max Min Sum Mean: variadic with broadcasting. */
static edgec_status variadic(edgec_op_ctx *ctx, const fnset *f, bool mean)
{
    if (ctx->n_inputs < 1)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "needs at least one input");
    edgec_status st = edgec__kb_need_inputs(ctx, ctx->n_inputs);
    if (st || (st = same_types(ctx, ctx->n_inputs)))
        return st;
    int32_t dt = ctx->inputs[0]->dtype;
    kb_run_fn fn = pick_staged(f, dt);
    if (!fn)
        return unsupported_type(ctx, dt);
    int32_t r = 0;
    int64_t dims[EDGEC_MAX_RANK];
    if ((st = edgec__kb_broadcast_shape(ctx, ctx->n_inputs, ctx->inputs, &r, dims)))
        return st;
    edgec_rt_tensor *o = edgec__rt_output(ctx, 0, dt, r, dims);
    if (!o)
        return EDGEC_STATUS_NO_MEMORY;
    edgec_rt_tensor *acc = o;
    bool stage = is_f16ish(dt);
    if (stage && (st = edgec__rt_tensor_new(EDGEC_DTYPE_FLOAT, r, dims, &acc)))
        return st;
    for (size_t k = 0; k < ctx->n_inputs && !st; k++) {
        edgec_rt_tensor *tmp = NULL;
        const edgec_rt_tensor *x = ctx->inputs[k];
        if (stage) {
            if ((st = edgec__kb_to_f32(ctx, x, &tmp)))
                break;
            x = tmp;
        }
        if (k == 0) {
            /* acc = x broadcast: x op x for idempotent ops, x + 0 otherwise. */
            int64_t es = (int64_t)edgec__kb_esize(acc->dtype);
            int64_t xs[EDGEC_MAX_RANK], sd[EDGEC_MAX_RANK];
            edgec__kb_strides(x->rank, x->dims, xs);
            for (int32_t i = 0; i < r; i++) {
                int32_t j = i - (r - x->rank);
                sd[i] = j < 0 || x->dims[j] == 1 ? 0 : xs[j];
            }
            if (acc->numel)
                edgec__kb_strided_copy(acc->data, x->data, (size_t)es, r, dims, sd);
        } else {
            const edgec_rt_tensor *pair[2] = {acc, x};
            edgec__kb_broadcast(fn, NULL, acc, 2, pair);
        }
        edgec__rt_tensor_free(tmp);
    }
    if (!st && mean) {
        double n = (double)ctx->n_inputs;
        if (acc->dtype == EDGEC_DTYPE_FLOAT) {
            float *p = acc->data;
            for (int64_t i = 0; i < acc->numel; i++)
                p[i] = (float)(p[i] / n);
        } else if (acc->dtype == EDGEC_DTYPE_DOUBLE) {
            double *p = acc->data;
            for (int64_t i = 0; i < acc->numel; i++)
                p[i] /= n;
        } else {
            for (int64_t i = 0; i < acc->numel; i++)
                edgec__kb_set_i64(acc, i, edgec__rt_get_i64(acc, i) / (int64_t)ctx->n_inputs);
        }
    }
    if (stage) {
        if (!st)
            edgec__kb_store_f32(o, acc->data);
        edgec__rt_tensor_free(acc);
    }
    return st;
}

static edgec_status op_max(edgec_op_ctx *ctx) { return variadic(ctx, &f_max, false); }
static edgec_status op_min(edgec_op_ctx *ctx) { return variadic(ctx, &f_min, false); }
static edgec_status op_sum(edgec_op_ctx *ctx) { return variadic(ctx, &f_add, false); }
static edgec_status op_mean(edgec_op_ctx *ctx)
{
    if (ctx->n_inputs && ctx->inputs[0] && !edgec__kb_is_float(ctx->inputs[0]->dtype))
        return unsupported_type(ctx, ctx->inputs[0]->dtype);
    return variadic(ctx, &f_add, true);
}

/* Where(cond, X, Y): selects by element size. */
#define WHERE_FN(NAME, T)                                                                          \
    KB_FN(NAME)                                                                                    \
    {                                                                                              \
        (void)user;                                                                                \
        const uint8_t *c = in[0];                                                                  \
        const T *x = in[1], *y = in[2];                                                            \
        T *o = o_;                                                                                 \
        for (int64_t i = 0; i < n; i++)                                                            \
            o[i] = c[i * s[0]] ? x[i * s[1]] : y[i * s[2]];                                        \
    }
WHERE_FN(where1, uint8_t)
WHERE_FN(where2, uint16_t)
WHERE_FN(where4, uint32_t)
WHERE_FN(where8, uint64_t)

static edgec_status op_where(edgec_op_ctx *ctx)
{
    edgec_status st = edgec__kb_need_inputs(ctx, 3);
    if (st)
        return st;
    const edgec_rt_tensor *c = ctx->inputs[0], *x = ctx->inputs[1], *y = ctx->inputs[2];
    if (c->dtype != EDGEC_DTYPE_BOOL)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "condition must be bool");
    if (x->dtype != y->dtype)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "X and Y differ in type");
    kb_run_fn fn;
    switch (edgec__kb_esize(x->dtype)) {
    case 1:
        fn = where1;
        break;
    case 2:
        fn = where2;
        break;
    case 4:
        fn = where4;
        break;
    case 8:
        fn = where8;
        break;
    default:
        return unsupported_type(ctx, x->dtype);
    }
    int32_t r = 0;
    int64_t dims[EDGEC_MAX_RANK];
    if ((st = edgec__kb_broadcast_shape(ctx, 3, ctx->inputs, &r, dims)))
        return st;
    edgec_rt_tensor *o = edgec__rt_output(ctx, 0, x->dtype, r, dims);
    if (!o)
        return EDGEC_STATUS_NO_MEMORY;
    edgec__kb_broadcast(fn, NULL, o, 3, ctx->inputs);
    return EDGEC_STATUS_OK;
}

/* ---------------------------------------------------------------- unary */

enum uop { U_ABS, U_NEG, U_CEIL, U_FLOOR, U_ROUND, U_SIGN, U_SQRT, U_RECIP, U_EXP, U_LOG, U_SIN,
           U_COS, U_ERF, U_NOT, U_TAN, U_ASIN, U_ACOS, U_ATAN, U_SINH, U_COSH, U_ASINH, U_ACOSH,
           U_ATANH };

static void unary_f32(enum uop op, float *o, const float *a, int64_t n)
{
    switch (op) {
#define U(CASE, EXPR)                                                                              \
    case CASE:                                                                                     \
        for (int64_t i = 0; i < n; i++) {                                                          \
            float x = a[i];                                                                        \
            o[i] = (EXPR);                                                                         \
        }                                                                                          \
        break;
        U(U_ABS, fabsf(x))
        U(U_NEG, -x)
        U(U_CEIL, ceilf(x))
        U(U_FLOOR, floorf(x))
        U(U_ROUND, rintf(x))
        U(U_SIGN, x > 0 ? 1.0f : x < 0 ? -1.0f : x)
        U(U_SQRT, sqrtf(x))
        U(U_RECIP, 1.0f / x)
        U(U_EXP, expf(x))
        U(U_LOG, logf(x))
        U(U_SIN, sinf(x))
        U(U_COS, cosf(x))
        U(U_ERF, erff(x))
        U(U_TAN, tanf(x))
        U(U_ASIN, asinf(x))
        U(U_ACOS, acosf(x))
        U(U_ATAN, atanf(x))
        U(U_SINH, sinhf(x))
        U(U_COSH, coshf(x))
        U(U_ASINH, asinhf(x))
        U(U_ACOSH, acoshf(x))
        U(U_ATANH, atanhf(x))
#undef U
    default:
        break;
    }
}

static double unary_f64(enum uop op, double x)
{
    switch (op) {
    case U_ABS: return fabs(x);
    case U_NEG: return -x;
    case U_CEIL: return ceil(x);
    case U_FLOOR: return floor(x);
    case U_ROUND: return rint(x);
    case U_SIGN: return x > 0 ? 1.0 : x < 0 ? -1.0 : x;
    case U_SQRT: return sqrt(x);
    case U_RECIP: return 1.0 / x;
    case U_EXP: return exp(x);
    case U_LOG: return log(x);
    case U_SIN: return sin(x);
    case U_COS: return cos(x);
    case U_ERF: return erf(x);
    case U_TAN: return tan(x);
    case U_ASIN: return asin(x);
    case U_ACOS: return acos(x);
    case U_ATAN: return atan(x);
    case U_SINH: return sinh(x);
    case U_COSH: return cosh(x);
    case U_ASINH: return asinh(x);
    case U_ACOSH: return acosh(x);
    case U_ATANH: return atanh(x);
    default: return x;
    }
}

static edgec_status unary(edgec_op_ctx *ctx, enum uop op)
{
    edgec_status st = edgec__kb_need_inputs(ctx, 1);
    if (st)
        return st;
    const edgec_rt_tensor *x = ctx->inputs[0];
    int32_t dt = x->dtype;
    if (op == U_NOT) {
        if (dt != EDGEC_DTYPE_BOOL)
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "input must be bool");
        edgec_rt_tensor *o = edgec__rt_output(ctx, 0, dt, x->rank, x->dims);
        if (!o)
            return EDGEC_STATUS_NO_MEMORY;
        for (int64_t i = 0; i < x->numel; i++)
            ((uint8_t *)o->data)[i] = !((const uint8_t *)x->data)[i];
        return EDGEC_STATUS_OK;
    }
    bool int_ok = op == U_ABS || op == U_NEG || op == U_SIGN;
    if (!edgec__kb_is_float(dt) && !(int_ok && edgec__kb_is_int(dt)))
        return unsupported_type(ctx, dt);
    edgec_rt_tensor *o = edgec__rt_output(ctx, 0, dt, x->rank, x->dims);
    if (!o)
        return EDGEC_STATUS_NO_MEMORY;
    if (dt == EDGEC_DTYPE_FLOAT) {
        unary_f32(op, o->data, x->data, x->numel);
    } else if (dt == EDGEC_DTYPE_DOUBLE) {
        const double *a = x->data;
        double *p = o->data;
        for (int64_t i = 0; i < x->numel; i++)
            p[i] = unary_f64(op, a[i]);
    } else if (is_f16ish(dt)) {
        edgec_rt_tensor *t;
        if ((st = edgec__kb_to_f32(ctx, x, &t)))
            return st;
        unary_f32(op, t->data, t->data, t->numel);
        edgec__kb_store_f32(o, t->data);
        edgec__rt_tensor_free(t);
    } else {
        bool sgn = edgec__kb_is_signed_int(dt);
        for (int64_t i = 0; i < x->numel; i++) {
            int64_t v = edgec__rt_get_i64(x, i);
            int64_t r = v;
            if (op == U_ABS)
                r = sgn && v < 0 ? (int64_t)(0 - (uint64_t)v) : v;
            else if (op == U_NEG)
                r = (int64_t)(0 - (uint64_t)v);
            else if (op == U_SIGN)
                r = sgn ? (v > 0) - (v < 0) : (v != 0);
            edgec__kb_set_i64(o, i, r);
        }
    }
    return EDGEC_STATUS_OK;
}

#define UNARY_OP(NAME, OP)                                                                         \
    static edgec_status NAME(edgec_op_ctx *ctx) { return unary(ctx, OP); }
UNARY_OP(op_abs, U_ABS)
UNARY_OP(op_neg, U_NEG)
UNARY_OP(op_ceil, U_CEIL)
UNARY_OP(op_floor, U_FLOOR)
UNARY_OP(op_round, U_ROUND)
UNARY_OP(op_sign, U_SIGN)
UNARY_OP(op_sqrt, U_SQRT)
UNARY_OP(op_reciprocal, U_RECIP)
UNARY_OP(op_exp, U_EXP)
UNARY_OP(op_log, U_LOG)
UNARY_OP(op_sin, U_SIN)
UNARY_OP(op_cos, U_COS)
UNARY_OP(op_erf, U_ERF)
UNARY_OP(op_not, U_NOT)
UNARY_OP(op_tan, U_TAN)
UNARY_OP(op_asin, U_ASIN)
UNARY_OP(op_acos, U_ACOS)
UNARY_OP(op_atan, U_ATAN)
UNARY_OP(op_sinh, U_SINH)
UNARY_OP(op_cosh, U_COSH)
UNARY_OP(op_asinh, U_ASINH)
UNARY_OP(op_acosh, U_ACOSH)
UNARY_OP(op_atanh, U_ATANH)

/* ---------------------------------------------------------------- Cast */

static bool cast_supported(int32_t dt)
{
    return edgec__kb_is_numeric(dt);
}

/* Float value to an integer type: truncation toward zero. NaN and out-of-range values give
 * what numpy gives on x86: the "integer indefinite" value (INT_MIN) of the 32-bit
 * conversion for types up to 32 bits (64-bit conversion for [u]int32/64), then
 * truncated to the target width. */
static void f2i_store(edgec_rt_tensor *o, int64_t i, double v)
{
    int32_t to = o->dtype;
    if (to == EDGEC_DTYPE_UINT64 && v >= 9.2233720368547758e18 && v < 1.8446744073709552e19) {
        ((uint64_t *)o->data)[i] = (uint64_t)v;
        return;
    }
    bool wide = to == EDGEC_DTYPE_INT64 || to == EDGEC_DTYPE_UINT64 || to == EDGEC_DTYPE_UINT32;
    int64_t r;
    if (wide)
        r = v == v && v >= -9.2233720368547758e18 && v < 9.2233720368547758e18 ? (int64_t)v
                                                                                  : INT64_MIN;
    else
        r = v == v && v > -2147483649.0 && v < 2147483648.0 ? (int64_t)(int32_t)v : INT32_MIN;
    edgec__kb_set_i64(o, i, r);
}

static edgec_status do_cast(edgec_op_ctx *ctx, const edgec_rt_tensor *x, int32_t to)
{
    if (!cast_supported(x->dtype) || !cast_supported(to))
        return edgec__op_fail(ctx, EDGEC_STATUS_UNSUPPORTED, "cast from %s to %s is not supported",
                              edgec__dtype(x->dtype)->name, edgec__dtype(to)->name);
    edgec_rt_tensor *o = edgec__rt_output(ctx, 0, to, x->rank, x->dims);
    if (!o)
        return EDGEC_STATUS_NO_MEMORY;
    int64_t n = x->numel;
    int32_t from = x->dtype;
    if (from == to) {
        if (o->nbytes)
            memcpy(o->data, x->data, o->nbytes);
        return EDGEC_STATUS_OK;
    }
    /* Common fast paths. */
    if (from == EDGEC_DTYPE_FLOAT && to == EDGEC_DTYPE_FLOAT16) {
        const float *a = x->data;
        uint16_t *p = o->data;
        for (int64_t i = 0; i < n; i++)
            p[i] = edgec__f32_to_f16(a[i]);
        return EDGEC_STATUS_OK;
    }
    if (from == EDGEC_DTYPE_FLOAT16 && to == EDGEC_DTYPE_FLOAT) {
        const uint16_t *a = x->data;
        float *p = o->data;
        for (int64_t i = 0; i < n; i++)
            p[i] = edgec__f16_to_f32(a[i]);
        return EDGEC_STATUS_OK;
    }
    bool fi = edgec__kb_is_float(from), ft = edgec__kb_is_float(to);
    if (to == EDGEC_DTYPE_BOOL) {
        for (int64_t i = 0; i < n; i++)
            ((uint8_t *)o->data)[i] = fi ? edgec__rt_get_f64(x, i) != 0 : edgec__rt_get_i64(x, i) != 0;
    } else if (fi && ft) {
        if (from == EDGEC_DTYPE_DOUBLE && (to == EDGEC_DTYPE_FLOAT16 || to == EDGEC_DTYPE_BFLOAT16)) {
            /* round once: double -> float rounding to odd, then float -> 16 bits */
            for (int64_t i = 0; i < n; i++) {
                double v = ((const double *)x->data)[i];
                float f = (float)v;
                if (v == v && (double)f != v) {
                    if (fabs((double)f) > fabs(v))
                        f = nextafterf(f, 0.0f);
                    uint32_t bits;
                    memcpy(&bits, &f, 4);
                    bits |= 1;
                    memcpy(&f, &bits, 4);
                }
                edgec__rt_set_f64(o, i, f);
            }
        } else {
            for (int64_t i = 0; i < n; i++)
                edgec__rt_set_f64(o, i, edgec__rt_get_f64(x, i));
        }
    } else if (fi) {
        for (int64_t i = 0; i < n; i++)
            f2i_store(o, i, edgec__rt_get_f64(x, i));
    } else if (ft) {
        bool u64 = from == EDGEC_DTYPE_UINT64;
        for (int64_t i = 0; i < n; i++) {
            int64_t v = edgec__rt_get_i64(x, i);
            if (to == EDGEC_DTYPE_FLOAT)
                ((float *)o->data)[i] = u64 ? (float)(uint64_t)v : (float)v;
            else
                edgec__rt_set_f64(o, i, u64 ? (double)(uint64_t)v : (double)v);
        }
    } else {
        for (int64_t i = 0; i < n; i++)
            edgec__kb_set_i64(o, i, edgec__rt_get_i64(x, i));
    }
    return EDGEC_STATUS_OK;
}

static edgec_status op_cast(edgec_op_ctx *ctx)
{
    edgec_status st = edgec__kb_need_inputs(ctx, 1);
    if (st)
        return st;
    const edgec_attr *a = edgec__node_attr(ctx->node, "to");
    if (!a || a->type != EDGEC_ATTR_INT)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "needs an integer 'to' attribute");
    if (a->i <= 0 || a->i >= EDGEC_DTYPE_COUNT)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "'to' is %lld, not a data type",
                              (long long)a->i);
    return do_cast(ctx, ctx->inputs[0], (int32_t)a->i);
}

static edgec_status op_cast_like(edgec_op_ctx *ctx)
{
    edgec_status st = edgec__kb_need_inputs(ctx, 2);
    if (st)
        return st;
    return do_cast(ctx, ctx->inputs[0], ctx->inputs[1]->dtype);
}

/* ---------------------------------------------------------------- Clip */

static edgec_status op_clip(edgec_op_ctx *ctx)
{
    edgec_status st = edgec__kb_need_inputs(ctx, 1);
    if (st)
        return st;
    const edgec_rt_tensor *x = ctx->inputs[0];
    int32_t dt = x->dtype;
    if (!edgec__kb_is_float(dt) && !edgec__kb_is_int(dt))
        return unsupported_type(ctx, dt);
    edgec_rt_tensor *o = edgec__rt_output(ctx, 0, dt, x->rank, x->dims);
    if (!o)
        return EDGEC_STATUS_NO_MEMORY;
    if (edgec__kb_is_float(dt)) {
        double lo = -INFINITY, hi = INFINITY;
        if (ctx->opset < 11) {
            lo = edgec__attr_float(ctx->node, "min", -INFINITY);
            hi = edgec__attr_float(ctx->node, "max", INFINITY);
        } else {
            const edgec_rt_tensor *tl = edgec__kb_in(ctx, 1), *th = edgec__kb_in(ctx, 2);
            if (tl && (st = edgec__kb_read_scalar_f64(ctx, tl, "min", &lo)))
                return st;
            if (th && (st = edgec__kb_read_scalar_f64(ctx, th, "max", &hi)))
                return st;
        }
        if (dt == EDGEC_DTYPE_FLOAT) {
            float l = (float)lo, h = (float)hi;
            const float *a = x->data;
            float *p = o->data;
            for (int64_t i = 0; i < x->numel; i++) {
                float v = a[i];
                v = v < l ? l : v;
                p[i] = v > h ? h : v;
            }
        } else {
            for (int64_t i = 0; i < x->numel; i++) {
                double v = edgec__rt_get_f64(x, i);
                v = v < lo ? lo : v;
                edgec__rt_set_f64(o, i, v > hi ? hi : v);
            }
        }
        return EDGEC_STATUS_OK;
    }
    int64_t lo = INT64_MIN, hi = INT64_MAX;
    bool uns = !edgec__kb_is_signed_int(dt);
    const edgec_rt_tensor *tl = edgec__kb_in(ctx, 1), *th = edgec__kb_in(ctx, 2);
    if (tl) {
        if (tl->numel != 1)
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "min must be a scalar");
        lo = edgec__rt_get_i64(tl, 0);
    }
    if (th) {
        if (th->numel != 1)
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "max must be a scalar");
        hi = edgec__rt_get_i64(th, 0);
    }
    for (int64_t i = 0; i < x->numel; i++) {
        int64_t v = edgec__rt_get_i64(x, i);
        if (uns && dt == EDGEC_DTYPE_UINT64) {
            uint64_t u = (uint64_t)v;
            if (tl && u < (uint64_t)lo)
                u = (uint64_t)lo;
            if (th && u > (uint64_t)hi)
                u = (uint64_t)hi;
            v = (int64_t)u;
        } else {
            v = v < lo ? lo : v;
            v = v > hi ? hi : v;
        }
        edgec__kb_set_i64(o, i, v);
    }
    return EDGEC_STATUS_OK;
}

const edgec_op edgec__ops_elementwise[] = {
    {"Add", "", 1, op_add},
    {"Sub", "", 1, op_sub},
    {"Mul", "", 1, op_mul},
    {"Div", "", 1, op_div},
    {"Pow", "", 1, op_pow},
    {"Mod", "", 10, op_mod},
    {"And", "", 1, op_and},
    {"Or", "", 1, op_or},
    {"Xor", "", 1, op_xor},
    {"Not", "", 1, op_not},
    {"Equal", "", 1, op_equal},
    {"Greater", "", 1, op_greater},
    {"GreaterOrEqual", "", 12, op_greater_eq},
    {"Less", "", 1, op_less},
    {"LessOrEqual", "", 12, op_less_eq},
    {"Max", "", 1, op_max},
    {"Min", "", 1, op_min},
    {"Mean", "", 1, op_mean},
    {"Sum", "", 1, op_sum},
    {"Where", "", 9, op_where},
    {"Abs", "", 1, op_abs},
    {"Neg", "", 1, op_neg},
    {"Ceil", "", 1, op_ceil},
    {"Floor", "", 1, op_floor},
    {"Round", "", 11, op_round},
    {"Sign", "", 9, op_sign},
    {"Sqrt", "", 1, op_sqrt},
    {"Reciprocal", "", 1, op_reciprocal},
    {"Exp", "", 1, op_exp},
    {"Log", "", 1, op_log},
    {"Sin", "", 7, op_sin},
    {"Cos", "", 7, op_cos},
    {"Tan", "", 7, op_tan},
    {"Asin", "", 7, op_asin},
    {"Acos", "", 7, op_acos},
    {"Atan", "", 7, op_atan},
    {"Sinh", "", 9, op_sinh},
    {"Cosh", "", 9, op_cosh},
    {"Asinh", "", 9, op_asinh},
    {"Acosh", "", 9, op_acosh},
    {"Atanh", "", 9, op_atanh},
    {"Erf", "", 9, op_erf},
    {"Cast", "", 1, op_cast},
    {"CastLike", "", 15, op_cast_like},
    {"Clip", "", 1, op_clip},
    {0},
};
