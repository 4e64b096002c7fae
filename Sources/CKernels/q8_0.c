// q8_0 kernels: GGUF block_q8_0 weights times int8-quantised activations, integer dot
// products per block of 32, scaled in f32. See CKernels.h.
#include "CKernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define DS_X86 1
#endif

// MARK: - f16 <-> f32 (portable, round to nearest even)

static inline float f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exponent = (h >> 10) & 0x1f;
    uint32_t mantissa = h & 0x3ff;
    uint32_t bits;
    if (exponent == 0) {
        if (mantissa == 0) {
            bits = sign;
        } else {  // subnormal: normalise
            exponent = 127 - 15 + 1;
            while ((mantissa & 0x400) == 0) { mantissa <<= 1; exponent--; }
            mantissa &= 0x3ff;
            bits = sign | (exponent << 23) | (mantissa << 13);
        }
    } else if (exponent == 31) {
        bits = sign | 0x7f800000 | (mantissa << 13);
    } else {
        bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline uint16_t f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    int32_t exponent = (int32_t)((x >> 23) & 0xff) - 127 + 15;
    uint32_t mantissa = x & 0x7fffff;
    if (((x >> 23) & 0xff) == 0xff) return (uint16_t)(sign | 0x7c00 | (mantissa ? 0x200 : 0));
    if (exponent >= 31) return (uint16_t)(sign | 0x7c00);
    if (exponent <= 0) {
        if (exponent < -10) return (uint16_t)sign;
        mantissa |= 0x800000;
        uint32_t shift = (uint32_t)(14 - exponent);
        uint32_t half = mantissa >> shift;
        uint32_t rest = mantissa & ((1u << shift) - 1);
        uint32_t midpoint = 1u << (shift - 1);
        if (rest > midpoint || (rest == midpoint && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = sign | ((uint32_t)exponent << 10) | (mantissa >> 13);
    uint32_t rest = mantissa & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) half++;  // may carry into the exponent: correct
    return (uint16_t)half;
}

typedef struct {
    uint16_t d;
    int8_t qs[DS_Q8_0_BLOCK];
} __attribute__((packed)) block_q8_0;

_Static_assert(sizeof(block_q8_0) == DS_Q8_0_BLOCK_BYTES, "block_q8_0 must be 34 bytes as in GGUF");

// MARK: - Quantisation (reference rounding, as ggml's quantize_row_q8_0_ref)

static float block_scale(const float *x, float *inverse) {
    float amax = 0;
    for (int i = 0; i < DS_Q8_0_BLOCK; i++) {
        float a = fabsf(x[i]);
        if (a > amax) amax = a;
    }
    float d = amax / 127.0f;
    *inverse = d != 0 ? 1.0f / d : 0.0f;
    return d;
}

void ds_quantize_q8_0(const float *x, void *blocks, int64_t count) {
    block_q8_0 *out = (block_q8_0 *)blocks;
    for (int64_t b = 0; b < count / DS_Q8_0_BLOCK; b++) {
        const float *xb = x + b * DS_Q8_0_BLOCK;
        float inverse;
        float d = block_scale(xb, &inverse);
        out[b].d = f32_to_f16(d);
        for (int i = 0; i < DS_Q8_0_BLOCK; i++) out[b].qs[i] = (int8_t)roundf(xb[i] * inverse);
    }
}

void ds_dequantize_q8_0(const void *blocks, float *y, int64_t count) {
    const block_q8_0 *in = (const block_q8_0 *)blocks;
    for (int64_t b = 0; b < count / DS_Q8_0_BLOCK; b++) {
        float d = f16_to_f32(in[b].d);
        for (int i = 0; i < DS_Q8_0_BLOCK; i++) y[b * DS_Q8_0_BLOCK + i] = d * (float)in[b].qs[i];
    }
}

void ds_quantize_activations(const float *x, ds_q8_activations out, int64_t count) {
    for (int64_t b = 0; b < count / DS_Q8_0_BLOCK; b++) {
        const float *xb = x + b * DS_Q8_0_BLOCK;
        float inverse;
        out.scales[b] = block_scale(xb, &inverse);
        for (int i = 0; i < DS_Q8_0_BLOCK; i++) out.values[b * DS_Q8_0_BLOCK + i] = (int8_t)roundf(xb[i] * inverse);
    }
}

// MARK: - Scalar fallback

static void matmul_scalar(const void *weights, int64_t columns, int64_t row_begin, int64_t row_end,
                          const float *xs, const int8_t *xv, int64_t tokens, float *y, int64_t y_stride,
                          const float *transposed) {
    (void)transposed;
    const int64_t nb = columns / DS_Q8_0_BLOCK;
    for (int64_t r = row_begin; r < row_end; r++) {
        const block_q8_0 *w = (const block_q8_0 *)weights + r * nb;
        for (int64_t t = 0; t < tokens; t++) {
            const float *ts = xs + t * nb;
            const int8_t *tv = xv + t * columns;
            float sum = 0;
            for (int64_t b = 0; b < nb; b++) {
                int32_t dot = 0;
                for (int i = 0; i < DS_Q8_0_BLOCK; i++) dot += (int32_t)w[b].qs[i] * (int32_t)tv[b * DS_Q8_0_BLOCK + i];
                sum += (float)dot * f16_to_f32(w[b].d) * ts[b];
            }
            y[t * y_stride + r] = sum;
        }
    }
}

#if DS_X86

// The int8 x int8 dot product of one block (32 lanes) as 8 int32 partial sums. Both
// instruction sets multiply unsigned by signed bytes, so the weight's sign moves onto the
// activation: |w| * (x * sign(w)) (the llama.cpp trick; |-128| reads as 128 unsigned).
#define BLOCK_DOT_VNNI(qw, qx) \
    _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8((qw), (qw)), _mm256_sign_epi8((qx), (qw)))
#define BLOCK_DOT_AVX2(qw, qx)                                                                                      \
    _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8((qw), (qw)), _mm256_sign_epi8((qx), (qw))), \
                      _mm256_set1_epi16(1))

// f16 scale -> f32 through a zeroing vmovd: _cvtsh_ss compiles to a vpinsrw that merges
// into whatever register is free, which was the FMA accumulator, chaining every block's
// scale conversion to the previous block's FMA (four times slower).
// (The compiler folds even _mm_cvtsi32_si128 back into vpinsrw, hence the asm.)
#define SCALE_F16(h)                                                       \
    ({                                                                     \
        __m128i bits_;                                                     \
        __asm__("vmovd %1, %0" : "=x"(bits_) : "r"((uint32_t)(h)));        \
        _mm_cvtss_f32(_mm_cvtph_ps(bits_));                                \
    })

#define HSUM256(v, out)                                                         \
    do {                                                                        \
        __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1)); \
        s4 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));                             \
        s4 = _mm_add_ss(s4, _mm_movehdup_ps(s4));                               \
        out = _mm_cvtss_f32(s4);                                                \
    } while (0)

// One row (or four tokens of one row) at a time; the weight block is loaded once and
// multiplied with every token's block, so a batched prompt streams the weights once.
#define DEFINE_MATMUL(NAME, TARGET, BLOCK_DOT)                                                              \
    __attribute__((target(TARGET))) static void NAME(                                                       \
        const void *weights, int64_t columns, int64_t row_begin, int64_t row_end, const float *xs,          \
        const int8_t *xv, int64_t tokens, float *y, int64_t y_stride, const float *transposed) {             \
        const int64_t nb = columns / DS_Q8_0_BLOCK;                                                         \
        /* Decode: prefetch the row ~4 KiB ahead (see ds_prefetch). */                                      \
        const int64_t row_bytes = nb * DS_Q8_0_BLOCK_BYTES;                                                 \
        const int64_t prefetch_rows = row_bytes >= 4096 ? 1 : 4096 / row_bytes;                              \
        for (int64_t r = row_begin; r < row_end; r++) {                                                     \
            const block_q8_0 *w = (const block_q8_0 *)weights + r * nb;                                     \
            int64_t t = 0;                                                                                  \
            for (; t + 4 <= tokens; t += 4) {                                                               \
                /* The four tokens' block sums are folded into one vector (two hadds), so   */               \
                /* conversion, scaling and accumulation cost one instruction each per block. */               \
                __m256 acc = _mm256_setzero_ps();                                                           \
                const int8_t *v0 = xv + t * columns;                                                        \
                const float *sg = transposed + (t / 4) * nb * 4;                                            \
                for (int64_t b = 0; b < nb; b++) {                                                          \
                    __m256i qw = _mm256_loadu_si256((const __m256i *)w[b].qs);                              \
                    const int8_t *vb = v0 + b * DS_Q8_0_BLOCK;                                              \
                    __m256i d0 = BLOCK_DOT(qw, _mm256_loadu_si256((const __m256i *)(vb)));                  \
                    __m256i d1 = BLOCK_DOT(qw, _mm256_loadu_si256((const __m256i *)(vb + columns)));        \
                    __m256i d2 = BLOCK_DOT(qw, _mm256_loadu_si256((const __m256i *)(vb + 2 * columns)));    \
                    __m256i d3 = BLOCK_DOT(qw, _mm256_loadu_si256((const __m256i *)(vb + 3 * columns)));    \
                    /* lanes: t0..t3 (low halves) | t0..t3 (high halves) */                                  \
                    __m256i folded = _mm256_hadd_epi32(_mm256_hadd_epi32(d0, d1), _mm256_hadd_epi32(d2, d3)); \
                    __m256 scale = _mm256_mul_ps(_mm256_set1_ps(SCALE_F16(w[b].d)),                         \
                                                 _mm256_broadcast_ps((const __m128 *)(sg + b * 4)));         \
                    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(folded), scale, acc);                          \
                }                                                                                           \
                __m128 sums = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));       \
                float out[4];                                                                               \
                _mm_storeu_ps(out, sums);                                                                   \
                y[t * y_stride + r] = out[0];                                                               \
                y[(t + 1) * y_stride + r] = out[1];                                                         \
                y[(t + 2) * y_stride + r] = out[2];                                                         \
                y[(t + 3) * y_stride + r] = out[3];                                                         \
            }                                                                                               \
            if (tokens == 1 && r + prefetch_rows < row_end)                                                 \
                ds_prefetch((const block_q8_0 *)weights + (r + prefetch_rows) * nb, nb * DS_Q8_0_BLOCK_BYTES);  \
            for (; t < tokens; t++) {                                                                       \
                /* Two accumulators over alternating blocks hide the FMA latency. */                        \
                __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();                                  \
                const int8_t *v0 = xv + t * columns;                                                        \
                const float *s0 = xs + t * nb;                                                              \
                int64_t b = 0;                                                                              \
                for (; b + 2 <= nb; b += 2) {                                                               \
                    __m256i qw0 = _mm256_loadu_si256((const __m256i *)w[b].qs);                             \
                    __m256i qw1 = _mm256_loadu_si256((const __m256i *)w[b + 1].qs);                         \
                    __m256i d0 = BLOCK_DOT(qw0, _mm256_loadu_si256((const __m256i *)(v0 + b * 32)));        \
                    __m256i d1 = BLOCK_DOT(qw1, _mm256_loadu_si256((const __m256i *)(v0 + b * 32 + 32)));   \
                    a0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(d0), _mm256_set1_ps(SCALE_F16(w[b].d) * s0[b]), a0); \
                    a1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(d1),                                            \
                                         _mm256_set1_ps(SCALE_F16(w[b + 1].d) * s0[b + 1]), a1);             \
                }                                                                                           \
                for (; b < nb; b++) {                                                                       \
                    __m256i qw0 = _mm256_loadu_si256((const __m256i *)w[b].qs);                             \
                    __m256i d0 = BLOCK_DOT(qw0, _mm256_loadu_si256((const __m256i *)(v0 + b * 32)));        \
                    a0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(d0), _mm256_set1_ps(SCALE_F16(w[b].d) * s0[b]), a0); \
                }                                                                                           \
                a0 = _mm256_add_ps(a0, a1);                                                                 \
                HSUM256(a0, y[t * y_stride + r]);                                                           \
            }                                                                                               \
        }                                                                                                   \
    }

DEFINE_MATMUL(matmul_vnni, "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni", BLOCK_DOT_VNNI)
DEFINE_MATMUL(matmul_avx2, "avx2,fma,f16c", BLOCK_DOT_AVX2)

#endif

typedef void (*matmul_fn)(const void *, int64_t, int64_t, int64_t, const float *, const int8_t *, int64_t,
                          float *, int64_t, const float *);

static matmul_fn chosen_matmul;
static const char *chosen_name;

static void choose(void) {
    if (chosen_matmul) return;
#if DS_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        chosen_name = "avx512vnni";
        chosen_matmul = matmul_vnni;
        return;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        chosen_name = "avx2";
        chosen_matmul = matmul_avx2;
        return;
    }
#endif
    chosen_name = "scalar";
    chosen_matmul = matmul_scalar;
}

const char *ds_q8_0_implementation(void) {
    choose();
    return chosen_name;
}

void ds_matmul_q8_0(const void *weights, int64_t columns, int64_t row_begin, int64_t row_end,
                    const float *x_scales, const int8_t *x_values, int64_t tokens, float *y, int64_t y_stride) {
    choose();
    // Groups of four tokens read their block scales side by side: scales transposed to
    // [token group][block][token in group] (a few KiB per prompt chunk, not per token).
    const int64_t nb = columns / DS_Q8_0_BLOCK;
    const int64_t groups = tokens / 4;
    float *transposed = NULL;
    if (groups > 0) {
        transposed = (float *)malloc((size_t)(groups * nb * 4) * sizeof(float));
        if (!transposed) {  // out of memory: the scalar kernel needs no scratch
            matmul_scalar(weights, columns, row_begin, row_end, x_scales, x_values, tokens, y, y_stride, NULL);
            return;
        } else {
            for (int64_t g = 0; g < groups; g++)
                for (int64_t b = 0; b < nb; b++)
                    for (int64_t k = 0; k < 4; k++) transposed[(g * nb + b) * 4 + k] = x_scales[(g * 4 + k) * nb + b];
        }
    }
    chosen_matmul(weights, columns, row_begin, row_end, x_scales, x_values, tokens, y, y_stride, transposed);
    free(transposed);
}

void ds_matvec_q8_0(const void *weights, int64_t columns, int64_t row_begin, int64_t row_end,
                    const float *x_scales, const int8_t *x_values, float *y) {
    ds_matmul_q8_0(weights, columns, row_begin, row_end, x_scales, x_values, 1, y, 0);
}
