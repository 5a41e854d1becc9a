// The machine's measured FMA peak: what a core computes when it does nothing but independent
// fused multiply-adds in its widest vector unit. Benchmarks report their GFLOP/s as a fraction of it.
#ifndef DEEPCLUSTER_MACHINE_PEAK_H
#define DEEPCLUSTER_MACHINE_PEAK_H

/// GFLOP/s of one thread running FMAs for about `seconds` (AVX-512 where the CPU has it, else
/// AVX2+FMA, else 0). Call it on every core at once for the machine's peak.
double dc_fma_peak_gflops(double seconds);
/// Vector width the measurement used: 16 (AVX-512), 8 (AVX2) or 0.
int dc_fma_peak_lanes(void);
/// GFLOP/s of one thread running bf16 dot products (vdpbf16ps: 16 pairs a vector, 64 operations) for about
/// `seconds`; 0 on a CPU without AVX512-BF16. The peak that --precision bf16's figures are a fraction of.
double dc_bf16_peak_gflops(double seconds);

#endif
