// The pieces of Winograd's transforms that the layer-at-a-time functions (winograd.c) and the fused
// forward on chunks of tiles (winograd_tiles.c) share: each value of a tile's 6×6 grid a short vector
// over LANES consecutive tiles.
#ifndef DEEPCLUSTER_WINOGRAD_INTERNAL_H
#define DEEPCLUSTER_WINOGRAD_INTERNAL_H
#include <string.h>

#define LANES 8

// Set on a thread by dc_winograd_use_baseline (tests): that thread takes the plain-C paths.
extern __thread int dc_winograd_baseline_only;

static inline int has_avx2(void) {
    return !dc_winograd_baseline_only && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

// out[k·s] = (B^T d)[k] over the lanes, for six rows of lanes d0 … d5.
static inline __attribute__((always_inline)) void input_rows(const float *d0, const float *d1, const float *d2,
                                                             const float *d3, const float *d4, const float *d5,
                                                             float *out, int s) {
    for (int l = 0; l < LANES; l++) {
        out[0 * s + l] = 4 * d0[l] - 5 * d2[l] + d4[l];
        out[1 * s + l] = -4 * (d1[l] + d2[l]) + d3[l] + d4[l];
        out[2 * s + l] = 4 * (d1[l] - d2[l]) - d3[l] + d4[l];
        out[3 * s + l] = 2 * (d3[l] - d1[l]) - d2[l] + d4[l];
        out[4 * s + l] = 2 * (d1[l] - d3[l]) - d2[l] + d4[l];
        out[5 * s + l] = 4 * d1[l] - 5 * d3[l] + d5[l];
    }
}

// B^T d B of `lanes` tiles from tile t on, their 6×6 values d already gathered (each a short vector
// over the tiles), into the 36 planes at v.
static inline __attribute__((always_inline)) void input_transform(float d[6][6][LANES], long t, int lanes, float *v, long plane) {
    float e[6][6][LANES];  // B^T d: column q of d → column q of e
    for (int q = 0; q < 6; q++) input_rows(d[0][q], d[1][q], d[2][q], d[3][q], d[4][q], d[5][q], e[0][q], 6 * LANES);
    for (int r = 0; r < 6; r++) {  // (B^T d) B: row r of e → points r·6 + q
        float f[6][LANES];
        input_rows(e[r][0], e[r][1], e[r][2], e[r][3], e[r][4], e[r][5], f[0], LANES);
        for (int q = 0; q < 6; q++) {
            float *out = v + (r * 6 + q) * plane + t;
            if (lanes == LANES) memcpy(out, f[q], sizeof f[q]);
            else for (int l = 0; l < lanes; l++) out[l] = f[q][l];
        }
    }
}

// out[k·s] = (A^T m)[k] over the lanes, for six rows of lanes m0 … m5: four rows for F(4×4, 3×3) …
static inline __attribute__((always_inline)) void output_rows4(const float *m0, const float *m1, const float *m2,
                                                               const float *m3, const float *m4, const float *m5,
                                                               float *out, int s) {
    for (int l = 0; l < LANES; l++) {
        const float a = m1[l] + m2[l], b = m1[l] - m2[l], c = m3[l] + m4[l], d = m3[l] - m4[l];
        out[0 * s + l] = m0[l] + a + c;
        out[1 * s + l] = b + 2 * d;
        out[2 * s + l] = a + 4 * c;
        out[3 * s + l] = b + 8 * d + m5[l];
    }
}

// … and two for F(2×2, 5×5).
static inline __attribute__((always_inline)) void output_rows2(const float *m0, const float *m1, const float *m2,
                                                               const float *m3, const float *m4, const float *m5,
                                                               float *out, int s) {
    for (int l = 0; l < LANES; l++) {
        out[0 * s + l] = m0[l] + m1[l] + m2[l] + m3[l] + m4[l];
        out[1 * s + l] = m1[l] - m2[l] + 2 * (m3[l] - m4[l]) + m5[l];
    }
}

// The images of one channel copied into a zero-bordered scratch in which every tile lies whole:
// padded rows [first_row, padded_high) of image_begin, every row of the images between, and rows
// [0, end_row) of image_end − 1 (a chunk of tiles reads no others; a 224-px map is 200 kB a channel).
static inline __attribute__((always_inline)) void pad_channel(const float *x, int images, int height, int width, int pad,
                                                              int image_begin, int image_end, int c,
                                                              float *padded, int padded_high, int padded_wide,
                                                              int first_row, int end_row) {
    const long padded_plane = (long)padded_high * padded_wide;
    const int columns = width + pad <= padded_wide ? width : padded_wide - pad;
    for (int n = image_begin; n < image_end; n++) {
        const float *src = x + ((long)c * images + n) * height * width;
        float *dst = padded + (n - image_begin) * padded_plane;
        const int begin = n == image_begin ? first_row : 0, end = n == image_end - 1 ? end_row : padded_high;
        if (begin == 0 && end == padded_high) {
            // A whole map (every map of 7×7 to 27×27 chunks): one memset and a copy a row, a third of the
            // calls of the row-by-row path below, which on 7×7 maps cost a fifth of the layer.
            memset(dst, 0, sizeof(float) * padded_plane);
            const int rows = height + pad <= padded_high ? height : padded_high - pad;
            for (int y = 0; y < rows; y++)
                memcpy(dst + (long)(y + pad) * padded_wide + pad, src + (long)y * width, sizeof(float) * columns);
            continue;
        }
        for (int r = begin; r < end; r++) {
            float *row = dst + (long)r * padded_wide;
            const int y = r - pad;
            if (y < 0 || y >= height) {
                memset(row, 0, sizeof(float) * padded_wide);
                continue;
            }
            memset(row, 0, sizeof(float) * pad);
            memcpy(row + pad, src + (long)y * width, sizeof(float) * columns);
            memset(row + pad + columns, 0, sizeof(float) * (padded_wide - pad - columns));
        }
    }
}

#endif
