// Winograd F(4×4, 3×3) and F(2×2, 5×5): the filter, input and output transforms (include/winograd.h).
// Both use 6×6 tiles and the points 0, ±1, ±2, ∞, so they share the input transform B^T (Lavin &
// Gray's); G and A^T follow from the points: G's row for point p is (1, p, …, p^(r−1)) / Π(p − q) over
// the other finite points q, its last row picks the filter's last tap; A^T's row i is p^i (∞: the
// last row's 1). The input and output transforms work on LANES consecutive tiles at a time, each
// value of the 6×6 grid a short vector over the tiles, so that the arithmetic and the stores into
// the 36 planes run as SIMD; they are compiled for AVX2 + FMA and for the baseline, chosen at run time.
#include "winograd.h"
#include "winograd_internal.h"
#include <stdlib.h>
#include <string.h>

__thread int dc_winograd_baseline_only = 0;

void dc_winograd_use_baseline(int on) { dc_winograd_baseline_only = on != 0; }

static const float points[5] = {0, 1, -1, 2, -2};
static const float normalisers[5] = {4, -6, -6, 24, 24};

// G (6 × kernel): row j is (1, p, …, p^(kernel−1)) / Π(p − q) for the point p = points[j], the last row
// picks the filter's last tap (the point ∞).
static void filter_matrix(int kernel, float g[6][5]) {
    memset(g, 0, sizeof(float) * 6 * 5);
    for (int j = 0; j < 5; j++) {
        float power = 1;
        for (int k = 0; k < kernel; k++, power *= points[j]) g[j][k] = power / normalisers[j];
    }
    g[5][kernel - 1] = 1;
}

// The filter transform of output channels [o_begin, o_end), LANES input channels at a time: each value
// of G f G^T a short vector over consecutive filters, so that the arithmetic and the stores into the
// 36 planes run as SIMD. Products are not fused into FMA, so every build rounds as the scalar
// definition does (the sums run in the same order).
#define FILTER_BODY                                                                                              \
    _Pragma("clang fp contract(off)")                                                                           \
    float g[6][5];                                                                                              \
    filter_matrix(kernel, g);                                                                                   \
    const long plane_size = (long)out_channels * in_channels;                                                   \
    const int taps = kernel * kernel;                                                                           \
    for (int o = o_begin; o < o_end; o++) {                                                                     \
        for (int i = 0; i < in_channels; i += LANES) {                                                          \
            const int lanes = in_channels - i < LANES ? in_channels - i : LANES;                                \
            float f[25][LANES];                                                                                 \
            for (int l = 0; l < LANES; l++) {                                                                   \
                const float *source = w + ((long)o * in_channels + i + (l < lanes ? l : 0)) * taps;             \
                for (int k = 0; k < taps; k++) f[k][l] = source[k];                                             \
            }                                                                                                   \
            float t[6][5][LANES];  /* G f: 6 × kernel */                                                        \
            for (int r = 0; r < 6; r++)                                                                         \
                for (int c = 0; c < kernel; c++)                                                                \
                    for (int l = 0; l < LANES; l++) {                                                           \
                        float s = 0;                                                                            \
                        for (int k = 0; k < kernel; k++) s += g[r][k] * f[k * kernel + c][l];                   \
                        t[r][c][l] = s;                                                                         \
                    }                                                                                           \
            for (int r = 0; r < 6; r++)  /* (G f) G^T: 6×6 */                                                   \
                for (int c = 0; c < 6; c++) {                                                                   \
                    float s[LANES];                                                                             \
                    for (int l = 0; l < LANES; l++) {                                                           \
                        s[l] = 0;                                                                               \
                        for (int k = 0; k < kernel; k++) s[l] += t[r][k][l] * g[c][k];                          \
                    }                                                                                           \
                    float *out = u + (r * 6 + c) * plane_size + (long)o * in_channels + i;                      \
                    if (lanes == LANES) memcpy(out, s, sizeof s);                                               \
                    else for (int l = 0; l < lanes; l++) out[l] = s[l];                                         \
                }                                                                                               \
        }                                                                                                       \
    }

#define FILTER_ARGUMENTS const float *w, int out_channels, int in_channels, int kernel, int o_begin, int o_end, float *u
__attribute__((target("avx2,fma"))) static void filter_avx2(FILTER_ARGUMENTS) { FILTER_BODY }
static void filter_baseline(FILTER_ARGUMENTS) { FILTER_BODY }

void dc_winograd_filter(const float *w, int out_channels, int in_channels, int kernel, int o_begin, int o_end, float *u) {
    (has_avx2() ? filter_avx2 : filter_baseline)(w, out_channels, in_channels, kernel, o_begin, o_end, u);
}



// The transforms of `lanes` tiles from tile t on, out of the zero-bordered planes of `padded`; a
// tile's top-left corner lies at padded + corners[tile] (the table holds LANES entries past the last
// tile, so that a short group reads whole tiles too).
static inline __attribute__((always_inline)) void input_group(const float *padded, const int *corners, int padded_wide,
                                                              long t, int lanes, float *v, long plane) {
    float d[6][6][LANES];
    for (int l = 0; l < LANES; l++) {
        const float *src = padded + corners[t + l];
        for (int r = 0; r < 6; r++)
            for (int q = 0; q < 6; q++) d[r][q][l] = src[(long)r * padded_wide + q];
    }
    input_transform(d, t, lanes, v, plane);
}

#define INPUT_BODY(GROUP)                                                                                        \
    const int step = 7 - kernel;                                                                                \
    const int padded_high = tiles_high * step + kernel - 1, padded_wide = tiles_wide * step + kernel - 1;       \
    const long tiles = (long)(image_end - image_begin) * tiles_high * tiles_wide;                               \
    for (int c = c_begin; c < c_end; c++) {                                                                     \
        pad_channel(x, images, height, width, pad, image_begin, image_end, c, scratch, padded_high, padded_wide, 0, padded_high); \
        for (long t = 0; t < tiles; t += LANES) {                                                               \
            const int lanes = tiles - t < LANES ? (int)(tiles - t) : LANES;                                     \
            GROUP(scratch, corners, padded_wide, t, lanes, v + (long)c * row, plane);                           \
        }                                                                                                       \
    }

#define INPUT_ARGUMENTS const float *x, int images, int height, int width, int pad, int kernel, int tiles_high, \
    int tiles_wide, int c_begin, int c_end, int image_begin, int image_end, float *v, long plane, long row, float *scratch, \
    const int *corners
__attribute__((target("avx2,fma"))) static void input_avx2(INPUT_ARGUMENTS) { INPUT_BODY(input_group) }
static void input_baseline(INPUT_ARGUMENTS) { INPUT_BODY(input_group) }

int dc_winograd_input(const float *x, int images, int height, int width, int pad, int kernel,
                      int tiles_high, int tiles_wide, int c_begin, int c_end,
                      int image_begin, int image_end, float *v, long plane, long row) {
    const int step = 7 - kernel;
    // One channel's images, zero-bordered: a few hundred kB, this thread's own (calls run concurrently),
    // kept from call to call so that each call does not map and fault in fresh pages.
    static __thread float *scratch = NULL;
    static __thread size_t capacity = 0;
    static __thread int *corners = NULL;
    static __thread size_t corner_capacity = 0;
    const int padded_high = tiles_high * step + kernel - 1, padded_wide = tiles_wide * step + kernel - 1;
    const size_t needed = (size_t)(image_end - image_begin) * padded_high * padded_wide;
    const long per_image = (long)tiles_high * tiles_wide, tiles = (image_end - image_begin) * per_image;
    if (needed > capacity) {
        free(scratch);
        scratch = malloc(sizeof(float) * needed);
        capacity = scratch ? needed : 0;
        if (!scratch) return -1;
    }
    if ((size_t)(tiles + LANES) > corner_capacity) {
        free(corners);
        corners = malloc(sizeof(int) * (size_t)(tiles + LANES));
        corner_capacity = corners ? (size_t)(tiles + LANES) : 0;
        if (!corners) return -1;
    }
    // Each tile's top-left corner in the scratch, counted once per call rather than per channel and
    // lane; the entries past the last tile repeat the first.
    for (long t = 0; t < tiles + LANES; t++) {
        const long tile = t < tiles ? t : 0, within = tile % per_image;
        corners[t] = (int)((tile / per_image) * padded_high * padded_wide + (within / tiles_wide) * step * padded_wide
                           + (within % tiles_wide) * step);
    }
    if (has_avx2())
        input_avx2(x, images, height, width, pad, kernel, tiles_high, tiles_wide, c_begin, c_end, image_begin, image_end, v, plane, row, scratch, corners);
    else
        input_baseline(x, images, height, width, pad, kernel, tiles_high, tiles_wide, c_begin, c_end, image_begin, image_end, v, plane, row, scratch, corners);
    return 0;
}



// Training's weight gradient (include/winograd.h): A ∂y A^T of each m×m tile of ∂y, and G^T M G.

// out[k·s] = (A dy)[k] over the lanes, for m rows of lanes (A = (A^T)^T, 6 × m): F(4×4, 3×3) …
static inline __attribute__((always_inline)) void gradient_rows4(const float *d0, const float *d1, const float *d2,
                                                                 const float *d3, float *out, int s) {
    for (int l = 0; l < LANES; l++) {
        const float even = d0[l] + d2[l], odd = d1[l] + d3[l];
        const float even4 = d0[l] + 4 * d2[l], odd8 = 2 * d1[l] + 8 * d3[l];
        out[0 * s + l] = d0[l];
        out[1 * s + l] = even + odd;
        out[2 * s + l] = even - odd;
        out[3 * s + l] = even4 + odd8;
        out[4 * s + l] = even4 - odd8;
        out[5 * s + l] = d3[l];
    }
}

// … and F(2×2, 5×5).
static inline __attribute__((always_inline)) void gradient_rows2(const float *d0, const float *d1, float *out, int s) {
    for (int l = 0; l < LANES; l++) {
        out[0 * s + l] = d0[l];
        out[1 * s + l] = d0[l] + d1[l];
        out[2 * s + l] = d0[l] - d1[l];
        out[3 * s + l] = d0[l] + 2 * d1[l];
        out[4 * s + l] = d0[l] - 2 * d1[l];
        out[5 * s + l] = d1[l];
    }
}

#define GRADIENT_ROWS4(D, OUT, S) gradient_rows4(D[0], D[1], D[2], D[3], OUT, S)
#define GRADIENT_ROWS2(D, OUT, S) gradient_rows2(D[0], D[1], OUT, S)

#define OUTPUT_GRADIENT_BODY(STEP, ROWS)                                                                         \
    const long ohw = (long)out_high * out_wide;                                                                 \
    const int per_image = tiles_high * tiles_wide;                                                              \
    const long tiles = (long)(image_end - image_begin) * per_image;                                             \
    for (int o = o_begin; o < o_end; o++) {                                                                     \
        for (long t = 0; t < tiles; t += LANES) {                                                               \
            const int lanes = tiles - t < LANES ? (int)(tiles - t) : LANES;                                     \
            float d[STEP][STEP][LANES];                                                                         \
            for (int l = 0; l < LANES; l++) {                                                                   \
                if (l >= lanes) {                                                                               \
                    for (int r = 0; r < STEP; r++) for (int q = 0; q < STEP; q++) d[r][q][l] = 0;               \
                    continue;                                                                                   \
                }                                                                                               \
                const long tile = t + l;                                                                        \
                const int image = image_begin + (int)(tile / per_image), within = (int)(tile % per_image);      \
                const int y0 = within / tiles_wide * STEP, x0 = within % tiles_wide * STEP;                     \
                const int rows = out_high - y0 < STEP ? out_high - y0 : STEP;                                   \
                const int cols = out_wide - x0 < STEP ? out_wide - x0 : STEP;                                   \
                const float *src = dy + ((long)o * images + image) * ohw + (long)y0 * out_wide + x0;            \
                for (int r = 0; r < STEP; r++)                                                                  \
                    for (int q = 0; q < STEP; q++) d[r][q][l] = r < rows && q < cols ? src[(long)r * out_wide + q] : 0; \
            }                                                                                                   \
            float e[6][STEP][LANES];  /* A d: column q of d → column q of e */                                   \
            for (int q = 0; q < STEP; q++) {                                                                    \
                const float *column[STEP];                                                                      \
                for (int r = 0; r < STEP; r++) column[r] = d[r][q];                                             \
                ROWS(column, e[0][q], STEP * LANES);                                                            \
            }                                                                                                   \
            for (int r = 0; r < 6; r++) {  /* (A d) A^T: row r of e → points r·6 + q */                         \
                const float *rowLanes[STEP];                                                                    \
                for (int q = 0; q < STEP; q++) rowLanes[q] = e[r][q];                                           \
                float f[6][LANES];                                                                              \
                ROWS(rowLanes, f[0], LANES);                                                                    \
                for (int q = 0; q < 6; q++) {                                                                   \
                    float *out = w + (r * 6 + q) * plane + (long)o * row + t;                                   \
                    if (lanes == LANES) memcpy(out, f[q], sizeof f[q]);                                         \
                    else for (int l = 0; l < lanes; l++) out[l] = f[q][l];                                      \
                }                                                                                               \
            }                                                                                                   \
        }                                                                                                       \
    }

#define OUTPUT_GRADIENT_ARGUMENTS const float *dy, int images, int out_high, int out_wide, int tiles_high, \
    int tiles_wide, int o_begin, int o_end, int image_begin, int image_end, float *w, long plane, long row
__attribute__((target("avx2,fma"))) static void gradient4_avx2(OUTPUT_GRADIENT_ARGUMENTS) { OUTPUT_GRADIENT_BODY(4, GRADIENT_ROWS4) }
static void gradient4_baseline(OUTPUT_GRADIENT_ARGUMENTS) { OUTPUT_GRADIENT_BODY(4, GRADIENT_ROWS4) }
__attribute__((target("avx2,fma"))) static void gradient2_avx2(OUTPUT_GRADIENT_ARGUMENTS) { OUTPUT_GRADIENT_BODY(2, GRADIENT_ROWS2) }
static void gradient2_baseline(OUTPUT_GRADIENT_ARGUMENTS) { OUTPUT_GRADIENT_BODY(2, GRADIENT_ROWS2) }

void dc_winograd_output_gradient(const float *dy, int kernel, int images, int out_high, int out_wide,
                                 int tiles_high, int tiles_wide, int o_begin, int o_end,
                                 int image_begin, int image_end, float *w, long plane, long row) {
    void (*run)(OUTPUT_GRADIENT_ARGUMENTS) = kernel == 3 ? (has_avx2() ? gradient4_avx2 : gradient4_baseline)
                                                         : (has_avx2() ? gradient2_avx2 : gradient2_baseline);
    run(dy, images, out_high, out_wide, tiles_high, tiles_wide, o_begin, o_end, image_begin, image_end, w, plane, row);
}

void dc_winograd_filter_gradient(const float *m, int out_channels, int in_channels, int kernel,
                                 int o_begin, int o_end, float *dw) {
    float g[6][5];  // G: 6 × kernel
    filter_matrix(kernel, g);
    const long planeSize = (long)out_channels * in_channels;
    for (int o = o_begin; o < o_end; o++) {
        for (int i = 0; i < in_channels; i++) {
            float mm[6][6];
            for (int k = 0; k < 36; k++) mm[k / 6][k % 6] = m[k * planeSize + (long)o * in_channels + i];
            float t[5][6];  // G^T M: kernel × 6
            for (int r = 0; r < kernel; r++)
                for (int c = 0; c < 6; c++) {
                    float s = 0;
                    for (int k = 0; k < 6; k++) s += g[k][r] * mm[k][c];
                    t[r][c] = s;
                }
            float *out = dw + ((long)o * in_channels + i) * kernel * kernel;
            for (int r = 0; r < kernel; r++)  // (G^T M) G: kernel × kernel
                for (int c = 0; c < kernel; c++) {
                    float s = 0;
                    for (int k = 0; k < 6; k++) s += t[r][k] * g[k][c];
                    out[r * kernel + c] += s;
                }
        }
    }
}
