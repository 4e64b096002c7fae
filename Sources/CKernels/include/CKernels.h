// Integer kernels for q8_0 weights, in C because they need the CPU's integer dot-product
// instruction (AVX512-VNNI vpdpbusd), which Swift cannot name. Each entry point picks the
// best implementation for the running CPU once (cpu feature checks): avx512vnni, else the
// portable code compiled for AVX2, else the portable code as it is. The package builds and
// runs on any CPU.
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
/// Rows per packed group: one AVX-512 register of int32 sums, one lane per row.
#define DS_Q8_0_GROUP 16

/// Activations quantised for the q8_0 products, per block of 32: an f32 scale, 32 int8
/// values, and -128 x the block's sum of values (the kernels multiply weights stored as
/// unsigned w + 128; this term takes the 128 back out).
typedef struct {
    float *scales;
    int8_t *values;
    int32_t *offsets;
} ds_q8_activations;

/// Quantises `count` floats (a multiple of 32) as GGUF does for q8_0: per block of 32,
/// d = max|x| / 127, q = round(x / d). Writes `blocks` (count / 32 * 34 bytes, GGUF layout).
void ds_quantize_q8_0(const float *x, void *blocks, int64_t count);

/// Quantises `count` activations (a multiple of 32) into `out` (same rounding as above).
void ds_quantize_activations(const float *x, ds_q8_activations out, int64_t count);

/// The engine's q8_0 layout, in which the kernels read weights: rows in groups of 16, and
/// per group and block of 32 columns, the 16 rows' f16 scales, then for each 4 columns the
/// 16 rows' 4 bytes side by side (w + 128, unsigned). One 64-byte load then feeds one
/// vpdpbusd for 16 rows, and the weights stream strictly in address order. Same 34 bytes
/// per 32 weights as GGUF; the last group is padded with zero rows.
int64_t ds_q8_0_packed_bytes(int64_t rows, int64_t columns);

/// Packs `rows` (at most 16) consecutive rows of GGUF block_q8_0 data (`columns` per row,
/// a multiple of 32) into one group of the packed layout (missing rows become zero rows).
void ds_q8_0_pack_group(const void *blocks, int64_t rows, int64_t columns, void *group);

/// Writes row `row` of a packed matrix as f32 (`columns` floats).
void ds_q8_0_unpack_row(const void *packed, int64_t columns, int64_t row, float *y);

/// y[t * y_stride + r] = W[r] . x_t for the rows r of groups [group_begin, group_end) (rows
/// past `rows`, the padding, are not written) and tokens t in [0, tokens). Token t's
/// activations start at x.scales/x.offsets + t * columns / 32 and x.values + t * columns.
void ds_matmul_q8_0(const void *packed, int64_t rows, int64_t columns, int64_t group_begin, int64_t group_end,
                    ds_q8_activations x, int64_t tokens, float *y, int64_t y_stride);

/// Which implementation the q8_0 kernels use on this CPU: "avx512vnni", "avx2" or "portable".
const char *ds_q8_0_implementation(void);

/// ds_matmul_q8_0 with a named implementation (tests compare them). Returns 0 when this
/// CPU cannot run it (nothing written), 1 otherwise.
int ds_matmul_q8_0_using(const char *implementation, const void *packed, int64_t rows, int64_t columns,
                         int64_t group_begin, int64_t group_end, ds_q8_activations x, int64_t tokens, float *y,
                         int64_t y_stride);

// MARK: - Prompt products for f32, f16 and bf16 weights (gemm_float.c)

/// Weight formats of ds_gemm_float.
#define DS_GEMM_F32 0
#define DS_GEMM_F16 1
#define DS_GEMM_BF16 2

/// Floats ds_gemm_pack_inputs writes for all `columns`: `columns` x `tokens` rounded up to 16.
int64_t ds_gemm_inputs_count(int64_t tokens, int64_t columns);

/// Transposes `tokens` inputs (token t's `columns` floats at x + t * x_stride) to column-major
/// `xt`, tokens in the lanes: xt[c * padded + t], padded = tokens rounded up to 16, the padding
/// zero. One layout serves every row of a product. Writes columns [column_begin, column_end)
/// only, so that threads can share the work.
void ds_gemm_pack_inputs(const float *x, int64_t x_stride, int64_t tokens, int64_t column_begin, int64_t column_end,
                         float *xt);

/// y[t * y_stride + r] = W[r] . x_t for rows r in [row_begin, row_end) of a row-major
/// `format` matrix of `columns` columns and the tokens packed in `xt`. AVX-512 only: returns
/// 0 (nothing written) on a CPU without it, 1 otherwise.
int ds_gemm_float(int format, const void *weights, int64_t columns, int64_t row_begin, int64_t row_end,
                  const float *xt, int64_t tokens, float *y, int64_t y_stride);

/// Whether ds_gemm_float runs on this CPU.
int ds_gemm_float_available(void);

// MARK: - Softmax (softmax.c)

/// In-place softmax of `count` values (attention weights, router probabilities); -inf
/// entries (masked keys) get exactly 0, and all -inf gives all 0. AVX-512: the exp below,
/// 16 values at a time; elsewhere expf.
void ds_softmax(float *x, int64_t count);

/// The maximum of `count` values (into `maximum`) and the sum of exp(x - maximum), in
/// double: softmax's denominator, for the probabilities traces show at every step (logit
/// lens, candidates). AVX-512: 16 values at a time with a polynomial exp within 1e-7 of
/// expf; elsewhere expf value by value.
double ds_softmax_denominator(const float *x, int64_t count, float *maximum);

/// out[i] = exp(x[i]) for x[i] <= 0 with the exp that ds_softmax_denominator sums (tests).
void ds_softmax_exp(const float *x, int64_t count, float *out);

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
