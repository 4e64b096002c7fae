// Prompt products for f32, f16 and bf16 weights (see CKernels.h): tokens in the vector
// lanes, so no horizontal sums, and each weight widened once per product, not once per
// tile of tokens.
#include "CKernels.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define DS_X86 1
#endif

/// Tokens per vector (one AVX-512 register of f32).
#define LANES 16
/// The register tile: ROWS weight rows x GROUPS groups of 16 tokens = 24 accumulators, plus
/// the GROUPS input vectors of a column: 28 of the 32 registers.
#define ROWS 6
#define GROUPS 4
/// Columns per pass over a tile: ROWS rows of this many widened weights (48 KiB) stay in
/// L1/L2; longer rows are summed in several passes.
#define BLOCK 2048
/// Tokens per pass: GROUPS vectors.
#define TOKEN_BLOCK (GROUPS * LANES)
/// Rows whose sums are gathered in an L1 buffer (tokens x SPAN) before they go to y: y's
/// rows are often 2^k floats apart, and scattering straight into them hit one cache set.
#define SPAN (ROWS * 8)

int64_t ds_gemm_inputs_count(int64_t tokens, int64_t columns) {
    return (tokens + LANES - 1) / LANES * LANES * columns;
}

void ds_gemm_pack_inputs(const float *x, int64_t x_stride, int64_t tokens, int64_t columns, float *xt) {
    int64_t padded = (tokens + LANES - 1) / LANES * LANES;
    for (int64_t c = 0; c < columns; c++) {
        float *column = xt + c * padded;
        for (int64_t t = 0; t < tokens; t++) column[t] = x[t * x_stride + c];
        for (int64_t t = tokens; t < padded; t++) column[t] = 0;
    }
}

#if DS_X86
#define AVX512 __attribute__((target("avx512f,f16c,fma")))


/// ROWS_N rows (widened f32, `w_stride` apart) x GROUPS_N token groups over `columns`
/// columns. Constant ROWS_N/GROUPS_N at every call site: the compiler unrolls both loops and
/// keeps the accumulators in registers. Meanwhile it prefetches `next_lines` cache lines
/// from `next` (the next tile's weights), so widening them does not wait on memory.
static inline __attribute__((always_inline)) AVX512 void tile(
    const float *w, int64_t w_stride, const float *xt, int64_t padded, int64_t columns, int rows_n, int groups_n,
    const char *next, int64_t next_lines, __m512 acc[ROWS][GROUPS]) {
    for (int r = 0; r < rows_n; r++)
        for (int g = 0; g < groups_n; g++) acc[r][g] = _mm512_setzero_ps();
    for (int64_t c = 0; c < columns; c++) {
        if (c < next_lines) _mm_prefetch(next + c * 64, _MM_HINT_T0);
        __m512 x[GROUPS];
        for (int g = 0; g < groups_n; g++) x[g] = _mm512_loadu_ps(xt + c * padded + g * LANES);
        for (int r = 0; r < rows_n; r++) {
            __m512 weight = _mm512_set1_ps(w[r * w_stride + c]);
            for (int g = 0; g < groups_n; g++) acc[r][g] = _mm512_fmadd_ps(weight, x[g], acc[r][g]);
        }
    }
}

/// Writes (or, after the first block of columns, adds) a tile's sums: token t, row r goes
/// to y[t * y_stride + r]; padding tokens are dropped. Scatters, not a store and scalar
/// reloads: those stall on store forwarding (a 64-byte store read back 4 bytes at a time).
static inline __attribute__((always_inline)) AVX512 void store(
    __m512 acc[ROWS][GROUPS], int rows_n, int groups_n, int64_t tokens, float *y, int64_t y_stride, int accumulate) {
    __m512i index = _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32((int)y_stride));
    for (int g = 0; g < groups_n; g++) {
        int64_t first = g * LANES;
        int64_t count = tokens - first < LANES ? tokens - first : LANES;
        __mmask16 valid = (__mmask16)((1u << count) - 1);
        for (int r = 0; r < rows_n; r++) {
            float *out = y + first * y_stride + r;
            __m512 sums = acc[r][g];
            if (accumulate) sums = _mm512_add_ps(sums, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), valid, index, out, 4));
            _mm512_mask_i32scatter_ps(out, valid, index, sums, 4);
        }
    }
}

#define TILE_CASE(R, G)                                                                   \
    case (R) * 8 + (G):                                                                   \
        tile(w, w_stride, xt, padded, columns, R, G, next, next_lines, acc);                              \
        store(acc, R, G, tokens, y, y_stride, accumulate);                                        \
        break;
#define TILE_ROW(R) TILE_CASE(R, 1) TILE_CASE(R, 2) TILE_CASE(R, 3) TILE_CASE(R, 4)

/// One tile with its row and group counts as constants (24 specialisations).
static AVX512 void run_tile(
    const float *w, int64_t w_stride, const float *xt, int64_t padded, int64_t columns, int rows_n, int groups_n,
    const char *next, int64_t next_lines, int64_t tokens, float *y, int64_t y_stride, int accumulate) {
    __m512 acc[ROWS][GROUPS];
    switch (rows_n * 8 + groups_n) {
        TILE_ROW(1) TILE_ROW(2) TILE_ROW(3) TILE_ROW(4) TILE_ROW(5) TILE_ROW(6)
    default: break;
    }
}

/// Widens `count` weights of `format` (1: f16, 2: bf16) starting at `source` into `out`.
static AVX512 void widen(int format, const void *source, int64_t count, float *out) {
    int64_t i = 0;
    if (format == DS_GEMM_F16) {
        const uint16_t *h = source;
        for (; i + LANES <= count; i += LANES)
            _mm512_storeu_ps(out + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(h + i))));
        for (; i < count; i++) out[i] = _cvtsh_ss(h[i]);
    } else {
        const uint16_t *b = source;
        for (; i + LANES <= count; i += LANES) {
            __m512i words = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(b + i)));
            _mm512_storeu_ps(out + i, _mm512_castsi512_ps(_mm512_slli_epi32(words, 16)));
        }
        for (; i < count; i++) {
            uint32_t bits = (uint32_t)b[i] << 16;
            memcpy(out + i, &bits, 4);
        }
    }
}

/// Where the tile after (row, c0) starts, in the loop order of gemm_avx512 (spans of rows,
/// blocks of columns, tiles of rows), and how many of its cache lines to prefetch: its rows
/// are one contiguous run only when a block holds whole rows.
static int64_t next_tile_lines(int64_t row, int64_t c0, int64_t span, int64_t span_end, int64_t row_end,
                               int64_t columns, size_t element, int64_t width, const char *weights,
                               const char **next) {
    int64_t next_row;
    if (row + ROWS < span_end) next_row = row + ROWS;
    else if (span_end < row_end) next_row = span_end;
    else return 0;
    (void)span;
    if (c0 != 0 || width != columns) return 0;
    int64_t rows = row_end - next_row < ROWS ? row_end - next_row : ROWS;
    *next = weights + next_row * columns * element;
    int64_t lines = rows * columns * (int64_t)element / 64;
    return lines < width ? lines : width;
}

static AVX512 void gemm_avx512(
    int format, const void *weights, int64_t columns, int64_t row_begin, int64_t row_end, const float *xt,
    int64_t tokens, float *y, int64_t y_stride) {
    int64_t padded = (tokens + LANES - 1) / LANES * LANES;
    size_t element = format == DS_GEMM_F32 ? 4 : 2;
    float widened[ROWS * BLOCK] __attribute__((aligned(64)));
    float staged[TOKEN_BLOCK * SPAN] __attribute__((aligned(64)));
    for (int64_t token0 = 0; token0 < tokens; token0 += TOKEN_BLOCK) {
        int64_t block_tokens = tokens - token0 < TOKEN_BLOCK ? tokens - token0 : TOKEN_BLOCK;
        int groups_n = (int)((block_tokens + LANES - 1) / LANES);
        for (int64_t span = row_begin; span < row_end; span += SPAN) {
            int64_t span_end = row_end - span < SPAN ? row_end : span + SPAN;
            for (int64_t c0 = 0; c0 < columns; c0 += BLOCK) {
                int64_t width = columns - c0 < BLOCK ? columns - c0 : BLOCK;
                for (int64_t row = span; row < span_end; row += ROWS) {
                    int rows_n = span_end - row < ROWS ? (int)(span_end - row) : ROWS;
                    const float *w;
                    int64_t w_stride;
                    if (format == DS_GEMM_F32) {
                        w = (const float *)weights + row * columns + c0;
                        w_stride = columns;
                    } else {
                        for (int r = 0; r < rows_n; r++)
                            widen(format, (const char *)weights + ((row + r) * columns + c0) * element, width,
                                  widened + r * BLOCK);
                        w = widened;
                        w_stride = BLOCK;
                    }
                    const char *next = NULL;
                    int64_t next_lines = next_tile_lines(row, c0, span, span_end, row_end, columns, element, width,
                                                         weights, &next);
                    run_tile(w, w_stride, xt + c0 * padded + token0, padded, width, rows_n, groups_n, next,
                             next_lines, block_tokens, staged + (row - span), SPAN, c0 > 0);
                }
            }
            // The span's sums, token by token, as contiguous runs of y.
            for (int64_t t = 0; t < block_tokens; t++)
                memcpy(y + (token0 + t) * y_stride + span, staged + t * SPAN, (size_t)(span_end - span) * 4);
        }
    }
}

static pthread_once_t gemm_once = PTHREAD_ONCE_INIT;
static int gemm_has_avx512 = 0;

static void gemm_choose(void) {
    __builtin_cpu_init();
    gemm_has_avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("f16c") &&
                      __builtin_cpu_supports("fma");
}
#endif

int ds_gemm_float(int format, const void *weights, int64_t columns, int64_t row_begin, int64_t row_end,
                  const float *xt, int64_t tokens, float *y, int64_t y_stride) {
#if DS_X86
    pthread_once(&gemm_once, gemm_choose);
    if (!gemm_has_avx512) return 0;
    if (row_begin < row_end && tokens > 0)
        gemm_avx512(format, weights, columns, row_begin, row_end, xt, tokens, y, y_stride);
    return 1;
#else
    (void)format; (void)weights; (void)columns; (void)row_begin; (void)row_end; (void)xt; (void)tokens; (void)y;
    (void)y_stride;
    return 0;
#endif
}

int ds_gemm_float_available(void) {
#if DS_X86
    pthread_once(&gemm_once, gemm_choose);
    return gemm_has_avx512;
#else
    return 0;
#endif
}
