#include "machine_peak.h"

#include <immintrin.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// Twelve independent accumulators hide the FMA latency (4–5 cycles) on two FMA ports.
#define PEAK_LOOP(T, FMA, SET1, STORE_SUM, LANES)                                                  \
    T a0 = SET1(1.0f), a1 = SET1(1.1f), a2 = SET1(1.2f), a3 = SET1(1.3f), a4 = SET1(1.4f),        \
      a5 = SET1(1.5f), a6 = SET1(1.6f), a7 = SET1(1.7f), a8 = SET1(1.8f), a9 = SET1(1.9f),        \
      a10 = SET1(2.0f), a11 = SET1(2.1f);                                                         \
    const T m = SET1(0.999999f), b = SET1(1e-7f);                                                 \
    long rounds = 0;                                                                              \
    double start = now(), elapsed = 0;                                                            \
    do {                                                                                          \
        for (int i = 0; i < 4096; i++) {                                                          \
            a0 = FMA(a0, m, b); a1 = FMA(a1, m, b); a2 = FMA(a2, m, b); a3 = FMA(a3, m, b);       \
            a4 = FMA(a4, m, b); a5 = FMA(a5, m, b); a6 = FMA(a6, m, b); a7 = FMA(a7, m, b);       \
            a8 = FMA(a8, m, b); a9 = FMA(a9, m, b); a10 = FMA(a10, m, b); a11 = FMA(a11, m, b);   \
        }                                                                                         \
        rounds++;                                                                                 \
        elapsed = now() - start;                                                                  \
    } while (elapsed < seconds);                                                                  \
    float sink[LANES];                                                                            \
    STORE_SUM(sink, a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);                 \
    volatile float keep = sink[0];                                                                \
    (void)keep;                                                                                   \
    return (double)rounds * 4096.0 * 12.0 * 2.0 * LANES / elapsed / 1e9;

__attribute__((target("avx512f"))) static double peak512(double seconds) {
    PEAK_LOOP(__m512, _mm512_fmadd_ps, _mm512_set1_ps, _mm512_storeu_ps, 16)
}

__attribute__((target("avx2,fma"))) static double peak256(double seconds) {
    PEAK_LOOP(__m256, _mm256_fmadd_ps, _mm256_set1_ps, _mm256_storeu_ps, 8)
}

int dc_fma_peak_lanes(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 16;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 8;
    return 0;
}

double dc_fma_peak_gflops(double seconds) {
    switch (dc_fma_peak_lanes()) {
    case 16: return peak512(seconds);
    case 8: return peak256(seconds);
    default: return 0;
    }
}

// bf16: each vdpbf16ps multiplies 16 pairs of bf16 products per 512-bit vector and adds them into 16 fp32
// sums, 64 floating-point operations; twelve independent sums as above.
__attribute__((target("avx512f,avx512bf16"))) static double peak_bf16(double seconds) {
    __m512 a[12];
    for (int j = 0; j < 12; j++) a[j] = _mm512_set1_ps(1.0f + 0.1f * (float)j);
    const __m512bh x = (__m512bh)_mm512_set1_epi16(0x3a83);   // 0.001 in bf16
    long rounds = 0;
    double start = now(), elapsed = 0;
    do {
        for (int i = 0; i < 4096; i++) {
            a[0] = _mm512_dpbf16_ps(a[0], x, x); a[1] = _mm512_dpbf16_ps(a[1], x, x);
            a[2] = _mm512_dpbf16_ps(a[2], x, x); a[3] = _mm512_dpbf16_ps(a[3], x, x);
            a[4] = _mm512_dpbf16_ps(a[4], x, x); a[5] = _mm512_dpbf16_ps(a[5], x, x);
            a[6] = _mm512_dpbf16_ps(a[6], x, x); a[7] = _mm512_dpbf16_ps(a[7], x, x);
            a[8] = _mm512_dpbf16_ps(a[8], x, x); a[9] = _mm512_dpbf16_ps(a[9], x, x);
            a[10] = _mm512_dpbf16_ps(a[10], x, x); a[11] = _mm512_dpbf16_ps(a[11], x, x);
        }
        rounds++;
        elapsed = now() - start;
    } while (elapsed < seconds);
    __m512 sum = a[0];
    for (int j = 1; j < 12; j++) sum = _mm512_add_ps(sum, a[j]);
    float sink[16];
    _mm512_storeu_ps(sink, sum);
    volatile float keep = sink[0];
    (void)keep;
    return (double)rounds * 4096.0 * 12.0 * 64.0 / elapsed / 1e9;
}

double dc_bf16_peak_gflops(double seconds) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512bf16")) return 0;
    return peak_bf16(seconds);
}
