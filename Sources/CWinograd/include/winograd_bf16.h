// Winograd F(2×2, 3×3) in bf16 for inference's 3×3 and 5×5 stride-1 convolutions inside the bf16 oneDNN trunk
// (COneDNN/trunk.c): NHWC bf16 activations in and out, as the trunk hands them from stage to stage; the
// 16 products per output tile over input channels on AVX512-BF16's vdpbf16ps (pairs of bf16, fp32 sums);
// the transforms in fp32; the folded BatchNorm's bias and the ReLU in the output transform.
//
// Why F(2×2, 3×3) and not the F(4×4, 3×3) of the fp32 kernels (winograd.h): the transformed tiles and
// filters are rounded to bf16 before the products, and F(4×4, 3×3)'s points ±2 magnify that rounding —
// measured 1.8e-2 relative RMS error against an exact convolution of the same bf16 input, where oneDNN's
// direct bf16 kernel gives 2.3e-3. F(2×2, 3×3)'s transforms hold only 0, ±1 and ±1/2: 3.6e-3, most of it
// the rounding of the output to bf16 that the direct kernel pays too (1.7e-3). It does 16 products per
// 2×2 tile where a direct convolution does 36. A 5×5 filter runs as four 3×3 ones (winograd_bf16.c): 64
// products where a direct convolution does 100, with F(2×2, 3×3)'s rounding (F(2×2, 5×5) measured 2.1e-2).
#ifndef DEEPCLUSTER_WINOGRAD_BF16_H
#define DEEPCLUSTER_WINOGRAD_BF16_H
#include <stdint.h>

/// 1 when this CPU has AVX512-BF16 and the shape suits the kernel: input channels a multiple of 16,
/// output channels a multiple of 64.
int dc_winograd_bf16_supported(int in_channels, int out_channels);

/// The number of bf16 values dc_winograd_bf16_pack writes: 16 · out · in, four times that for a 5×5 kernel.
long dc_winograd_bf16_packed_count(int out_channels, int in_channels, int kernel);

/// U[ξ] = (G g G^T)[ξ] of the fp32 filters w (out, in, kernel, kernel), kernel 3 or 5 (its four 3×3 parts),
/// rounded to bf16 and packed for the products kernel: [16 points][out / 64][windows · in / 2][64 outputs][2].
void dc_winograd_bf16_pack(const float *w, int out_channels, int in_channels, int kernel, uint16_t *packed);

/// y = x ∗ w + bias (then max(0, ·) when relu), a `kernel` × `kernel` filter (3 or 5), stride 1, zero padding
/// `pad` (< kernel): x is (images, height, width, in_channels) bf16, y (images, out_high, out_wide,
/// out_channels) bf16 with out_high = height + 2 · pad − kernel + 1 (width likewise). The output tiles run on the OpenMP threads of the calling thread's team
/// setting (libgomp's, which oneDNN's primitives use: found at run time, as omp_set_num_threads is), each
/// tile's sums in the same order whichever thread takes it. 0 on success, -1 when the shape is not
/// supported or a thread's scratch could not be allocated.
int dc_winograd_bf16_forward(const uint16_t *x, int images, int height, int width, int in_channels, int kernel, int pad,
                             const uint16_t *packed, const float *bias, int out_channels, int relu, uint16_t *y);
#endif
