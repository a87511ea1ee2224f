/* The public load and save entry points. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/outfile.h"
#include "onnx/ext_writer.h"
#include "onnx/onnx_internal.h"

/* Unpacked messages may take more memory than their wire bytes (an empty NodeProto is
 * two bytes on disk and a hundred in memory). Files needing more than this factor, plus
 * a fixed allowance, are refused as hostile before anything is allocated. */
#define MEM_FACTOR 16
#define MEM_ALLOWANCE ((uint64_t)256 << 20)
/* Tensor data at least this long gives its file pages back once copied (see parse). */
#define RELEASE_MIN ((size_t)64 << 10)

void edgec_model_free(edgec_model *model)
{
    if (!model)
        return;
    edgec__arena_free(model->arena);
}

/* Gives back the file pages of the tensor data protobuf-c has finished copying, so that
 * the mapped file and its copy in the arena are not resident at once (twice the model
 * at the load; issue 10). protobuf-c allocates each bytes field right before copying it,
 * in wire order: when the allocation for span k arrives, the spans before it have been
 * copied. The mapping is private and never written, so a page dropped too early is read
 * back from the file on its next use: a wrong guess about the order costs time, never
 * data. */
typedef struct page_releaser {
    edgec_arena *arena;
    const uint8_t *base;
    const edgec_wire_spans *spans;
    size_t next; /* the span whose allocation comes next */
} page_releaser;

static void release_span(const page_releaser *r, size_t k)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = (uintptr_t)(r->base + r->spans->v[k].off);
    uintptr_t b = (a + r->spans->v[k].len) & ~(page - 1);
    a = (a + page - 1) & ~(page - 1);
    if (b > a)
        madvise((void *)a, b - a, MADV_DONTNEED);
}

static void *releasing_alloc(void *data, size_t size)
{
    page_releaser *r = data;
    if (r->next < r->spans->n && size == r->spans->v[r->next].len) {
        if (r->next)
            release_span(r, r->next - 1);
        r->next++;
    }
    return edgec__arena_alloc(r->arena, size);
}

static void releasing_free(void *data, void *ptr)
{
    (void)data;
    (void)ptr; /* released with the arena */
}

/* Parses `len` bytes at `buf`; `mapped` says they are a private read-only file mapping
 * whose pages may be dropped as they are copied. */
static edgec_status parse(edgec_model *m, const uint8_t *buf, size_t len, bool mapped)
{
    if (len == 0)
        return edgec__fail(EDGEC_STATUS_INVALID_MODEL, "%s: the file is empty, not an ONNX model",
                           m->path);
    if ((uint64_t)len > EDGEC_PROTO_LIMIT)
        return edgec__fail(EDGEC_STATUS_LIMIT,
                           "%s: %zu bytes exceeds the 2 GB protobuf limit; large weights belong "
                           "in external data",
                           m->path, len);
    uint64_t mem;
    edgec_wire_spans spans = {.min_len = RELEASE_MIN};
    page_releaser rel = {m->arena, buf, &spans, 0};
    Onnx__ModelProto *pb = NULL;
    edgec_status st = edgec__wire_scan(buf, len, m->path, &mem, mapped ? &spans : NULL);
    if (st)
        goto cleanup;
    if (mem > (uint64_t)len * MEM_FACTOR + MEM_ALLOWANCE) {
        st = edgec__fail(EDGEC_STATUS_LIMIT,
                         "%s: parsing these %zu bytes would take about %llu MB of memory; "
                         "refusing a file built to exhaust memory",
                         m->path, len, (unsigned long long)(mem >> 20));
        goto cleanup;
    }
    ProtobufCAllocator alloc;
    edgec__pb_allocator(m->arena, &alloc);
    if (spans.n)
        alloc = (ProtobufCAllocator){releasing_alloc, releasing_free, &rel};
    pb = onnx__model_proto__unpack(&alloc, len, buf);
    if (!pb) {
        st = edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                         "%s: not a valid ONNX model (protobuf decoding failed)", m->path);
        goto cleanup;
    }
    if (rel.next)
        release_span(&rel, rel.next - 1);
    st = edgec__ir_from_proto(m, pb);
cleanup:
    free(spans.v);
    return st;
}

static edgec_status new_model(const char *name, const char *dir, edgec_model **out)
{
    edgec_arena *a = edgec__arena_new();
    edgec_model *m = a ? edgec__arena_calloc(a, 1, sizeof *m) : NULL;
    if (!m) {
        edgec__arena_free(a);
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "%s: out of memory", name);
    }
    m->arena = a;
    m->path = edgec__arena_strdup(a, name);
    m->dir = dir ? edgec__arena_strdup(a, dir) : NULL;
    if (!m->path || (dir && !m->dir)) {
        edgec__arena_free(a);
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "%s: out of memory", name);
    }
    *out = m;
    return EDGEC_STATUS_OK;
}

edgec_status edgec_model_load_buffer(const void *data, size_t size, const char *name,
                                     const char *dir, edgec_model **out)
{
    *out = NULL;
    edgec__error_clear();
    edgec_model *m = NULL;
    edgec_status st = new_model(name ? name : "<memory>", dir, &m);
    if (st)
        return st;
    m->file_size = size;
    st = parse(m, data, size, false);
    if (st) {
        edgec_model_free(m);
        return st;
    }
    *out = m;
    return EDGEC_STATUS_OK;
}

/* Reads a stream (stdin, a pipe) whole, up to the protobuf limit. */
static edgec_status slurp(int fd, const char *name, uint8_t **buf, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap);
    if (!b)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "%s: out of memory", name);
    for (;;) {
        if (n == cap) {
            if ((uint64_t)cap > EDGEC_PROTO_LIMIT) {
                free(b);
                return edgec__fail(EDGEC_STATUS_LIMIT, "%s: input exceeds the 2 GB protobuf limit",
                                   name);
            }
            uint8_t *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                return edgec__fail(EDGEC_STATUS_NO_MEMORY, "%s: out of memory", name);
            }
            b = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, b + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(b);
            return edgec__fail(EDGEC_STATUS_IO, "%s: read failed: %s", name, strerror(errno));
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *buf = b;
    *len = n;
    return EDGEC_STATUS_OK;
}

edgec_status edgec_model_load(const char *path, edgec_model **out)
{
    *out = NULL;
    edgec__error_clear();
    edgec_status st;
    edgec_model *m = NULL;
    uint8_t *heap = NULL;
    void *map = MAP_FAILED;
    size_t len = 0;
    int fd = -1;
    struct stat sb;
    bool is_stdin = !strcmp(path, "-");

    if (is_stdin) {
        if ((st = new_model("<stdin>", NULL, &m)) ||
            (st = slurp(STDIN_FILENO, "<stdin>", &heap, &len)))
            goto cleanup;
        st = parse(m, heap, len, false);
        goto cleanup;
    }
    char dirbuf[PATH_MAX];
    if (strlen(path) >= sizeof dirbuf)
        return edgec__fail(EDGEC_STATUS_IO, "%s: path too long", path);
    strcpy(dirbuf, path);
    if ((st = new_model(path, dirname(dirbuf), &m)))
        goto cleanup;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 || fstat(fd, &sb) != 0) {
        st = edgec__fail(EDGEC_STATUS_IO, "%s: cannot open: %s", path, strerror(errno));
        goto cleanup;
    }
    if (S_ISDIR(sb.st_mode)) {
        st = edgec__fail(EDGEC_STATUS_IO, "%s: is a directory, not a model file", path);
        goto cleanup;
    }
    m->files = edgec__arena_calloc(m->arena, 1, sizeof *m->files);
    if (!m->files) {
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "%s: out of memory", path);
        goto cleanup;
    }
    m->files[0] = (edgec_file_id){sb.st_dev, sb.st_ino, m->path};
    m->n_files = 1;
    if (S_ISREG(sb.st_mode)) {
        if ((uint64_t)sb.st_size > EDGEC_PROTO_LIMIT) {
            st = edgec__fail(EDGEC_STATUS_LIMIT,
                             "%s: %lld bytes exceeds the 2 GB protobuf limit; large weights "
                             "belong in external data",
                             path, (long long)sb.st_size);
            goto cleanup;
        }
        len = (size_t)sb.st_size;
        if (len) {
            map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
            if (map == MAP_FAILED) {
                st = edgec__fail(EDGEC_STATUS_IO, "%s: cannot map: %s", path, strerror(errno));
                goto cleanup;
            }
            madvise(map, len, MADV_SEQUENTIAL);
        }
        st = parse(m, map == MAP_FAILED ? (const uint8_t *)"" : map, len, map != MAP_FAILED);
    } else {
        if ((st = slurp(fd, path, &heap, &len)))
            goto cleanup;
        st = parse(m, heap, len, false);
    }
    m->file_size = len;
cleanup:
    if (map != MAP_FAILED)
        munmap(map, len);
    free(heap);
    if (fd >= 0)
        close(fd);
    if (st) {
        edgec_model_free(m);
        return st;
    }
    m->file_size = len;
    *out = m;
    return EDGEC_STATUS_OK;
}

/* protobuf-c calls `append` for each piece of the encoded model; this forwards it to the
 * output file and keeps the first error. */
typedef struct file_sink {
    ProtobufCBuffer base;
    edgec_outfile *file;
    edgec_status status;
    char message[1024];
} file_sink;

static void sink_append(ProtobufCBuffer *b, size_t len, const uint8_t *data)
{
    file_sink *s = (file_sink *)b;
    if (s->status)
        return;
    s->status = edgec__outfile_write(s->file, data, len);
    if (s->status)
        snprintf(s->message, sizeof s->message, "%s", edgec_error_message());
}

static edgec_inode *forbidden_inodes(edgec_model *m)
{
    edgec_inode *f = edgec__arena_calloc(m->arena, m->n_files ? m->n_files : 1, sizeof *f);
    for (size_t i = 0; f && i < m->n_files; i++)
        f[i] = (edgec_inode){m->files[i].dev, m->files[i].ino};
    return f;
}

edgec_status edgec_model_save(edgec_model *m, const char *path, const edgec_save_options *opt)
{
    edgec__error_clear();
    edgec_external_mode mode = opt ? opt->external : EDGEC_EXTERNAL_AUTO;
    edgec_status st;
    edgec_outfile *out = NULL;
    edgec_ext_writer ext = {0};
    Onnx__ModelProto *pb = NULL;
    edgec_inode *forbid = forbidden_inodes(m);
    if (!forbid)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");

    bool use_ext = mode == EDGEC_EXTERNAL_ALWAYS || (mode == EDGEC_EXTERNAL_AUTO && m->had_external);
    if (!use_ext) {
        if ((st = edgec__proto_from_ir(m, NULL, &pb)))
            goto cleanup;
        size_t size = protobuf_c_message_get_packed_size(&pb->base);
        if ((uint64_t)size > EDGEC_PROTO_LIMIT) {
            if (mode == EDGEC_EXTERNAL_NEVER) {
                st = edgec__fail(EDGEC_STATUS_LIMIT,
                                 "%s: the model needs %zu bytes, over the 2 GB protobuf limit; "
                                 "allow external data",
                                 path, size);
                goto cleanup;
            }
            use_ext = true;
        }
    }
    if (use_ext && !strcmp(path, "-")) {
        st = edgec__fail(EDGEC_STATUS_USAGE,
                         "this model needs external data, which cannot go to standard output; "
                         "give -o FILE");
        goto cleanup;
    }
    if ((st = edgec__outfile_open(path, forbid, m->n_files, &out)))
        goto cleanup;
    if (use_ext) {
        if ((st = edgec__ext_writer_open(&ext, m->arena, path, forbid, m->n_files)) ||
            (st = edgec__proto_from_ir(m, &ext, &pb)))
            goto cleanup;
    }
    file_sink sink = {{sink_append}, out, EDGEC_STATUS_OK, ""};
    protobuf_c_message_pack_to_buffer(&pb->base, &sink.base);
    if (sink.status) {
        st = edgec__fail(sink.status, "%s", sink.message);
        goto cleanup;
    }
    /* The data file goes into place first, so that a model never names a missing file. */
    if (ext.file) {
        edgec_outfile *f = ext.file;
        ext.file = NULL;
        if ((st = edgec__outfile_commit(f)))
            goto cleanup;
    }
    edgec_outfile *f = out;
    out = NULL;
    st = edgec__outfile_commit(f);
cleanup:
    edgec__outfile_abort(ext.file);
    edgec__outfile_abort(out);
    return st;
}

typedef struct mem_sink {
    ProtobufCBuffer base;
    uint8_t *data;
    size_t len;
} mem_sink;

static void mem_append(ProtobufCBuffer *b, size_t len, const uint8_t *data)
{
    mem_sink *s = (mem_sink *)b;
    if (!len)
        return; /* protobuf-c passes NULL for empty bytes fields */
    memcpy(s->data + s->len, data, len);
    s->len += len;
}

edgec_status edgec_model_save_buffer(edgec_model *m, void **data, size_t *size)
{
    *data = NULL;
    *size = 0;
    Onnx__ModelProto *pb;
    edgec_status st = edgec__proto_from_ir(m, NULL, &pb);
    if (st)
        return st;
    size_t n = protobuf_c_message_get_packed_size(&pb->base);
    if ((uint64_t)n > EDGEC_PROTO_LIMIT)
        return edgec__fail(EDGEC_STATUS_LIMIT, "the model needs %zu bytes, over the 2 GB limit", n);
    mem_sink s = {{mem_append}, malloc(n ? n : 1), 0};
    if (!s.data)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    protobuf_c_message_pack_to_buffer(&pb->base, &s.base);
    *data = s.data;
    *size = s.len;
    return EDGEC_STATUS_OK;
}
