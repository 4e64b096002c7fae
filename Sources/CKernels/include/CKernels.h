// Integer kernels for q8_0 weights, in C because they need the CPU's integer dot-product
// instructions (AVX512-VNNI vpdpbusd, AVX2 vpmaddubsw), which Swift cannot name. Each entry
// point picks the best implementation for the running CPU once (cpu feature checks) and has
// a portable scalar fallback, so the package builds and runs on any CPU.
#ifndef DEPTHSCOPE_CKERNELS_H
#define DEPTHSCOPE_CKERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Elements per q8_0 block (as GGUF's QK8_0).
#define DS_Q8_0_BLOCK 32
/// Bytes per q8_0 block: f16 scale + 32 int8 (GGUF's block_q8_0, 34 bytes, packed).
#define DS_Q8_0_BLOCK_BYTES 34

/// Activations quantised for the q8_0 dot products: `count / 32` f32 scales and
/// `count` int8 values, block after block (one scale per 32 values).
typedef struct {
    float *scales;
    int8_t *values;
} ds_q8_activations;

/// Quantises `count` floats (a multiple of 32) as GGUF does for q8_0: per block of 32,
/// d = max|x| / 127, q = round(x / d). Writes `blocks` (count / 32 * 34 bytes, GGUF layout).
void ds_quantize_q8_0(const float *x, void *blocks, int64_t count);

/// Widens q8_0 blocks (`count` elements) to f32.
void ds_dequantize_q8_0(const void *blocks, float *y, int64_t count);

/// Quantises `count` activations (a multiple of 32) into `out` (same rounding as above).
void ds_quantize_activations(const float *x, ds_q8_activations out, int64_t count);

/// y[r] = W[r] . x for r in [row_begin, row_end), W row-major q8_0 with `columns` (a
/// multiple of 32) per row, x quantised with ds_quantize_activations.
void ds_matvec_q8_0(const void *weights, int64_t columns, int64_t row_begin, int64_t row_end,
                    const float *x_scales, const int8_t *x_values, float *y);

/// Batched: y[t * y_stride + r] = W[r] . x_t for tokens t in [0, tokens) and rows in
/// [row_begin, row_end); token t's activations start at x_scales + t * columns / 32 and
/// x_values + t * columns.
void ds_matmul_q8_0(const void *weights, int64_t columns, int64_t row_begin, int64_t row_end,
                    const float *x_scales, const int8_t *x_values, int64_t tokens,
                    float *y, int64_t y_stride);

/// Which implementation the q8_0 kernels use on this CPU: "avx512vnni", "avx2" or "scalar".
const char *ds_q8_0_implementation(void);

/// Asks the CPU to start loading the cache lines of [start, start + bytes) (read, keep in
/// all cache levels): decode streams weights row by row, and short rows end before the
/// hardware prefetcher has caught up.
static inline void ds_prefetch(const void *start, int64_t bytes) {
    const char *p = (const char *)start;
    for (int64_t offset = 0; offset < bytes; offset += 64) __builtin_prefetch(p + offset, 0, 3);
}

/// The CPU's spin-wait hint (x86 `pause`; nothing elsewhere).
static inline void ds_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

#ifdef __cplusplus
}
#endif

#endif
