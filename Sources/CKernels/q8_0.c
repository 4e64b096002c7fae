// q8_0 kernels: q8_0 weights (packed in groups of 16 rows, see CKernels.h) times
// int8-quantised activations, integer dot products per block of 32, scaled in f32.
#include "CKernels.h"

#include <math.h>
#include <pthread.h>
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

static void quantize_activations_portable(const float *x, ds_q8_activations out, int64_t count) {
    for (int64_t b = 0; b < count / DS_Q8_0_BLOCK; b++) {
        const float *xb = x + b * DS_Q8_0_BLOCK;
        float inverse;
        out.scales[b] = block_scale(xb, &inverse);
        int32_t sum = 0;
        for (int i = 0; i < DS_Q8_0_BLOCK; i++) {
            int8_t q = (int8_t)roundf(xb[i] * inverse);
            out.values[b * DS_Q8_0_BLOCK + i] = q;
            sum += q;
        }
        out.offsets[b] = -128 * sum;
    }
}

// MARK: - Packed layout

/// Bytes of one group's block: 16 f16 scales, then 8 quads of 16 rows x 4 bytes.
#define GROUP_BLOCK_BYTES (DS_Q8_0_GROUP * DS_Q8_0_BLOCK_BYTES)
#define SCALE_BYTES (DS_Q8_0_GROUP * 2)
#define QUADS (DS_Q8_0_BLOCK / 4)

int64_t ds_q8_0_packed_bytes(int64_t rows, int64_t columns) {
    int64_t groups = (rows + DS_Q8_0_GROUP - 1) / DS_Q8_0_GROUP;
    return groups * (columns / DS_Q8_0_BLOCK) * GROUP_BLOCK_BYTES;
}

void ds_q8_0_pack_group(const void *blocks, int64_t rows, int64_t columns, void *group) {
    const int64_t nb = columns / DS_Q8_0_BLOCK;
    const block_q8_0 *in = (const block_q8_0 *)blocks;
    uint8_t *out = (uint8_t *)group;
    for (int64_t b = 0; b < nb; b++) {
        uint8_t *gb = out + b * GROUP_BLOCK_BYTES;
        for (int64_t j = 0; j < DS_Q8_0_GROUP; j++) {
            uint16_t d = j < rows ? in[j * nb + b].d : 0;
            memcpy(gb + 2 * j, &d, 2);
            for (int q = 0; q < QUADS; q++)
                for (int k = 0; k < 4; k++) {
                    int8_t w = j < rows ? in[j * nb + b].qs[q * 4 + k] : 0;
                    gb[SCALE_BYTES + (q * DS_Q8_0_GROUP + j) * 4 + k] = (uint8_t)(w ^ 0x80);  // w + 128
                }
        }
    }
}

void ds_q8_0_unpack_row(const void *packed, int64_t columns, int64_t row, float *y) {
    const int64_t nb = columns / DS_Q8_0_BLOCK;
    const uint8_t *group = (const uint8_t *)packed + (row / DS_Q8_0_GROUP) * nb * GROUP_BLOCK_BYTES;
    const int64_t j = row % DS_Q8_0_GROUP;
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *gb = group + b * GROUP_BLOCK_BYTES;
        uint16_t h;
        memcpy(&h, gb + 2 * j, 2);
        float d = f16_to_f32(h);
        for (int q = 0; q < QUADS; q++)
            for (int k = 0; k < 4; k++) {
                int8_t w = (int8_t)(gb[SCALE_BYTES + (q * DS_Q8_0_GROUP + j) * 4 + k] ^ 0x80);
                y[b * DS_Q8_0_BLOCK + q * 4 + k] = d * (float)w;
            }
    }
}

// MARK: - Portable kernel (compiled as it is, and for AVX2, where the compiler vectorises it)

#define DEFINE_PORTABLE(NAME, ATTRIBUTES)                                                                       \
    ATTRIBUTES static void NAME(const void *packed, int64_t rows, int64_t columns, int64_t group_begin,          \
                                int64_t group_end, ds_q8_activations x, int64_t tokens, float *y,              \
                                int64_t y_stride) {                                                             \
        const int64_t nb = columns / DS_Q8_0_BLOCK;                                                             \
        for (int64_t g = group_begin; g < group_end; g++) {                                                     \
            const uint8_t *group = (const uint8_t *)packed + g * nb * GROUP_BLOCK_BYTES;                        \
            const int64_t live = rows - g * DS_Q8_0_GROUP < DS_Q8_0_GROUP ? rows - g * DS_Q8_0_GROUP : DS_Q8_0_GROUP; \
            for (int64_t t = 0; t < tokens; t++) {                                                              \
                float acc[DS_Q8_0_GROUP] = {0};                                                                 \
                for (int64_t b = 0; b < nb; b++) {                                                              \
                    const uint8_t *gb = group + b * GROUP_BLOCK_BYTES;                                          \
                    const int8_t *xv = x.values + t * columns + b * DS_Q8_0_BLOCK;                              \
                    int32_t dot[DS_Q8_0_GROUP];                                                                 \
                    for (int j = 0; j < DS_Q8_0_GROUP; j++) dot[j] = x.offsets[t * nb + b];                     \
                    for (int q = 0; q < QUADS; q++)                                                             \
                        for (int j = 0; j < DS_Q8_0_GROUP; j++)                                                 \
                            for (int k = 0; k < 4; k++)                                                         \
                                dot[j] += (int32_t)gb[SCALE_BYTES + (q * DS_Q8_0_GROUP + j) * 4 + k] *          \
                                          (int32_t)xv[q * 4 + k];                                               \
                    const float s = x.scales[t * nb + b];                                                       \
                    for (int j = 0; j < DS_Q8_0_GROUP; j++) {                                                   \
                        uint16_t h;                                                                             \
                        memcpy(&h, gb + 2 * j, 2);                                                              \
                        acc[j] += (float)dot[j] * (f16_to_f32(h) * s);                                          \
                    }                                                                                           \
                }                                                                                               \
                for (int64_t j = 0; j < live; j++) y[t * y_stride + g * DS_Q8_0_GROUP + j] = acc[j];            \
            }                                                                                                   \
        }                                                                                                       \
    }

DEFINE_PORTABLE(matmul_portable, )

#if DS_X86

DEFINE_PORTABLE(matmul_avx2, __attribute__((target("avx2,fma"))))

// MARK: - AVX512-VNNI kernel

#define VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,f16c,fma")))

/// roundf of 16 lanes (half away from zero, as the portable code): t = trunc(v), plus
/// sign(v) where |v - t| >= 0.5 (v - t is exact).
static inline __attribute__((always_inline)) VNNI __m512 round_half_away(__m512 v) {
    const __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __mmask16 up = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(v, t)), _mm512_set1_ps(0.5f), _CMP_GE_OQ);
    const __m512 one = _mm512_castsi512_ps(_mm512_or_si512(
        _mm512_castps_si512(_mm512_set1_ps(1.0f)),
        _mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32((int32_t)0x80000000))));
    return _mm512_mask_add_ps(t, up, t, one);
}

/// The portable quantiser's exact results, 32 values at a time (it costs ~4 ns a value
/// with libm's roundf, a fifth of a prompt's time on the 768 model).
VNNI static void quantize_activations_vnni(const float *x, ds_q8_activations out, int64_t count) {
    for (int64_t b = 0; b < count / DS_Q8_0_BLOCK; b++) {
        const __m512 v0 = _mm512_loadu_ps(x + b * DS_Q8_0_BLOCK), v1 = _mm512_loadu_ps(x + b * DS_Q8_0_BLOCK + 16);
        const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
        const float d = amax / 127.0f;
        const float inverse = d != 0 ? 1.0f / d : 0.0f;
        const __m512 scale = _mm512_set1_ps(inverse);
        const __m512i q0 = _mm512_cvttps_epi32(round_half_away(_mm512_mul_ps(v0, scale)));
        const __m512i q1 = _mm512_cvttps_epi32(round_half_away(_mm512_mul_ps(v1, scale)));
        _mm_storeu_si128((__m128i *)(out.values + b * DS_Q8_0_BLOCK), _mm512_cvtepi32_epi8(q0));
        _mm_storeu_si128((__m128i *)(out.values + b * DS_Q8_0_BLOCK + 16), _mm512_cvtepi32_epi8(q1));
        out.scales[b] = d;
        out.offsets[b] = -128 * _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
    }
}

/// `T` tokens (a constant after inlining) times one group of 16 rows: each 64-byte weight
/// load feeds T vpdpbusd (one per token, the token's 4 bytes broadcast), so a prompt reads
/// each weight once per T tokens. The integer sums start at the tokens' offsets, which
/// remove the +128 of the unsigned weights; per block they are scaled into f32 sums.
static inline __attribute__((always_inline)) VNNI void tile_vnni(
    const uint8_t *group, int64_t nb, int64_t columns, ds_q8_activations x, int64_t t0, const int T, float *y,
    int64_t y_stride, __mmask16 live) {
    __m512 acc[8];
    for (int t = 0; t < T; t++) acc[t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *gb = group + b * GROUP_BLOCK_BYTES;
        const int8_t *xb = x.values + t0 * columns + b * DS_Q8_0_BLOCK;
        __m512i dot[8];
        for (int t = 0; t < T; t++) dot[t] = _mm512_set1_epi32(x.offsets[(t0 + t) * nb + b]);
        for (int q = 0; q < QUADS; q++) {
            const __m512i w = _mm512_loadu_si512((const void *)(gb + SCALE_BYTES + q * 64));
            for (int t = 0; t < T; t++) {
                int32_t four;
                memcpy(&four, xb + t * columns + q * 4, 4);
                dot[t] = _mm512_dpbusd_epi32(dot[t], w, _mm512_set1_epi32(four));
            }
        }
        const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)gb));
        for (int t = 0; t < T; t++)
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot[t]),
                                     _mm512_mul_ps(dw, _mm512_set1_ps(x.scales[(t0 + t) * nb + b])), acc[t]);
    }
    for (int t = 0; t < T; t++) _mm512_mask_storeu_ps(y + (t0 + t) * y_stride, live, acc[t]);
}

/// One token (decode): two chains of integer sums (even and odd quads), so the loop waits
/// on vpdpbusd's latency half as long; the weights stream in address order.
static inline __attribute__((always_inline)) VNNI void token_vnni(
    const uint8_t *group, int64_t nb, ds_q8_activations x, int64_t t, int64_t columns, float *y, __mmask16 live) {
    __m512 acc = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *gb = group + b * GROUP_BLOCK_BYTES;
        const int8_t *xb = x.values + t * columns + b * DS_Q8_0_BLOCK;
        __m512i even = _mm512_set1_epi32(x.offsets[t * nb + b]), odd = _mm512_setzero_si512();
        for (int q = 0; q < QUADS; q += 2) {
            int32_t four0, four1;
            memcpy(&four0, xb + q * 4, 4);
            memcpy(&four1, xb + q * 4 + 4, 4);
            even = _mm512_dpbusd_epi32(even, _mm512_loadu_si512((const void *)(gb + SCALE_BYTES + q * 64)),
                                       _mm512_set1_epi32(four0));
            odd = _mm512_dpbusd_epi32(odd, _mm512_loadu_si512((const void *)(gb + SCALE_BYTES + q * 64 + 64)),
                                      _mm512_set1_epi32(four1));
        }
        const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)gb));
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(even, odd)),
                              _mm512_mul_ps(dw, _mm512_set1_ps(x.scales[t * nb + b])), acc);
    }
    _mm512_mask_storeu_ps(y, live, acc);
}

VNNI static void matmul_vnni(const void *packed, int64_t rows, int64_t columns, int64_t group_begin,
                             int64_t group_end, ds_q8_activations x, int64_t tokens, float *y, int64_t y_stride) {
    const int64_t nb = columns / DS_Q8_0_BLOCK;
    for (int64_t g = group_begin; g < group_end; g++) {
        const uint8_t *group = (const uint8_t *)packed + g * nb * GROUP_BLOCK_BYTES;
        const int64_t left = rows - g * DS_Q8_0_GROUP;
        const __mmask16 live = left >= DS_Q8_0_GROUP ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
        float *yg = y + g * DS_Q8_0_GROUP;
        int64_t t = 0;
        for (; t + 8 <= tokens; t += 8) tile_vnni(group, nb, columns, x, t, 8, yg, y_stride, live);
        for (; t + 4 <= tokens; t += 4) tile_vnni(group, nb, columns, x, t, 4, yg, y_stride, live);
        for (; t < tokens; t++) token_vnni(group, nb, x, t, columns, yg + t * y_stride, live);
    }
}

#endif

// MARK: - Choice of implementation

typedef void (*matmul_fn)(const void *, int64_t, int64_t, int64_t, int64_t, ds_q8_activations, int64_t, float *,
                          int64_t);

static int has_vnni(void) {
#if DS_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("f16c") &&
           __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

static int has_avx2(void) {
#if DS_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

/// The named implementation, or NULL when this CPU cannot run it.
static matmul_fn implementation_named(const char *name) {
#if DS_X86
    if (strcmp(name, "avx512vnni") == 0) return has_vnni() ? matmul_vnni : NULL;
    if (strcmp(name, "avx2") == 0) return has_avx2() ? matmul_avx2 : NULL;
#endif
    if (strcmp(name, "portable") == 0) return matmul_portable;
    return NULL;
}

typedef void (*quantize_fn)(const float *, ds_q8_activations, int64_t);

static const char *chosen_name;
static matmul_fn chosen_matmul;
static quantize_fn chosen_quantize;
static pthread_once_t chosen_once = PTHREAD_ONCE_INIT;

static void choose_once(void) {
    static const char *const preference[] = {"avx512vnni", "avx2", "portable"};
    for (int i = 0; i < 3; i++) {
        matmul_fn fn = implementation_named(preference[i]);
        if (fn) {
            chosen_name = preference[i];
            chosen_matmul = fn;
#if DS_X86
            chosen_quantize = fn == matmul_vnni ? quantize_activations_vnni : quantize_activations_portable;
#else
            chosen_quantize = quantize_activations_portable;
#endif
            return;
        }
    }
}

static void choose(void) { pthread_once(&chosen_once, choose_once); }

void ds_quantize_activations(const float *x, ds_q8_activations out, int64_t count) {
    choose();
    chosen_quantize(x, out, count);
}

const char *ds_q8_0_implementation(void) {
    choose();
    return chosen_name;
}

void ds_matmul_q8_0(const void *packed, int64_t rows, int64_t columns, int64_t group_begin, int64_t group_end,
                    ds_q8_activations x, int64_t tokens, float *y, int64_t y_stride) {
    choose();
    chosen_matmul(packed, rows, columns, group_begin, group_end, x, tokens, y, y_stride);
}

int ds_matmul_q8_0_using(const char *implementation, const void *packed, int64_t rows, int64_t columns,
                         int64_t group_begin, int64_t group_end, ds_q8_activations x, int64_t tokens, float *y,
                         int64_t y_stride) {
    matmul_fn fn = implementation_named(implementation);
    if (!fn) return 0;
    fn(packed, rows, columns, group_begin, group_end, x, tokens, y, y_stride);
    return 1;
}
