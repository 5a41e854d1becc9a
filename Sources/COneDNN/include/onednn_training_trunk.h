// Training's trunk on oneDNN in one layout: convolutions, BatchNorms on batch statistics (the ReLU after
// one fused into it) and max-poolings that hand NHWC activations and their gradients to each other — in
// bf16 under bf16 arithmetic, with BatchNorm's statistics, parameters and every weight gradient in fp32 —
// so data is reordered only where it enters and leaves the trunk (forward and backward), instead of around
// every convolution, and the trainer's own fp32 BatchNorm, ReLU and pooling passes are not run. PyTorch's
// channels_last + autocast keeps the same layout between its layers. The caller's flat parameter and
// gradient buffers stay the ones SGD, the allreduce and the checkpoint see: weights are reordered into the
// primitives' layouts per step, weight gradients accumulated into the caller's buffers.
#ifndef DEEPCLUSTER_ONEDNN_TRAINING_TRUNK_H
#define DEEPCLUSTER_ONEDNN_TRAINING_TRUNK_H
#include <stddef.h>

typedef struct dc_training_trunk dc_training_trunk;

typedef struct {
    /// 0: convolution with bias; 1: batch normalisation on batch statistics (scale and shift); 2: max pooling
    /// (PyTorch's floor mode, no padding).
    int kind;
    /// Convolution: output channels and padding; convolution and pooling: window and stride.
    int out_channels, padding, kernel, stride;
    /// Batch normalisation: the ReLU after it runs fused (forward and backward); its epsilon.
    int relu;
    float epsilon;
    /// Whether backward computes this stage's input gradient, and (convolution) its weight gradient.
    int backward_data, backward_weights;
} dc_training_stage;

/// A trunk for inputs of (channels, batch, height, width) in the trainer's layout; `bf16` 1: activations,
/// their gradients and the convolutions' arithmetic in bf16 (fp32 accumulation), 0: fp32. NULL on failure,
/// with one line in `error`.
dc_training_trunk *dc_training_trunk_create(int batch, int channels, int height, int width, const dc_training_stage *stages,
                                            int count, int bf16, char *error, size_t error_size);
void dc_training_trunk_destroy(dc_training_trunk *trunk);
/// The parameters of stage `stage` for the next forward and backward, read from the caller's buffers:
/// convolution: (out, in, kh, kw) weights (reordered into the primitives' layouts here) and bias;
/// batch normalisation: scale (γ) and shift (β), read in place. 0 on success.
int dc_training_trunk_set_parameters(dc_training_trunk *trunk, int stage, const float *first, const float *second,
                                     char *error, size_t error_size);
/// Runs every stage in training: src (C, N, H, W) fp32 → dst (C', N, H', W') fp32. 0 on success.
int dc_training_trunk_forward(dc_training_trunk *trunk, const float *src, float *dst, char *error, size_t error_size);
/// A batch-normalisation stage's batch mean and biased variance from the last forward (fp32, per channel).
const float *dc_training_trunk_mean(const dc_training_trunk *trunk, int stage);
const float *dc_training_trunk_variance(const dc_training_trunk *trunk, int stage);
/// Hands the trunk the gradient of its output, (C', N, H', W') fp32, before the stages' backward. 0 on success.
int dc_training_trunk_backward_begin(dc_training_trunk *trunk, const float *diff_dst, char *error, size_t error_size);
/// Back-propagates stage `stage` (call from the last stage down): its input gradient when the stage was
/// made with backward_data; convolution: weight and bias gradients added into `first` and `second`;
/// batch normalisation: γ and β gradients added into them. NULL pointers skip the parameter gradients.
int dc_training_trunk_backward(dc_training_trunk *trunk, int stage, float *first, float *second, char *error,
                               size_t error_size);
/// The implementation oneDNN chose for a stage's forward ("brgconv:avx512_core_bf16", ...).
const char *dc_training_trunk_implementation(const dc_training_trunk *trunk, int stage);
#endif
