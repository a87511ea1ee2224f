/* Data-type traits, one table indexed by the ONNX data type number. */
#include "ir/ir.h"

static const edgec_dtype_traits traits[EDGEC_DTYPE_COUNT] = {
    [EDGEC_DTYPE_UNDEFINED] = {.name = "UNDEFINED"},
    [EDGEC_DTYPE_FLOAT] = {.name = "FLOAT", .bits = 32, .is_float = true, .is_signed = true},
    [EDGEC_DTYPE_UINT8] = {.name = "UINT8", .bits = 8},
    [EDGEC_DTYPE_INT8] = {.name = "INT8", .bits = 8, .is_signed = true},
    [EDGEC_DTYPE_UINT16] = {.name = "UINT16", .bits = 16},
    [EDGEC_DTYPE_INT16] = {.name = "INT16", .bits = 16, .is_signed = true},
    [EDGEC_DTYPE_INT32] = {.name = "INT32", .bits = 32, .is_signed = true},
    [EDGEC_DTYPE_INT64] = {.name = "INT64", .bits = 64, .is_signed = true},
    [EDGEC_DTYPE_STRING] = {.name = "STRING"},
    [EDGEC_DTYPE_BOOL] = {.name = "BOOL", .bits = 8},
    [EDGEC_DTYPE_FLOAT16] = {.name = "FLOAT16", .bits = 16, .is_float = true, .is_signed = true},
    [EDGEC_DTYPE_DOUBLE] = {.name = "DOUBLE", .bits = 64, .is_float = true, .is_signed = true},
    [EDGEC_DTYPE_UINT32] = {.name = "UINT32", .bits = 32},
    [EDGEC_DTYPE_UINT64] = {.name = "UINT64", .bits = 64},
    [EDGEC_DTYPE_COMPLEX64] = {.name = "COMPLEX64", .bits = 64, .is_float = true, .is_signed = true},
    [EDGEC_DTYPE_COMPLEX128] = {.name = "COMPLEX128", .bits = 128, .is_float = true, .is_signed = true},
    [EDGEC_DTYPE_BFLOAT16] = {.name = "BFLOAT16", .bits = 16, .is_float = true, .is_signed = true},
    [EDGEC_DTYPE_FLOAT8E4M3FN] = {.name = "FLOAT8E4M3FN", .bits = 8, .is_float = true, .is_signed = true},
    [EDGEC_DTYPE_FLOAT8E4M3FNUZ] = {.name = "FLOAT8E4M3FNUZ", .bits = 8, .is_float = true, .is_signed = true},
    [EDGEC_DTYPE_FLOAT8E5M2] = {.name = "FLOAT8E5M2", .bits = 8, .is_float = true, .is_signed = true},
    [EDGEC_DTYPE_FLOAT8E5M2FNUZ] = {.name = "FLOAT8E5M2FNUZ", .bits = 8, .is_float = true, .is_signed = true},
    [EDGEC_DTYPE_UINT4] = {.name = "UINT4", .bits = 4},
    [EDGEC_DTYPE_INT4] = {.name = "INT4", .bits = 4, .is_signed = true},
    [EDGEC_DTYPE_FLOAT4E2M1] = {.name = "FLOAT4E2M1", .bits = 4, .is_float = true, .is_signed = true},
};

const edgec_dtype_traits *edgec__dtype(int32_t dtype)
{
    if (dtype < 0 || dtype >= EDGEC_DTYPE_COUNT)
        return &traits[EDGEC_DTYPE_UNDEFINED];
    return &traits[dtype];
}

bool edgec__dtype_nbytes(int32_t dtype, int64_t numel, size_t *out)
{
    unsigned bits = edgec__dtype(dtype)->bits;
    if (!bits || numel < 0 || (uint64_t)numel > SIZE_MAX / 16)
        return false;
    if (bits < 8) {
        *out = ((size_t)numel * bits + 7) / 8;
        return true;
    }
    return edgec__mul_size((size_t)numel, bits / 8, out);
}
