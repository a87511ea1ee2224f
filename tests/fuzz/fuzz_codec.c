/* The host side of the .edgec container (include/edgec/container.h): unpack, and the
 * encoder on what unpack gives back.
 *
 * Three inputs in four have their CRC-32s rewritten first (crc_fix.h), so that
 * mutations get past the checksums. Any input may be refused. An input that unpacks
 * gives ONNX bytes; when those load as a model, encoding them again and unpacking the
 * result must give the same bytes back (the container is lossless). */
#include <string.h>

#include "crc_fix.h"
#include "edgec/container.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    void *onnx = NULL, *enc = NULL, *back = NULL;
    size_t onnx_n = 0, enc_n = 0, back_n = 0;
    edgec_model *m = NULL;
    uint8_t *b = crcfix_copy(data, size);
    if (!b)
        return 0;
    (void)edgec_container_detect(b, size);
    edgec_status st = edgec_container_unpack(b, size, "fuzz.edgec", &onnx, &onnx_n);
    FUZZ_CHECK(fuzz_status_expected(st), "unpack returned %s", edgec_status_name(st));
    if (st)
        goto cleanup;
    if (edgec_model_load_buffer(onnx, onnx_n, "unpacked.onnx", NULL, &m))
        goto cleanup;
    st = edgec_container_encode(onnx, onnx_n, &enc, &enc_n);
    FUZZ_CHECK(st == EDGEC_STATUS_OK || st == EDGEC_STATUS_LIMIT || st == EDGEC_STATUS_NO_MEMORY,
               "encode of an unpacked model returned %s", edgec_status_name(st));
    if (st)
        goto cleanup;
    st = edgec_container_unpack(enc, enc_n, "re-encoded.edgec", &back, &back_n);
    FUZZ_CHECK(st == EDGEC_STATUS_OK, "cannot unpack what encode wrote");
    FUZZ_CHECK(back_n == onnx_n && !memcmp(back, onnx, onnx_n),
               "unpack(encode(x)) != x (%zu vs %zu bytes)", back_n, onnx_n);
cleanup:
    edgec_model_free(m);
    free(onnx);
    free(enc);
    free(back);
    free(b);
    return 0;
}
