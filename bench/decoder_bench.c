/* Host decode speed of decoder/edgec_decode.c: decodes every tensor of a container
 * repeatedly for at least MIN_SECONDS of this process's CPU time and prints
 * "tensor_bytes seconds MB/s", where tensor_bytes is the decoded size of all tensors of
 * the container once and MB = 1e6 bytes of decoded tensor data. CPU time rather than
 * wall time, so that other jobs on a shared machine do not count as decoding time (the
 * decoder is single-threaded). Built and run by bench/decoder.sh. */
#define _POSIX_C_SOURCE 199309L /* clock_gettime under -std=c99 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "edgec_decode.h"

#define MIN_SECONDS 0.5

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    static edgec_dec d;
    if (argc != 2) {
        fprintf(stderr, "usage: decoder_bench FILE.edgec\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f || fseek(f, 0, SEEK_END) || ftell(f) <= 0) {
        fprintf(stderr, "decoder_bench: cannot read %s\n", argv[1]);
        return 2;
    }
    long size = ftell(f);
    unsigned char *blob = malloc((size_t)size), *out = NULL;
    rewind(f);
    if (!blob || fread(blob, 1, (size_t)size, f) != (size_t)size)
        return 2;
    fclose(f);
    edgec_dec_mem mem = {blob, (uint32_t)size};
    if (edgec_dec_open(&d, edgec_dec_mem_read, &mem, mem.size))
        return 1;
    uint32_t max = 0;
    double once = 0;
    for (uint32_t i = 0; i < edgec_dec_count(&d); i++) {
        edgec_dec_tensor t;
        if (edgec_dec_info(&d, i, &t))
            return 1;
        max = t.raw_size > max ? t.raw_size : max;
        once += t.raw_size;
    }
    if (!(out = malloc(max ? max : 1)))
        return 2;
    double bytes = 0, t0 = now(), t1;
    do {
        for (uint32_t i = 0; i < edgec_dec_count(&d); i++) {
            edgec_dec_tensor t;
            if (edgec_dec_info(&d, i, &t) || edgec_dec_tensor_read(&d, i, out, max))
                return 1;
            bytes += t.raw_size;
        }
    } while ((t1 = now()) - t0 < MIN_SECONDS);
    printf("%.0f %.3f %.1f\n", once, t1 - t0, bytes / (t1 - t0) / 1e6);
    free(out);
    free(blob);
    return 0;
}
