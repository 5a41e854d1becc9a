// oneDNN (Debian's libdnnl-dev, 2.6) convolutions on the trainer's (C, N, H, W) float tensors.
// The primitives are created once per shape with oneDNN's preferred (blocked) layouts; data is
// reordered into them on the way in and back on the way out, so callers only ever see plain
// (C, N, H, W) activations and PyTorch's (out, in, kh, kw) weights.
#ifndef DEEPCLUSTER_ONEDNN_CONVOLUTION_H
#define DEEPCLUSTER_ONEDNN_CONVOLUTION_H
#include <stddef.h>

typedef struct dc_convolution dc_convolution;

typedef struct {
    int batch, in_channels, height, width;
    int out_channels, kernel, stride, padding;
    /// 1: forward keeps what backward needs and backward primitives exist; 0: inference only.
    int training;
    /// 1: convolutions compute in bf16 with fp32 accumulation (inputs and weights rounded to bf16).
    int bf16;
    /// 1 (inference only): max(0, ·) applied to the output as a post-op of the convolution itself, so
    /// the activation is written once (Conv–BatchNorm–ReLU with the BatchNorm folded into the weights).
    int relu;
} dc_convolution_shape;

/// NULL on failure, with one line naming the primitive and the shape in `error`.
dc_convolution *dc_convolution_create(const dc_convolution_shape *shape, char *error, size_t error_size);
void dc_convolution_destroy(dc_convolution *convolution);
/// Name of the implementation oneDNN chose for the forward primitive (e.g. "jit:avx2").
const char *dc_convolution_implementation(const dc_convolution *convolution);
/// Name of the implementation of the backward-weights primitive ("gemm:jit" where oneDNN runs its own
/// im2col + gemm); "none" for an inference-only convolution.
const char *dc_convolution_backward_weights_implementation(const dc_convolution *convolution);

/// dst = conv(src, weights) + bias; 0 on success.
int dc_convolution_forward(dc_convolution *convolution, const float *src, const float *weights,
                           const float *bias, float *dst, char *error, size_t error_size);
/// After the matching forward (same `src`): diff_src = conv_bwd_data(diff_dst) when diff_src is
/// non-NULL; diff_weights += ∂W and diff_bias += ∂b when they are non-NULL. 0 on success.
int dc_convolution_backward(dc_convolution *convolution, const float *diff_dst, const float *weights,
                            float *diff_src, float *diff_weights, float *diff_bias,
                            char *error, size_t error_size);
/// As dc_convolution_backward, for a forward that ran elsewhere (Winograd's: SplitConvolution), `src` being that
/// forward's input. 0 on success.
int dc_convolution_backward_with_source(dc_convolution *convolution, const float *src, const float *diff_dst,
                                        const float *weights, float *diff_src, float *diff_weights, float *diff_bias,
                                        char *error, size_t error_size);

/// Threads oneDNN's OpenMP runtime may use in this process.
void dc_onednn_set_threads(int threads);
/// The instruction set oneDNN dispatches to, as its name ("avx2", "avx512_core_bf16", ...).
const char *dc_onednn_isa(void);
/// 1 when the CPU runs bf16 convolutions natively (AVX512-BF16 or AMX), else 0.
int dc_onednn_has_bf16(void);
/// "MAJOR.MINOR.PATCH" of the loaded library.
const char *dc_onednn_version(void);

#endif
