// Winograd's forward on chunks of tiles (include/winograd.h): for CHUNK tiles at a time, the input
// transform of every input channel, the 36 products over input channels and the output transform,
// one after the other while the chunk's transformed tiles are still in cache. A layer at a time (as
// training's ∂w still runs: winograd.c, then 36 sgemm on OpenBLAS), the batch's transformed tiles —
// 2.25 to 9 times the input — go out to memory and are read back; here they stay within a few hundred
// kB, and the products run on a register-blocked kernel over filters packed once per weight update.
#include "winograd.h"
#include "winograd_internal.h"
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#define ROWS 6        // output channels per block of the products' kernel
#define COLUMNS 16    // tiles per block of the products' kernel: two AVX2 vectors (12 accumulators,
                      // two tiles' vectors and a broadcast: 15 of the 16 registers, none spilled)
#define CHUNK 48      // tiles per chunk, a multiple of COLUMNS

void dc_winograd_pack(const float *u, int out_channels, int in_channels, float *packed) {
    const int blocks = (out_channels + ROWS - 1) / ROWS;
    const long plane = (long)out_channels * in_channels;
    for (int point = 0; point < 36; point++)
        for (int b = 0; b < blocks; b++) {
            float *target = packed + ((long)point * blocks + b) * in_channels * ROWS;
            for (int i = 0; i < in_channels; i++)
                for (int r = 0; r < ROWS; r++) {
                    const int o = b * ROWS + r;
                    target[i * ROWS + r] = o < out_channels ? u[point * plane + (long)o * in_channels + i] : 0;
                }
        }
}

long dc_winograd_packed_floats(int out_channels, int in_channels) {
    return 36L * ((out_channels + ROWS - 1) / ROWS) * ROWS * in_channels;
}

// c[r][·] = Σ_i a[i][r] · b[i][·] for ROWS rows and COLUMNS columns, ldc apart: a holds `inner`
// groups of ROWS packed filter values, b `inner` rows of transformed tiles, ldb apart.
__attribute__((target("avx2,fma"))) static void products_avx2(int inner, const float *a, const float *b, long ldb,
                                                               float *c, long ldc) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int i = 0; i < inner; i++, a += ROWS, b += ldb) {
        const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        __m256 s = _mm256_broadcast_ss(a);
        c00 = _mm256_fmadd_ps(s, b0, c00); c01 = _mm256_fmadd_ps(s, b1, c01);
        s = _mm256_broadcast_ss(a + 1);
        c10 = _mm256_fmadd_ps(s, b0, c10); c11 = _mm256_fmadd_ps(s, b1, c11);
        s = _mm256_broadcast_ss(a + 2);
        c20 = _mm256_fmadd_ps(s, b0, c20); c21 = _mm256_fmadd_ps(s, b1, c21);
        s = _mm256_broadcast_ss(a + 3);
        c30 = _mm256_fmadd_ps(s, b0, c30); c31 = _mm256_fmadd_ps(s, b1, c31);
        s = _mm256_broadcast_ss(a + 4);
        c40 = _mm256_fmadd_ps(s, b0, c40); c41 = _mm256_fmadd_ps(s, b1, c41);
        s = _mm256_broadcast_ss(a + 5);
        c50 = _mm256_fmadd_ps(s, b0, c50); c51 = _mm256_fmadd_ps(s, b1, c51);
    }
    _mm256_storeu_ps(c, c00); _mm256_storeu_ps(c + 8, c01); c += ldc;
    _mm256_storeu_ps(c, c10); _mm256_storeu_ps(c + 8, c11); c += ldc;
    _mm256_storeu_ps(c, c20); _mm256_storeu_ps(c + 8, c21); c += ldc;
    _mm256_storeu_ps(c, c30); _mm256_storeu_ps(c + 8, c31); c += ldc;
    _mm256_storeu_ps(c, c40); _mm256_storeu_ps(c + 8, c41); c += ldc;
    _mm256_storeu_ps(c, c50); _mm256_storeu_ps(c + 8, c51);
}

static void products_baseline(int inner, const float *a, const float *b, long ldb, float *c, long ldc) {
    float sums[ROWS][COLUMNS] = {{0}};
    for (int i = 0; i < inner; i++, a += ROWS, b += ldb)
        for (int r = 0; r < ROWS; r++)
            for (int q = 0; q < COLUMNS; q++) sums[r][q] += a[r] * b[q];
    for (int r = 0; r < ROWS; r++) memcpy(c + r * ldc, sums[r], sizeof sums[r]);
}

typedef void (*products_kernel)(int, const float *, const float *, long, float *, long);

// Where an output tile lies: its image and its top-left output pixel.
typedef struct { int image, y0, x0; } tile_place;

// The 6×6 input windows of LANES tiles out of the zero-bordered copy of their channel's images
// (`padded`, each window whole inside it), zeros past `lanes`.
static inline __attribute__((always_inline)) void gather_baseline(const float *padded, long padded_plane, int padded_wide,
                                                                  int first_image, const tile_place *places, int lanes,
                                                                  float d[6][6][LANES]) {
    for (int l = 0; l < LANES; l++) {
        if (l >= lanes) {
            for (int r = 0; r < 6; r++) for (int q = 0; q < 6; q++) d[r][q][l] = 0;
            continue;
        }
        const tile_place p = places[l];
        const float *src = padded + (p.image - first_image) * padded_plane + (long)p.y0 * padded_wide + p.x0;
        for (int r = 0; r < 6; r++) for (int q = 0; q < 6; q++) d[r][q][l] = src[(long)r * padded_wide + q];
    }
}

// The same with AVX2: each row of the eight windows read as eight floats (the scratch has slack past
// its end for the last two) and turned by an 8×8 transpose, so that d[r][q] is one vector over the tiles.
static inline __attribute__((always_inline, target("avx2,fma"))) void gather_avx2(const float *padded, long padded_plane,
                                                                                  int padded_wide, int first_image,
                                                                                  const tile_place *places, int lanes,
                                                                                  float d[6][6][LANES]) {
    const float *sources[LANES];
    static const float zeros[8] = {0};
    for (int l = 0; l < LANES; l++) {
        const tile_place p = places[l < lanes ? l : 0];
        sources[l] = l < lanes ? padded + (p.image - first_image) * padded_plane + (long)p.y0 * padded_wide + p.x0 : NULL;
    }
    for (int r = 0; r < 6; r++) {
        __m256 row[LANES];
        for (int l = 0; l < LANES; l++)
            row[l] = _mm256_loadu_ps(sources[l] ? sources[l] + (long)r * padded_wide : zeros);
        const __m256 t0 = _mm256_unpacklo_ps(row[0], row[1]), t1 = _mm256_unpackhi_ps(row[0], row[1]);
        const __m256 t2 = _mm256_unpacklo_ps(row[2], row[3]), t3 = _mm256_unpackhi_ps(row[2], row[3]);
        const __m256 t4 = _mm256_unpacklo_ps(row[4], row[5]), t5 = _mm256_unpackhi_ps(row[4], row[5]);
        const __m256 t6 = _mm256_unpacklo_ps(row[6], row[7]), t7 = _mm256_unpackhi_ps(row[6], row[7]);
        const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
        const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
        const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
        const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
        _mm256_storeu_ps(d[r][0], _mm256_permute2f128_ps(s0, s4, 0x20));
        _mm256_storeu_ps(d[r][1], _mm256_permute2f128_ps(s1, s5, 0x20));
        _mm256_storeu_ps(d[r][2], _mm256_permute2f128_ps(s2, s6, 0x20));
        _mm256_storeu_ps(d[r][3], _mm256_permute2f128_ps(s3, s7, 0x20));
        _mm256_storeu_ps(d[r][4], _mm256_permute2f128_ps(s0, s4, 0x31));
        _mm256_storeu_ps(d[r][5], _mm256_permute2f128_ps(s1, s5, 0x31));
    }
}

typedef void (*gather_function)(const float *, long, int, int, const tile_place *, int, float[6][6][LANES]);

// A^T M A + bias (then ReLU) of `count` tiles of output channel o, M laid out as plane ξ at m + ξ · plane.
#define OUTPUT_TILES(STEP, ROWS_OF)                                                                              \
    for (int j = 0; j < count; j += LANES) {                                                                    \
        const int lanes = count - j < LANES ? count - j : LANES;                                                \
        float mm[36][LANES];                                                                                    \
        for (int k = 0; k < 36; k++) memcpy(mm[k], m + k * plane + j, sizeof mm[k]);                           \
        float e[STEP][6][LANES];                                                                                \
        for (int q = 0; q < 6; q++) ROWS_OF(mm[q], mm[6 + q], mm[12 + q], mm[18 + q], mm[24 + q], mm[30 + q], e[0][q], 6 * LANES); \
        float f[STEP][STEP][LANES];                                                                             \
        for (int r = 0; r < STEP; r++) {                                                                        \
            ROWS_OF(e[r][0], e[r][1], e[r][2], e[r][3], e[r][4], e[r][5], f[r][0], LANES);                      \
            for (int q = 0; q < STEP; q++)                                                                      \
                for (int l = 0; l < LANES; l++) {                                                               \
                    const float value = f[r][q][l] + b;                                                         \
                    f[r][q][l] = relu && value < 0 ? 0 : value;                                                 \
                }                                                                                               \
        }                                                                                                       \
        for (int l = 0; l < lanes; l++) {                                                                       \
            const tile_place p = places[j + l];                                                                 \
            const int rows = out_high - p.y0 < STEP ? out_high - p.y0 : STEP;                                   \
            const int columns = out_wide - p.x0 < STEP ? out_wide - p.x0 : STEP;                                \
            float *target = y + ((long)o * images + p.image) * out_high * out_wide + (long)p.y0 * out_wide + p.x0; \
            for (int r = 0; r < rows; r++)                                                                      \
                for (int q = 0; q < columns; q++) target[(long)r * out_wide + q] = f[r][q][l];                  \
        }                                                                                                       \
    }

static inline __attribute__((always_inline)) void output_tiles4(const float *m, long plane, int count, const tile_place *places,
                                                                float b, int relu, int o, int images, int out_high,
                                                                int out_wide, float *y) {
    OUTPUT_TILES(4, output_rows4)
}

static inline __attribute__((always_inline)) void output_tiles2(const float *m, long plane, int count, const tile_place *places,
                                                                float b, int relu, int o, int images, int out_high,
                                                                int out_wide, float *y) {
    OUTPUT_TILES(2, output_rows2)
}

#define FORWARD_ARGUMENTS const float *x, int images, int in_channels, int height, int width, int pad, int kernel, \
    const float *packed, int out_channels, const float *bias, int relu, int out_high, int out_wide,             \
    long tile_begin, long tile_end, float *y, float *v, float *m, float *padded

static inline __attribute__((always_inline)) void forward_tiles(FORWARD_ARGUMENTS, products_kernel products,
                                                               gather_function gather) {
    const int step = 7 - kernel;
    const int tiles_wide = (out_wide + step - 1) / step, tiles_high = (out_high + step - 1) / step;
    const long per_image = (long)tiles_high * tiles_wide;
    const int blocks = (out_channels + ROWS - 1) / ROWS;
    const long input_plane = (long)in_channels * CHUNK, output_plane = (long)blocks * ROWS * CHUNK;
    const int padded_high = tiles_high * step + kernel - 1, padded_wide = tiles_wide * step + kernel - 1;
    const long padded_plane = (long)padded_high * padded_wide;
    tile_place places[CHUNK];
    for (long first = tile_begin; first < tile_end; first += CHUNK) {
        const int count = tile_end - first < CHUNK ? (int)(tile_end - first) : CHUNK;
        const int columns = (count + COLUMNS - 1) / COLUMNS * COLUMNS;
        for (int j = 0; j < count; j++) {
            const long tile = first + j, within = tile % per_image;
            places[j] = (tile_place){(int)(tile / per_image), (int)(within / tiles_wide) * step, (int)(within % tiles_wide) * step};
        }
        // B^T d B of every input channel, out of a zero-bordered copy of the chunk's images of that
        // channel; the columns past `count` hold zeros.
        const int first_image = places[0].image, last_image = places[count - 1].image + 1;
        for (int c = 0; c < in_channels; c++) {
            pad_channel(x, images, height, width, pad, first_image, last_image, c, padded, padded_high, padded_wide,
                        places[0].y0, places[count - 1].y0 + 6);
            for (int j = 0; j < columns; j += LANES) {
                float d[6][6][LANES];
                gather(padded, padded_plane, padded_wide, first_image, places + j, count - j, d);
                input_transform(d, j, LANES, v + (long)c * CHUNK, input_plane);
            }
        }
        // M[ξ] = U[ξ] · V[ξ]: each plane of V stays in L1 while every block of output channels reads it.
        for (int point = 0; point < 36; point++) {
            const float *vp = v + point * input_plane;
            for (int b = 0; b < blocks; b++) {
                const float *a = packed + ((long)point * blocks + b) * in_channels * ROWS;
                float *target = m + point * output_plane + (long)b * ROWS * CHUNK;
                for (int column = 0; column < columns; column += COLUMNS)
                    products(in_channels, a, vp + column, CHUNK, target + column, CHUNK);
            }
        }
        for (int o = 0; o < out_channels; o++) {
            const float b = bias ? bias[o] : 0;
            if (kernel == 3) output_tiles4(m + (long)o * CHUNK, output_plane, count, places, b, relu, o, images, out_high, out_wide, y);
            else output_tiles2(m + (long)o * CHUNK, output_plane, count, places, b, relu, o, images, out_high, out_wide, y);
        }
    }
}

__attribute__((target("avx2,fma"))) static void forward_avx2(FORWARD_ARGUMENTS) {
    forward_tiles(x, images, in_channels, height, width, pad, kernel, packed, out_channels, bias, relu, out_high, out_wide,
                  tile_begin, tile_end, y, v, m, padded, products_avx2, gather_avx2);
}

static void forward_baseline(FORWARD_ARGUMENTS) {
    forward_tiles(x, images, in_channels, height, width, pad, kernel, packed, out_channels, bias, relu, out_high, out_wide,
                  tile_begin, tile_end, y, v, m, padded, products_baseline, gather_baseline);
}

int dc_winograd_forward_tiles(const float *x, int images, int in_channels, int height, int width, int pad, int kernel,
                              const float *packed, int out_channels, const float *bias, int relu,
                              int out_high, int out_wide, long tile_begin, long tile_end, float *y) {
    // The chunk's transformed tiles and products: this thread's own (calls run concurrently), kept
    // from call to call, 32-byte aligned, grown for the largest layer seen.
    static __thread float *scratch = NULL;
    static __thread size_t capacity = 0;
    const size_t blocks = (size_t)(out_channels + ROWS - 1) / ROWS, step = 7 - kernel;
    const size_t tiles_high = (out_high + step - 1) / step, tiles_wide = (out_wide + step - 1) / step;
    // A chunk's tiles span at most CHUNK / (tiles per image) + 2 images.
    const size_t padded_floats = (CHUNK / (tiles_high * tiles_wide) + 2) * (tiles_high * step + kernel - 1) * (tiles_wide * step + kernel - 1);
    const size_t input_floats = (size_t)36 * in_channels * CHUNK, output_floats = (size_t)36 * blocks * ROWS * CHUNK;
    const size_t needed = input_floats + output_floats + padded_floats + 8;  // slack: gather_avx2 reads 8 floats a row
    if (needed > capacity) {
        free(scratch);
        scratch = aligned_alloc(64, (needed * sizeof(float) + 63) / 64 * 64);
        capacity = scratch ? needed : 0;
        if (!scratch) return -1;
    }
    float *v = scratch, *m = scratch + input_floats, *padded = m + output_floats;
    if (has_avx2())
        forward_avx2(x, images, in_channels, height, width, pad, kernel, packed, out_channels, bias, relu, out_high, out_wide,
                     tile_begin, tile_end, y, v, m, padded);
    else
        forward_baseline(x, images, in_channels, height, width, pad, kernel, packed, out_channels, bias, relu, out_high,
                         out_wide, tile_begin, tile_end, y, v, m, padded);
    return 0;
}
