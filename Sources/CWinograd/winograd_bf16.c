// Winograd F(2×2, 3×3) in bf16 on NHWC activations (include/winograd_bf16.h). For a chunk of TILES output
// tiles: the input transform B^T d B of every 16 channels of each tile's 4×4 window (fp32 vectors over the
// channels, no transposes: NHWC holds a pixel's channels together), rounded to bf16; the 16 products
// M[ξ] (tiles × out) = V[ξ] (tiles × in) · U[ξ] (in × out) on vdpbf16ps, 6 tiles × 64 outputs of fp32 sums
// in registers; then A^T M A + bias (+ ReLU) per 16 output channels, rounded to bf16 into y.
//
// A 5×5 filter, zero-padded to 6×6, is four 3×3 filters at offsets (0, 0), (0, 3), (3, 0) and (3, 3): a tile's
// output is the sum of four F(2×2, 3×3) convolutions of its four windows at those offsets, so the products run
// over 4 · in "channels" (window-major) and nothing else changes: 64 products per tile where a direct 5×5
// convolution does 100, and the rounding of F(2×2, 3×3).
#include "winograd_bf16.h"
#include <dlfcn.h>
#include <immintrin.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define TILES 96        // tiles per chunk (a multiple of TILE_BLOCK)
#define TILE_BLOCK 6    // tiles per block of the products' kernel
#define OUTPUT_BLOCK 64 // output channels per block: four vectors of 16 (24 accumulators of 32 registers)

static int has_bf16(void) {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512bf16");
}

int dc_winograd_bf16_supported(int in_channels, int out_channels) {
    return has_bf16() && in_channels > 0 && in_channels % 16 == 0 && out_channels > 0 && out_channels % OUTPUT_BLOCK == 0;
}

long dc_winograd_bf16_packed_count(int out_channels, int in_channels, int kernel) {
    return 16L * out_channels * in_channels * (kernel == 5 ? 4 : 1);
}

// Round to nearest even, as vcvtneps2bf16 does (NaN is not expected in filters).
static uint16_t to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    u += 0x7fff + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}

void dc_winograd_bf16_pack(const float *w, int out_channels, int in_channels, int kernel, uint16_t *packed) {
    static const double g[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    const int windows = kernel == 5 ? 4 : 1, products_in = windows * in_channels;
    const int blocks = out_channels / OUTPUT_BLOCK, pairs = products_in / 2;
    for (int o = 0; o < out_channels; o++)
        for (int window = 0; window < windows; window++)
            for (int i = 0; i < in_channels; i++) {
                // The window's 3×3 part of the filter (of a 5×5 one zero-padded to 6×6).
                const float *filter = w + ((long)o * in_channels + i) * kernel * kernel;
                const int row0 = window / 2 * 3, column0 = window % 2 * 3;
                double f[3][3], half[4][3], u[4][4];  // the part, G f, then (G f) G^T
                for (int a = 0; a < 3; a++)
                    for (int b = 0; b < 3; b++)
                        f[a][b] = row0 + a < kernel && column0 + b < kernel ? filter[(row0 + a) * kernel + column0 + b] : 0;
                for (int a = 0; a < 4; a++)
                    for (int c = 0; c < 3; c++) half[a][c] = g[a][0] * f[0][c] + g[a][1] * f[1][c] + g[a][2] * f[2][c];
                for (int a = 0; a < 4; a++)
                    for (int b = 0; b < 4; b++) u[a][b] = half[a][0] * g[b][0] + half[a][1] * g[b][1] + half[a][2] * g[b][2];
                const int k = window * in_channels + i;
                for (int point = 0; point < 16; point++) {
                    const long at = ((((long)point * blocks + o / OUTPUT_BLOCK) * pairs + k / 2) * OUTPUT_BLOCK + o % OUTPUT_BLOCK) * 2 + (k & 1);
                    packed[at] = to_bf16((float)u[point / 4][point % 4]);
                }
            }
}

typedef struct {
    const uint16_t *x;
    int images, height, width, in_channels, pad;
    int windows, products_in;  // 1 window a tile (3×3) or 4 (5×5); products_in = windows · in_channels
    const uint16_t *packed;
    const float *bias;
    int out_channels, relu;
    uint16_t *y;
    int out_high, out_wide, tiles_high, tiles_wide;
    long tiles, chunks, next_chunk;  // next_chunk: taken with an atomic add
    int failed;
} job;

#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512bf16")))

BF16_TARGET static inline __m512 load_bf16(const uint16_t *p) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p)), 16));
}

BF16_TARGET static inline void store_bf16(uint16_t *p, __m512 v) {
    _mm256_storeu_si256((__m256i *)p, (__m256i)_mm512_cvtneps_pbh(v));
}

// Tile t's image and top-left output pixel.
static inline void place(const job *j, long t, int *image, int *row, int *column) {
    const long per_image = (long)j->tiles_high * j->tiles_wide, within = t % per_image;
    *image = (int)(t / per_image);
    *row = (int)(within / j->tiles_wide) * 2;
    *column = (int)(within % j->tiles_wide) * 2;
}

// V[ξ][tile][window · in + c] = (B^T d B)[ξ] of the tile's window (B^T = [1 0 −1 0; 0 1 1 0; 0 −1 1 0;
// 0 1 0 −1]), for tiles [first, first + count) of the chunk; rows past count (up to `rows`) are zero.
BF16_TARGET static void input_transform(const job *j, long first, int count, int rows, uint16_t *v) {
    const int in = j->in_channels, width = j->products_in;
    const long plane = (long)TILES * width;
    for (int k = 0; k < rows; k++) {
        if (k >= count) {
            for (int point = 0; point < 16; point++) memset(v + point * plane + (long)k * width, 0, sizeof(uint16_t) * width);
            continue;
        }
        int image, row, column;
        place(j, first + k, &image, &row, &column);
        for (int window = 0; window < j->windows; window++) {
            const int y0 = row - j->pad + window / 2 * 3, x0 = column - j->pad + window % 2 * 3;
            for (int c = 0; c < in; c += 16) {
                __m512 d[4][4];
                for (int r = 0; r < 4; r++)
                    for (int q = 0; q < 4; q++) {
                        const int yy = y0 + r, xx = x0 + q;
                        d[r][q] = yy < 0 || yy >= j->height || xx < 0 || xx >= j->width
                                      ? _mm512_setzero_ps()
                                      : load_bf16(j->x + (((long)image * j->height + yy) * j->width + xx) * in + c);
                    }
                __m512 e[4][4];
                for (int q = 0; q < 4; q++) {
                    e[0][q] = _mm512_sub_ps(d[0][q], d[2][q]);
                    e[1][q] = _mm512_add_ps(d[1][q], d[2][q]);
                    e[2][q] = _mm512_sub_ps(d[2][q], d[1][q]);
                    e[3][q] = _mm512_sub_ps(d[1][q], d[3][q]);
                }
                for (int r = 0; r < 4; r++) {
                    uint16_t *out = v + (long)(r * 4) * plane + (long)k * width + window * in + c;
                    store_bf16(out, _mm512_sub_ps(e[r][0], e[r][2]));
                    store_bf16(out + plane, _mm512_add_ps(e[r][1], e[r][2]));
                    store_bf16(out + 2 * plane, _mm512_sub_ps(e[r][2], e[r][1]));
                    store_bf16(out + 3 * plane, _mm512_sub_ps(e[r][1], e[r][3]));
                }
            }
        }
    }
}

// M[ξ][tile][o] = Σ_i V[ξ][tile][i] · U[ξ][i][o] for `rows` tiles (a multiple of TILE_BLOCK): each
// vdpbf16ps adds a pair of input channels' products into 16 output channels of one tile.
BF16_TARGET static void products(const job *j, int rows, const uint16_t *v, float *m) {
    const int in = j->products_in, out = j->out_channels, pairs = in / 2, blocks = out / OUTPUT_BLOCK;
    for (int point = 0; point < 16; point++) {
        const uint16_t *vp = v + (long)point * TILES * in;
        float *mp = m + (long)point * TILES * out;
        for (int b = 0; b < blocks; b++) {
            const uint16_t *up = j->packed + ((long)point * blocks + b) * pairs * OUTPUT_BLOCK * 2;
            for (int t0 = 0; t0 < rows; t0 += TILE_BLOCK) {
                __m512 sums[TILE_BLOCK][4];
                for (int t = 0; t < TILE_BLOCK; t++)
                    for (int q = 0; q < 4; q++) sums[t][q] = _mm512_setzero_ps();
                const int32_t *pair = (const int32_t *)(vp + (long)t0 * in);
                for (int i = 0; i < pairs; i++) {
                    const float *u = (const float *)(up + (long)i * OUTPUT_BLOCK * 2);
                    const __m512bh u0 = (__m512bh)_mm512_loadu_ps(u), u1 = (__m512bh)_mm512_loadu_ps(u + 16);
                    const __m512bh u2 = (__m512bh)_mm512_loadu_ps(u + 32), u3 = (__m512bh)_mm512_loadu_ps(u + 48);
                    for (int t = 0; t < TILE_BLOCK; t++) {
                        const __m512bh a = (__m512bh)_mm512_set1_epi32(pair[(long)t * pairs + i]);
                        sums[t][0] = _mm512_dpbf16_ps(sums[t][0], a, u0);
                        sums[t][1] = _mm512_dpbf16_ps(sums[t][1], a, u1);
                        sums[t][2] = _mm512_dpbf16_ps(sums[t][2], a, u2);
                        sums[t][3] = _mm512_dpbf16_ps(sums[t][3], a, u3);
                    }
                }
                for (int t = 0; t < TILE_BLOCK; t++)
                    for (int q = 0; q < 4; q++)
                        _mm512_storeu_ps(mp + (long)(t0 + t) * out + b * OUTPUT_BLOCK + q * 16, sums[t][q]);
            }
        }
    }
}

// y = A^T M A + bias (+ ReLU), A^T = [1 1 1 0; 0 1 −1 −1], for the chunk's `count` tiles, the parts of
// each 2×2 tile inside the output map.
BF16_TARGET static void output_transform(const job *j, long first, int count, const float *m) {
    const int out = j->out_channels;
    const long plane = (long)TILES * out;
    const __m512 zero = _mm512_setzero_ps();
    for (int k = 0; k < count; k++) {
        int image, row, column;
        place(j, first + k, &image, &row, &column);
        const int rows = j->out_high - row < 2 ? j->out_high - row : 2;
        const int columns = j->out_wide - column < 2 ? j->out_wide - column : 2;
        for (int c = 0; c < out; c += 16) {
            __m512 mm[16];
            for (int point = 0; point < 16; point++) mm[point] = _mm512_loadu_ps(m + point * plane + (long)k * out + c);
            __m512 e[2][4], f[2][2];
            for (int q = 0; q < 4; q++) {
                e[0][q] = _mm512_add_ps(_mm512_add_ps(mm[q], mm[4 + q]), mm[8 + q]);
                e[1][q] = _mm512_sub_ps(_mm512_sub_ps(mm[4 + q], mm[8 + q]), mm[12 + q]);
            }
            const __m512 bias = j->bias ? _mm512_loadu_ps(j->bias + c) : zero;
            for (int r = 0; r < 2; r++) {
                f[r][0] = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(e[r][0], e[r][1]), e[r][2]), bias);
                f[r][1] = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(e[r][1], e[r][2]), e[r][3]), bias);
            }
            for (int r = 0; r < rows; r++)
                for (int q = 0; q < columns; q++) {
                    const __m512 value = j->relu ? _mm512_max_ps(f[r][q], zero) : f[r][q];
                    store_bf16(j->y + (((long)image * j->out_high + row + r) * j->out_wide + column + q) * out + c, value);
                }
        }
    }
}

// One thread's share: chunks taken one at a time until none is left.
BF16_TARGET static void run_chunks(void *argument) {
    job *j = argument;
    // The chunk's transformed tiles and products: this thread's own, kept from call to call, grown for the
    // largest layer seen.
    static __thread void *scratch = NULL;
    static __thread size_t capacity = 0;
    const size_t v_bytes = (size_t)16 * TILES * j->products_in * sizeof(uint16_t);
    const size_t needed = v_bytes + (size_t)16 * TILES * j->out_channels * sizeof(float);
    if (needed > capacity) {
        free(scratch);
        scratch = aligned_alloc(64, (needed + 63) / 64 * 64);
        capacity = scratch ? needed : 0;
        if (!scratch) {
            __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
            return;
        }
    }
    uint16_t *v = scratch;
    float *m = (float *)((char *)scratch + v_bytes);
    for (;;) {
        const long chunk = __atomic_fetch_add(&j->next_chunk, 1, __ATOMIC_RELAXED);
        if (chunk >= j->chunks) break;
        const long first = chunk * TILES;
        const int count = j->tiles - first < TILES ? (int)(j->tiles - first) : TILES;
        const int rows = (count + TILE_BLOCK - 1) / TILE_BLOCK * TILE_BLOCK;
        input_transform(j, first, count, rows, v);
        products(j, rows, v, m);
        output_transform(j, first, count, m);
    }
}

// libgomp's GOMP_parallel(function, data, threads, flags), looked up once.
static void (*parallel)(void (*)(void *), void *, unsigned, unsigned);
static void find_parallel(void) {
    parallel = (void (*)(void (*)(void *), void *, unsigned, unsigned))dlsym(RTLD_DEFAULT, "GOMP_parallel");
}

int dc_winograd_bf16_forward(const uint16_t *x, int images, int height, int width, int in_channels, int kernel, int pad,
                             const uint16_t *packed, const float *bias, int out_channels, int relu, uint16_t *y) {
    if (!dc_winograd_bf16_supported(in_channels, out_channels) || images < 1 || (kernel != 3 && kernel != 5)) return -1;
    const int out_high = height + 2 * pad - kernel + 1, out_wide = width + 2 * pad - kernel + 1;
    if (out_high < 1 || out_wide < 1 || pad < 0 || pad >= kernel) return -1;
    const int windows = kernel == 5 ? 4 : 1;
    job j = {x, images, height, width, in_channels, pad, windows, windows * in_channels, packed, bias, out_channels, relu, y,
             out_high, out_wide, (out_high + 1) / 2, (out_wide + 1) / 2, 0, 0, 0, 0};
    j.tiles = (long)images * j.tiles_high * j.tiles_wide;
    j.chunks = (j.tiles + TILES - 1) / TILES;
    // libgomp's team, as oneDNN's primitives use it (0 threads: the calling thread's setting); alone when
    // it is not loaded.
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, find_parallel);
    if (parallel && j.chunks > 1) parallel(run_chunks, &j, 0, 0);
    else run_chunks(&j);
    return j.failed ? -1 : 0;
}
