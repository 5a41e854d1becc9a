// Inference's trunk on oneDNN in one layout: a chain of convolutions (their BatchNorm folded into the
// weights and bias by the caller, ReLU a post-op) and max-poolings that hand their activations to each
// other in NHWC (oneDNN's acdb), in bf16 under bf16 arithmetic, so data is reordered twice per batch —
// in from the trainer's (C, N, H, W) fp32 and out to it after the last stage — instead of around every
// convolution. PyTorch's channels_last + autocast keeps the same layout between its layers.
#ifndef DEEPCLUSTER_ONEDNN_TRUNK_H
#define DEEPCLUSTER_ONEDNN_TRUNK_H
#include <stddef.h>

typedef struct dc_trunk dc_trunk;

typedef struct {
    /// 0: convolution (with bias, optional ReLU post-op); 1: max pooling (PyTorch's floor mode, no padding).
    int pooling;
    /// Convolution only: output channels, padding and the ReLU post-op.
    int out_channels, padding, relu;
    /// Both: window and stride.
    int kernel, stride;
    /// Convolution only, 1: may run as bf16 Winograd F(2×2, 3×3) (CWinograd/winograd_bf16.h) instead of oneDNN
    /// — taken under bf16 for a 3×3 or 5×5 stride-1 stage whose shape and CPU the kernel supports, else ignored.
    int winograd;
} dc_trunk_stage;

/// A trunk for inputs of (channels, batch, height, width) in the trainer's layout; `bf16` 1: activations
/// and arithmetic in bf16 (fp32 accumulation), 0: fp32. NULL on failure, with one line in `error`.
dc_trunk *dc_trunk_create(int batch, int channels, int height, int width, const dc_trunk_stage *stages, int count,
                          int bf16, char *error, size_t error_size);
void dc_trunk_destroy(dc_trunk *trunk);
/// Sets convolution stage `stage`'s weights ((out, in, kh, kw) fp32, reordered into the primitive's layout
/// and precision here) and bias (fp32). 0 on success.
int dc_trunk_set_weights(dc_trunk *trunk, int stage, const float *weights, const float *bias, char *error,
                         size_t error_size);
/// Runs every stage: src (C, N, H, W) fp32 → dst (C', N, H', W') fp32. 0 on success.
int dc_trunk_forward(dc_trunk *trunk, const float *src, float *dst, char *error, size_t error_size);
/// The implementation oneDNN chose for a stage ("brgconv:avx512_core_bf16", "jit:avx512_core_bf16", ...), or
/// "winograd:f2x3-bf16" ("winograd:4xf2x3-bf16" for a 5×5 filter as four 3×3 ones) for a stage on CWinograd.
const char *dc_trunk_implementation(const dc_trunk *trunk, int stage);
#endif
