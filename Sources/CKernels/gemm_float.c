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
/// Tokens per pass: GROUPS vectors.
#define TOKEN_BLOCK (GROUPS * LANES)
/// Columns per pass: the inputs of a block (BLOCK x 64 tokens, 64 KiB) stay in L2 and the
/// widened weights of a tile (6 x BLOCK) in L1, whatever the row length.
#define BLOCK 256
/// Rows whose sums are kept in an L1 buffer (SPAN x 64 tokens, 12 KiB) over all the blocks
/// of columns, then written to y token by token as contiguous runs: y's rows are often 2^k
/// floats apart, and scattering into them directly kept hitting one cache set.
#define SPAN (ROWS * 8)

int64_t ds_gemm_inputs_count(int64_t tokens, int64_t columns) {
    return (tokens + LANES - 1) / LANES * LANES * columns;
}

#if DS_X86
#define AVX512 __attribute__((target("avx512f,f16c,fma")))

/// Cache lines of the tile that runs next, fetched while this one computes so that
/// widening its weights does not wait on memory: `rows` runs of `lines_per_row` lines,
/// `row_bytes` apart.
typedef struct {
    const char *base;
    int64_t row_bytes;
    int64_t lines_per_row;
    int64_t rows;
} upcoming;

/// Adds one block of columns to the sums of `rows_n` rows (widened f32, `w_stride` apart) x
/// `groups_n` token groups, kept in `sums` (row r, token t at sums[r * TOKEN_BLOCK + t]);
/// the first block starts them at zero. `rows_n` and `groups_n` are constants at every call
/// site (run_tile): the compiler unrolls both loops and keeps the accumulators in registers.
static inline __attribute__((always_inline)) AVX512 void tile(
    const float *w, int64_t w_stride, const float *xt, int64_t padded, int64_t columns, int rows_n, int groups_n,
    upcoming next, float *sums, int first) {
    __m512 acc[ROWS][GROUPS];
    for (int r = 0; r < rows_n; r++)
        for (int g = 0; g < groups_n; g++)
            acc[r][g] = first ? _mm512_setzero_ps() : _mm512_load_ps(sums + r * TOKEN_BLOCK + g * LANES);
    int64_t prefetches = next.rows * next.lines_per_row, next_row = 0, next_line = 0;
    for (int64_t c = 0; c < columns; c++) {
        if (c < prefetches) {  // one line per column, row by row
            _mm_prefetch(next.base + next_row * next.row_bytes + next_line * 64, _MM_HINT_T0);
            if (++next_line == next.lines_per_row) { next_line = 0; next_row++; }
        }
        __m512 x[GROUPS];
        for (int g = 0; g < groups_n; g++) x[g] = _mm512_loadu_ps(xt + c * padded + g * LANES);
        for (int r = 0; r < rows_n; r++) {
            __m512 weight = _mm512_set1_ps(w[r * w_stride + c]);
            for (int g = 0; g < groups_n; g++) acc[r][g] = _mm512_fmadd_ps(weight, x[g], acc[r][g]);
        }
    }
    for (int r = 0; r < rows_n; r++)
        for (int g = 0; g < groups_n; g++) _mm512_store_ps(sums + r * TOKEN_BLOCK + g * LANES, acc[r][g]);
}

#define TILE_CASE(R, G)                                                      \
    case (R) * 8 + (G):                                                      \
        tile(w, w_stride, xt, padded, columns, R, G, next, sums, first);    \
        break;
#define TILE_ROW(R) TILE_CASE(R, 1) TILE_CASE(R, 2) TILE_CASE(R, 3) TILE_CASE(R, 4)

/// One tile with its row and group counts as constants (24 specialisations).
static AVX512 void run_tile(
    const float *w, int64_t w_stride, const float *xt, int64_t padded, int64_t columns, int rows_n, int groups_n,
    upcoming next, float *sums, int first) {
    switch (rows_n * 8 + groups_n) {
        TILE_ROW(1) TILE_ROW(2) TILE_ROW(3) TILE_ROW(4) TILE_ROW(5) TILE_ROW(6)
    default: break;
    }
}

/// Widens `count` weights of `format` (f16 or bf16) starting at `source` into `out`.
static AVX512 void widen(int format, const void *source, int64_t count, float *out) {
    int64_t i = 0;
    if (format == DS_GEMM_F16) {
        const uint16_t *h = source;
        for (; i + LANES <= count; i += LANES)
            _mm512_store_ps(out + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(h + i))));
        for (; i < count; i++) out[i] = _cvtsh_ss(h[i]);
    } else {
        const uint16_t *b = source;
        for (; i + LANES <= count; i += LANES) {
            __m512i words = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(b + i)));
            _mm512_store_ps(out + i, _mm512_castsi512_ps(_mm512_slli_epi32(words, 16)));
        }
        for (; i < count; i++) {
            uint32_t bits = (uint32_t)b[i] << 16;
            memcpy(out + i, &bits, 4);
        }
    }
}

static inline int64_t smaller(int64_t a, int64_t b) { return a < b ? a : b; }

/// Loop order: passes of 64 tokens; spans of 48 rows; blocks of BLOCK columns; tiles of 6
/// rows. A span's sums stay in `sums` across its blocks of columns.
static AVX512 void gemm_avx512(
    int format, const void *weights, int64_t columns, int64_t row_begin, int64_t row_end, const float *xt,
    int64_t tokens, float *y, int64_t y_stride) {
    int64_t padded = (tokens + LANES - 1) / LANES * LANES;
    int64_t element = format == DS_GEMM_F32 ? 4 : 2, row_bytes = columns * element;
    const char *bytes = weights;
    float widened[ROWS * BLOCK] __attribute__((aligned(64)));
    float sums[SPAN * TOKEN_BLOCK] __attribute__((aligned(64)));
    for (int64_t token0 = 0; token0 < tokens; token0 += TOKEN_BLOCK) {
        int64_t pass_tokens = smaller(tokens - token0, TOKEN_BLOCK);
        int groups_n = (int)((pass_tokens + LANES - 1) / LANES);
        for (int64_t span = row_begin; span < row_end; span += SPAN) {
            int64_t span_end = smaller(row_end, span + SPAN);
            for (int64_t c0 = 0; c0 < columns; c0 += BLOCK) {
                int64_t width = smaller(columns - c0, BLOCK);
                for (int64_t row = span; row < span_end; row += ROWS) {
                    int rows_n = (int)smaller(span_end - row, ROWS);
                    const float *w = (const float *)(bytes + row * row_bytes + c0 * element);
                    int64_t w_stride = columns;
                    if (format != DS_GEMM_F32) {
                        for (int r = 0; r < rows_n; r++)
                            widen(format, bytes + (row + r) * row_bytes + c0 * element, width, widened + r * BLOCK);
                        w = widened;
                        w_stride = BLOCK;
                    }
                    // The tile after this one: next rows of the span, else the span's next
                    // block of columns, else the next span's first block.
                    int64_t next_row = row + ROWS, next_c0 = c0;
                    if (next_row >= span_end) {
                        next_row = span;
                        next_c0 = c0 + BLOCK;
                        if (next_c0 >= columns) { next_row = span_end; next_c0 = 0; }
                    }
                    upcoming next = {bytes + next_row * row_bytes + next_c0 * element, row_bytes, 0, 0};
                    if (next_row < row_end) {
                        next.rows = smaller(row_end - next_row, ROWS);
                        next.lines_per_row = (smaller(columns - next_c0, BLOCK) * element + 63) / 64;
                    }
                    run_tile(w, w_stride, xt + c0 * padded + token0, padded, width, rows_n, groups_n, next,
                             sums + (row - span) * TOKEN_BLOCK, c0 == 0);
                }
            }
            for (int64_t t = 0; t < pass_tokens; t++) {
                float *out = y + (token0 + t) * y_stride + span;
                for (int64_t r = 0; r < span_end - span; r++) out[r] = sums[r * TOKEN_BLOCK + t];
            }
        }
    }
}

/// dst[c * dst_stride + t] = src[t * src_stride + c] for a block of 16 x 16: three rounds
/// of shuffles (32-bit, 64-bit, 128-bit pieces), a quarter of a shuffle per element.
static AVX512 void transpose16(const float *src, int64_t src_stride, float *dst, int64_t dst_stride) {
    __m512 r[16], t[16];
    for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(src + i * src_stride);
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
        __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
        r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    // r[4i + j] now holds, in 128-bit piece k, rows 4i..4i+3 of column 4k + j.
    for (int j = 0; j < 4; j++) {
        __m512 even_low = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x88), odd_low = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xdd);
        __m512 even_high = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x88);
        __m512 odd_high = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xdd);
        t[j] = _mm512_shuffle_f32x4(even_low, even_high, 0x88);
        t[8 + j] = _mm512_shuffle_f32x4(even_low, even_high, 0xdd);
        t[4 + j] = _mm512_shuffle_f32x4(odd_low, odd_high, 0x88);
        t[12 + j] = _mm512_shuffle_f32x4(odd_low, odd_high, 0xdd);
    }
    for (int i = 0; i < 16; i++) _mm512_storeu_ps(dst + i * dst_stride, t[i]);
}

/// Whole 16 x 16 blocks of ds_gemm_pack_inputs; returns the first column it left.
static AVX512 int64_t pack_blocks(const float *x, int64_t x_stride, int64_t tokens, int64_t column_begin,
                                  int64_t column_end, float *xt, int64_t padded) {
    int64_t c0 = column_begin;
    for (; c0 + LANES <= column_end; c0 += LANES)
        for (int64_t t0 = 0; t0 + LANES <= tokens; t0 += LANES)
            transpose16(x + t0 * x_stride + c0, x_stride, xt + c0 * padded + t0, padded);
    return c0;
}

static pthread_once_t gemm_once = PTHREAD_ONCE_INIT;
static int gemm_has_avx512 = 0;

static void gemm_choose(void) {
    __builtin_cpu_init();
    gemm_has_avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("f16c") &&
                      __builtin_cpu_supports("fma");
}
#endif

void ds_gemm_pack_inputs(const float *x, int64_t x_stride, int64_t tokens, int64_t column_begin, int64_t column_end,
                         float *xt) {
    int64_t padded = (tokens + LANES - 1) / LANES * LANES;
    int64_t blocked = column_begin;  // columns whose whole blocks of 16 tokens are done
#if DS_X86
    pthread_once(&gemm_once, gemm_choose);
    if (gemm_has_avx512) blocked = pack_blocks(x, x_stride, tokens, column_begin, column_end, xt, padded);
#endif
    int64_t whole = blocked > column_begin ? tokens / LANES * LANES : 0;
    for (int64_t c = column_begin; c < column_end; c++) {
        float *column = xt + c * padded;
        for (int64_t t = c < blocked ? whole : 0; t < tokens; t++) column[t] = x[t * x_stride + c];
        for (int64_t t = tokens; t < padded; t++) column[t] = 0;
    }
}

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
