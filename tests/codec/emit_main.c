/* Links an `edgec emit-c` blob with the firmware decoder, as firmware would, and
 * decodes every tensor: prints "name raw_size crc32" per tensor, which run.sh compares
 * with the tensors of the unpacked ONNX file. C99, no malloc beyond one static buffer. */
#include <stdio.h>
#include <string.h>

#include "blob.h"
#include "edgec_decode.h"

static unsigned char buffer[1 << 24];
static edgec_dec dec;

int main(void)
{
    edgec_dec_mem mem = {blob, blob_len};
    int rc = edgec_dec_open(&dec, edgec_dec_mem_read, &mem, mem.size);
    if (rc) {
        printf("open failed: %d\n", rc);
        return 1;
    }
    if (((size_t)blob) % 16) {
        printf("blob is not 16-byte aligned\n");
        return 1;
    }
    for (uint32_t i = 0; i < edgec_dec_count(&dec); i++) {
        edgec_dec_tensor t;
        char name[512];
        if ((rc = edgec_dec_info(&dec, i, &t)) ||
            (rc = edgec_dec_tensor_read(&dec, i, buffer, sizeof buffer))) {
            printf("tensor %u failed: %d\n", (unsigned)i, rc);
            return 1;
        }
        size_t n = t.name_len < sizeof name - 1 ? t.name_len : sizeof name - 1;
        memcpy(name, blob + t.name_offset, n);
        name[n] = '\0';
        printf("%s %u %08x\n", name, (unsigned)t.raw_size,
               (unsigned)edgec_dec_crc32(0, buffer, t.raw_size));
    }
    return 0;
}
