// Softmax for attention and routers, and the softmax denominator behind the probabilities
// that traces show (see CKernels.h): 16 values at a time with a polynomial exp.
#include "CKernels.h"

#include <math.h>
#include <pthread.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f")))

/// exp of 16 values <= 0: x = n ln2 + r with |r| <= ln2 / 2 (ln2 in two parts), a degree-7
/// Taylor polynomial for e^r (error under 1e-8), scaled by 2^n with vscalefps, which also
/// takes results below the normal range down to denormals and 0. Below -104 exp is 0.
static inline AVX512 __m512 exp16(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-104.0f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)), _MM_FROUND_TO_NEAREST_INT);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187e-06f), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

/// The lanes of a 16-wide step that hold values when `remaining` are left.
static inline __mmask16 lanes_left(int64_t remaining) {
    return remaining >= 16 ? 0xffff : (__mmask16)((1u << remaining) - 1);
}

static AVX512 float maximum_avx512(const float *x, int64_t count) {
    __m512 maxima = _mm512_set1_ps(-INFINITY);
    for (int64_t i = 0; i < count; i += 16)
        maxima = _mm512_max_ps(maxima, _mm512_mask_loadu_ps(maxima, lanes_left(count - i), x + i));
    return _mm512_reduce_max_ps(maxima);
}

static AVX512 double denominator_avx512(const float *x, int64_t count, float *maximum) {
    float m = maximum_avx512(x, count);
    *maximum = m;
    // Sums in double, 8 lanes at a time: 32000 logits summed in float drift past 1e-6.
    __m512 shift = _mm512_set1_ps(m);
    __m512d low = _mm512_setzero_pd(), high = _mm512_setzero_pd();
    for (int64_t i = 0; i < count; i += 16) {
        __mmask16 lanes = lanes_left(count - i);
        __m512 e = _mm512_maskz_mov_ps(lanes, exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(lanes, x + i), shift)));
        low = _mm512_add_pd(low, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
        high = _mm512_add_pd(high, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))));
    }
    return _mm512_reduce_add_pd(_mm512_add_pd(low, high));
}

static AVX512 void exp_avx512(const float *x, int64_t count, float *out) {
    for (int64_t i = 0; i < count; i += 16) {
        __mmask16 lanes = lanes_left(count - i);
        _mm512_mask_storeu_ps(out + i, lanes, exp16(_mm512_maskz_loadu_ps(lanes, x + i)));
    }
}

/// In-place softmax; -inf (masked) entries get exactly 0.
static AVX512 void softmax_avx512(float *x, int64_t count) {
    float m = maximum_avx512(x, count);
    if (m == -INFINITY) {  // nothing visible: no weight anywhere rather than NaN
        for (int64_t i = 0; i < count; i++) x[i] = 0;
        return;
    }
    __m512 shift = _mm512_set1_ps(m), sums = _mm512_setzero_ps();
    for (int64_t i = 0; i < count; i += 16) {
        __mmask16 lanes = lanes_left(count - i);
        __m512 v = _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), lanes, x + i);
        __mmask16 visible = _mm512_cmp_ps_mask(v, _mm512_set1_ps(-INFINITY), _CMP_NEQ_OQ);
        __m512 e = _mm512_maskz_mov_ps(visible, exp16(_mm512_sub_ps(v, shift)));
        sums = _mm512_add_ps(sums, e);
        _mm512_mask_storeu_ps(x + i, lanes, e);
    }
    __m512 scale = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sums));
    for (int64_t i = 0; i < count; i += 16) {
        __mmask16 lanes = lanes_left(count - i);
        _mm512_mask_storeu_ps(x + i, lanes, _mm512_mul_ps(_mm512_maskz_loadu_ps(lanes, x + i), scale));
    }
}

static pthread_once_t softmax_once = PTHREAD_ONCE_INIT;
static int softmax_has_avx512 = 0;

static void softmax_choose(void) {
    __builtin_cpu_init();
    softmax_has_avx512 = __builtin_cpu_supports("avx512f");
}
#endif

static float maximum_scalar(const float *x, int64_t count) {
    float m = x[0];
    for (int64_t i = 1; i < count; i++)
        if (x[i] > m) m = x[i];
    return m;
}

void ds_softmax_exp(const float *x, int64_t count, float *out) {
#if defined(__x86_64__)
    pthread_once(&softmax_once, softmax_choose);
    if (softmax_has_avx512) {
        exp_avx512(x, count, out);
        return;
    }
#endif
    for (int64_t i = 0; i < count; i++) out[i] = expf(x[i]);
}

void ds_softmax(float *x, int64_t count) {
    if (count <= 0) return;
#if defined(__x86_64__)
    pthread_once(&softmax_once, softmax_choose);
    if (softmax_has_avx512) {
        softmax_avx512(x, count);
        return;
    }
#endif
    float m = maximum_scalar(x, count);
    if (m == -INFINITY) {
        for (int64_t i = 0; i < count; i++) x[i] = 0;
        return;
    }
    float total = 0;
    for (int64_t i = 0; i < count; i++) {
        x[i] = expf(x[i] - m);
        total += x[i];
    }
    float scale = 1 / total;
    for (int64_t i = 0; i < count; i++) x[i] *= scale;
}

double ds_softmax_denominator(const float *x, int64_t count, float *maximum) {
    if (count <= 0) {
        *maximum = -INFINITY;
        return 0;
    }
#if defined(__x86_64__)
    pthread_once(&softmax_once, softmax_choose);
    if (softmax_has_avx512) return denominator_avx512(x, count, maximum);
#endif
    float m = maximum_scalar(x, count);
    *maximum = m;
    double total = 0;
    for (int64_t i = 0; i < count; i++) total += (double)expf(x[i] - m);
    return total;
}
