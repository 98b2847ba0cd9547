// quant_reference: ggml's reference quantizers and dequantizers behind a pipe, so that Scout's
// tests can compare its kernels/cpu code with llama.cpp's as a black box.
//
//   quant_reference quantize TYPE   < float32 values  > blocks of TYPE
//   quant_reference dequantize TYPE < blocks of TYPE  > float32 values
//   quant_reference types                               (lists the TYPE names)
//
// Values are raw little-endian bytes on stdin/stdout, no header. The element count must be a
// multiple of the type's block size. This program links ggml-base only; nothing of it goes into
// Scout's libraries. Exit status: 0 on success, 2 on a usage or input error.
#include "ggml.h"
#include "ggml-quants.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*quantize_fn)(const float * src, void * dst, int64_t n);
typedef void (*dequantize_fn)(const void * src, float * dst, int64_t n);

// Adapters from ggml's typed signatures to the untyped ones above.
#define ADAPT(name, block)                                                                 \
    static void harness_quantize_##name(const float * src, void * dst, int64_t n) {       \
        quantize_row_##name##_ref(src, (block *) dst, n);                                  \
    }                                                                                      \
    static void harness_dequantize_##name(const void * src, float * dst, int64_t n) {     \
        dequantize_row_##name((const block *) src, dst, n);                                \
    }

ADAPT(q8_0, block_q8_0)
ADAPT(q4_0, block_q4_0)
ADAPT(q4_K, block_q4_K)
ADAPT(q5_K, block_q5_K)
ADAPT(q6_K, block_q6_K)
ADAPT(q8_K, block_q8_K)

static void harness_quantize_f16(const float * src, void * dst, int64_t n) {
    ggml_fp32_to_fp16_row(src, (ggml_fp16_t *) dst, n);
}
static void harness_dequantize_f16(const void * src, float * dst, int64_t n) {
    ggml_fp16_to_fp32_row((const ggml_fp16_t *) src, dst, n);
}
static void harness_quantize_bf16(const float * src, void * dst, int64_t n) {
    ggml_fp32_to_bf16_row_ref(src, (ggml_bf16_t *) dst, n);
}
static void harness_dequantize_bf16(const void * src, float * dst, int64_t n) {
    ggml_bf16_to_fp32_row((const ggml_bf16_t *) src, dst, n);
}

struct type_entry {
    const char * name;
    enum ggml_type type;
    quantize_fn quantize;
    dequantize_fn dequantize;
};

static const struct type_entry k_types[] = {
    {"f16",  GGML_TYPE_F16,  harness_quantize_f16,  harness_dequantize_f16},
    {"bf16", GGML_TYPE_BF16, harness_quantize_bf16, harness_dequantize_bf16},
    {"q8_0", GGML_TYPE_Q8_0, harness_quantize_q8_0, harness_dequantize_q8_0},
    {"q4_0", GGML_TYPE_Q4_0, harness_quantize_q4_0, harness_dequantize_q4_0},
    {"q4_K", GGML_TYPE_Q4_K, harness_quantize_q4_K, harness_dequantize_q4_K},
    {"q5_K", GGML_TYPE_Q5_K, harness_quantize_q5_K, harness_dequantize_q5_K},
    {"q6_K", GGML_TYPE_Q6_K, harness_quantize_q6_K, harness_dequantize_q6_K},
    {"q8_K", GGML_TYPE_Q8_K, harness_quantize_q8_K, harness_dequantize_q8_K},
};

static int usage(void) {
    fprintf(stderr, "usage: quant_reference quantize|dequantize TYPE < in > out\n"
                    "       quant_reference types\n");
    return 2;
}

// Reads all of stdin; returns NULL on failure. *size receives the byte count.
static unsigned char * read_all(size_t * size) {
    size_t cap = 1 << 16, len = 0;
    unsigned char * buf = malloc(cap);
    if (!buf) return NULL;
    for (;;) {
        if (len == cap) {
            cap *= 2;
            unsigned char * grown = realloc(buf, cap);
            if (!grown) { free(buf); return NULL; }
            buf = grown;
        }
        size_t got = fread(buf + len, 1, cap - len, stdin);
        len += got;
        if (got == 0) break;
    }
    if (ferror(stdin)) { free(buf); return NULL; }
    *size = len;
    return buf;
}

int main(int argc, char ** argv) {
    if (argc == 2 && strcmp(argv[1], "types") == 0) {
        for (size_t i = 0; i < sizeof(k_types) / sizeof(k_types[0]); ++i) printf("%s\n", k_types[i].name);
        return 0;
    }
    if (argc != 3) return usage();
    const int quantize = strcmp(argv[1], "quantize") == 0;
    if (!quantize && strcmp(argv[1], "dequantize") != 0) return usage();

    const struct type_entry * entry = NULL;
    for (size_t i = 0; i < sizeof(k_types) / sizeof(k_types[0]); ++i)
        if (strcmp(argv[2], k_types[i].name) == 0) entry = &k_types[i];
    if (!entry) {
        fprintf(stderr, "quant_reference: unknown type '%s' (see: quant_reference types)\n", argv[2]);
        return 2;
    }

    size_t in_size = 0;
    unsigned char * in = read_all(&in_size);
    if (!in) { fprintf(stderr, "quant_reference: cannot read stdin\n"); return 2; }

    const int64_t block = ggml_blck_size(entry->type);
    const size_t block_bytes = ggml_type_size(entry->type);
    int64_t n = 0;
    size_t out_size = 0;
    if (quantize) {
        if (in_size % sizeof(float) != 0 || (int64_t) (in_size / sizeof(float)) % block != 0) {
            fprintf(stderr, "quant_reference: %zu input bytes are not whole blocks of %lld floats\n",
                    in_size, (long long) block);
            return 2;
        }
        n = (int64_t) (in_size / sizeof(float));
        out_size = (size_t) (n / block) * block_bytes;
    } else {
        if (in_size % block_bytes != 0) {
            fprintf(stderr, "quant_reference: %zu input bytes are not whole %zu-byte blocks\n", in_size, block_bytes);
            return 2;
        }
        n = (int64_t) (in_size / block_bytes) * block;
        out_size = (size_t) n * sizeof(float);
    }

    // The input is copied into a fresh, suitably aligned buffer: ggml's row functions take typed
    // pointers. The output starts zeroed: quantize_row_q8_K_ref leaves the bsums of an all-zero
    // block unwritten, and zero is what they should hold.
    void * src = malloc(in_size ? in_size : 1);
    void * dst = calloc(1, out_size ? out_size : 1);
    if (!src || !dst) { fprintf(stderr, "quant_reference: out of memory\n"); return 2; }
    memcpy(src, in, in_size);
    free(in);

    if (quantize) entry->quantize((const float *) src, dst, n);
    else entry->dequantize(src, (float *) dst, n);

    if (fwrite(dst, 1, out_size, stdout) != out_size || fflush(stdout) != 0) {
        fprintf(stderr, "quant_reference: cannot write stdout\n");
        return 2;
    }
    free(src);
    free(dst);
    return 0;
}
