// Training's trunk on oneDNN in one layout (include/onednn_training_trunk.h): per stage a forward-training
// primitive and its backward ones, created once for one input shape, over NHWC activations and gradients
// that the stages own; the caller's (C, N, H, W) fp32 tensors are reordered in and out at the trunk's ends.
#include "onednn_training_trunk.h"
#include "convolution_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { STAGE_CONVOLUTION = 0, STAGE_BATCH_NORM = 1, STAGE_POOLING = 2 };

typedef struct {
    int kind, backward_data, backward_weights;
    dnnl_primitive_desc_t forward_pd, backward_pd, weights_pd;
    dnnl_primitive_t forward, backward, backward_weights_primitive;
    dnnl_memory_t dst, diff_dst;          // this stage's output and its gradient, NHWC, owned
    dnnl_memory_t workspace;              // batch norm with ReLU, pooling
    dnnl_memory_t forward_scratch, backward_scratch, weights_scratch;
    // convolution
    dnnl_memory_t user_weights;           // wraps the caller's (out, in, kh, kw) fp32 weights
    dnnl_memory_t weights, backward_weights_memory; // the forward's and the backward-data's layouts, owned
    dnnl_primitive_t weights_reorder, backward_weights_reorder;
    dnnl_memory_t weights_reorder_scratch, backward_weights_reorder_scratch;
    dnnl_memory_t bias;                   // wraps the caller's fp32 bias
    dnnl_memory_t diff_weights, user_diff_weights, diff_bias; // owned; user_diff_weights (out, in, kh, kw) fp32
    dnnl_primitive_t diff_weights_reorder;
    dnnl_memory_t diff_weights_reorder_scratch;
    size_t weight_count;
    // batch normalisation
    dnnl_memory_t scale, shift;           // wrap the caller's γ and β
    dnnl_memory_t mean, variance, diff_scale, diff_shift; // owned, fp32
    size_t channels;
} training_stage;

struct dc_training_trunk {
    int count;
    training_stage *stages;
    dnnl_stream_t stream;
    dnnl_primitive_attr_t attributes; // user scratchpad (see convolution_internal.h)
    dnnl_memory_t user_src, src, user_dst, user_diff_dst;
    dnnl_primitive_t src_reorder, dst_reorder, diff_dst_reorder;
    dnnl_memory_t src_reorder_scratch, dst_reorder_scratch, diff_dst_reorder_scratch;
    void *scratchpad;
    size_t scratchpad_size;
    char description[160];
};

#define TRAINING_CHECK(call, what)                                                                       \
    do {                                                                                                  \
        dnnl_status_t status_ = (call);                                                                   \
        if (status_ != dnnl_success) {                                                                    \
            if (error) snprintf(error, error_size, "oneDNN training trunk %s: %s (status %d) for %s", what, \
                                dc_status_name(status_), (int)status_, t->description);                   \
            return -1;                                                                                    \
        }                                                                                                 \
    } while (0)

static dnnl_status_t plain_vector(dnnl_memory_desc_t *md, size_t count) {
    dnnl_dims_t dims = {(dnnl_dim_t)count};
    return dnnl_memory_desc_init_by_tag(md, 1, dims, dnnl_f32, dnnl_x);
}

static dnnl_status_t owned(dnnl_memory_t *memory, const dnnl_memory_desc_t *md) {
    return dnnl_memory_create(memory, md, dc_engine, DNNL_MEMORY_ALLOCATE);
}

static dnnl_status_t wrapped(dnnl_memory_t *memory, const dnnl_memory_desc_t *md) {
    return dnnl_memory_create(memory, md, dc_engine, DNNL_MEMORY_NONE);
}

static dnnl_status_t workspace_of(dnnl_memory_t *memory, const_dnnl_primitive_desc_t pd) {
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_workspace_md, 0);
    *memory = NULL;
    if (!md || dnnl_memory_desc_get_size(md) == 0) return dnnl_success;
    return owned(memory, md);
}

static int build_convolution(dc_training_trunk *t, training_stage *st, const dc_training_stage *s, int c,
                             const dnnl_memory_desc_t *in, const dnnl_memory_desc_t *out, dnnl_data_type_t type,
                             const dnnl_dims_t strides, const dnnl_dims_t pad_l, const dnnl_dims_t pad_r,
                             char *error, size_t error_size) {
    dnnl_memory_desc_t any_weights, any_diff_weights, bias, user_weights;
    dnnl_dims_t weight_dims = {s->out_channels, c, s->kernel, s->kernel};
    TRAINING_CHECK(dnnl_memory_desc_init_by_tag(&any_weights, 4, weight_dims, type, dnnl_format_tag_any), "memory descriptor");
    TRAINING_CHECK(dnnl_memory_desc_init_by_tag(&any_diff_weights, 4, weight_dims, dnnl_f32, dnnl_format_tag_any), "memory descriptor");
    TRAINING_CHECK(dnnl_memory_desc_init_by_tag(&user_weights, 4, weight_dims, dnnl_f32, dnnl_oihw), "memory descriptor");
    TRAINING_CHECK(plain_vector(&bias, (size_t)s->out_channels), "memory descriptor");
    dnnl_convolution_desc_t forward, backward, weights;
    TRAINING_CHECK(dnnl_convolution_forward_desc_init(&forward, dnnl_forward_training, dnnl_convolution_direct, in,
                                                      &any_weights, &bias, out, strides, pad_l, pad_r), "convolution descriptor");
    TRAINING_CHECK(dnnl_primitive_desc_create(&st->forward_pd, &forward, t->attributes, dc_engine, NULL), "convolution");
    const dnnl_memory_desc_t *forward_weights = dnnl_primitive_desc_query_md(st->forward_pd, dnnl_query_weights_md, 0);
    TRAINING_CHECK(owned(&st->weights, forward_weights), "weights");
    TRAINING_CHECK(wrapped(&st->user_weights, &user_weights), "weights");
    TRAINING_CHECK(wrapped(&st->bias, &bias), "bias");
    TRAINING_CHECK(dc_make_reorder(&user_weights, forward_weights, t->attributes, &t->scratchpad_size, &st->weights_reorder,
                                   &st->weights_reorder_scratch), "weights reorder");
    st->weight_count = (size_t)s->out_channels * c * s->kernel * s->kernel;
    if (s->backward_data) {
        TRAINING_CHECK(dnnl_convolution_backward_data_desc_init(&backward, dnnl_convolution_direct, in, &any_weights, out,
                                                                strides, pad_l, pad_r), "convolution backward-data descriptor");
        TRAINING_CHECK(dnnl_primitive_desc_create(&st->backward_pd, &backward, t->attributes, dc_engine, st->forward_pd),
                       "convolution backward-data");
        const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(st->backward_pd, dnnl_query_weights_md, 0);
        TRAINING_CHECK(owned(&st->backward_weights_memory, md), "weights");
        TRAINING_CHECK(dc_make_reorder(&user_weights, md, t->attributes, &t->scratchpad_size, &st->backward_weights_reorder,
                                       &st->backward_weights_reorder_scratch), "weights reorder");
    }
    if (s->backward_weights) {
        TRAINING_CHECK(dnnl_convolution_backward_weights_desc_init(&weights, dnnl_convolution_direct, in, &any_diff_weights,
                                                                   &bias, out, strides, pad_l, pad_r),
                       "convolution backward-weights descriptor");
        TRAINING_CHECK(dnnl_primitive_desc_create(&st->weights_pd, &weights, t->attributes, dc_engine, st->forward_pd),
                       "convolution backward-weights");
        const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(st->weights_pd, dnnl_query_diff_weights_md, 0);
        TRAINING_CHECK(owned(&st->diff_weights, md), "weight gradient");
        TRAINING_CHECK(owned(&st->user_diff_weights, &user_weights), "weight gradient");
        TRAINING_CHECK(owned(&st->diff_bias, &bias), "bias gradient");
        TRAINING_CHECK(dc_make_reorder(md, &user_weights, t->attributes, &t->scratchpad_size, &st->diff_weights_reorder,
                                       &st->diff_weights_reorder_scratch), "weight-gradient reorder");
    }
    return 0;
}

static int build_batch_norm(dc_training_trunk *t, training_stage *st, const dc_training_stage *s, int c,
                            const dnnl_memory_desc_t *data, char *error, size_t error_size) {
    unsigned flags = dnnl_use_scale | dnnl_use_shift | (s->relu ? dnnl_fuse_norm_relu : 0);
    dnnl_batch_normalization_desc_t forward, backward;
    TRAINING_CHECK(dnnl_batch_normalization_forward_desc_init(&forward, dnnl_forward_training, data, s->epsilon, flags),
                   "batch-normalisation descriptor");
    TRAINING_CHECK(dnnl_primitive_desc_create(&st->forward_pd, &forward, t->attributes, dc_engine, NULL), "batch normalisation");
    TRAINING_CHECK(dnnl_batch_normalization_backward_desc_init(&backward, dnnl_backward, data, data, s->epsilon, flags),
                   "batch-normalisation backward descriptor");
    TRAINING_CHECK(dnnl_primitive_desc_create(&st->backward_pd, &backward, t->attributes, dc_engine, st->forward_pd),
                   "batch-normalisation backward");
    dnnl_memory_desc_t vector;
    st->channels = (size_t)c;
    TRAINING_CHECK(plain_vector(&vector, st->channels), "memory descriptor");
    TRAINING_CHECK(wrapped(&st->scale, &vector), "scale");
    TRAINING_CHECK(wrapped(&st->shift, &vector), "shift");
    TRAINING_CHECK(owned(&st->mean, &vector), "mean");
    TRAINING_CHECK(owned(&st->variance, &vector), "variance");
    TRAINING_CHECK(owned(&st->diff_scale, &vector), "scale gradient");
    TRAINING_CHECK(owned(&st->diff_shift, &vector), "shift gradient");
    TRAINING_CHECK(workspace_of(&st->workspace, st->forward_pd), "workspace");
    return 0;
}

static int build_pooling(dc_training_trunk *t, training_stage *st, const dc_training_stage *s, const dnnl_memory_desc_t *in,
                         const dnnl_memory_desc_t *out, const dnnl_dims_t strides, const dnnl_dims_t pad_r,
                         char *error, size_t error_size) {
    dnnl_pooling_v2_desc_t forward, backward;
    dnnl_dims_t kernel = {s->kernel, s->kernel}, dilation = {0, 0}, pad_l = {0, 0};
    TRAINING_CHECK(dnnl_pooling_v2_forward_desc_init(&forward, dnnl_forward_training, dnnl_pooling_max, in, out, strides,
                                                     kernel, dilation, pad_l, pad_r), "max-pooling descriptor");
    TRAINING_CHECK(dnnl_primitive_desc_create(&st->forward_pd, &forward, t->attributes, dc_engine, NULL), "max pooling");
    if (s->backward_data) {
        TRAINING_CHECK(dnnl_pooling_v2_backward_desc_init(&backward, dnnl_pooling_max, in, out, strides, kernel, dilation,
                                                          pad_l, pad_r), "max-pooling backward descriptor");
        TRAINING_CHECK(dnnl_primitive_desc_create(&st->backward_pd, &backward, t->attributes, dc_engine, st->forward_pd),
                       "max-pooling backward");
    }
    TRAINING_CHECK(workspace_of(&st->workspace, st->forward_pd), "workspace");
    return 0;
}

static int build(dc_training_trunk *t, int batch, int channels, int height, int width, const dc_training_stage *stages,
                 int bf16, char *error, size_t error_size) {
    dnnl_data_type_t type = bf16 ? dnnl_bf16 : dnnl_f32;
    TRAINING_CHECK(dc_make_stream(&t->stream, &t->attributes), "stream and primitive attributes");
    dnnl_memory_desc_t user_src, src;
    dnnl_dims_t src_dims = {batch, channels, height, width};
    TRAINING_CHECK(dc_channel_major(&user_src, batch, channels, height, width), "memory descriptor");
    TRAINING_CHECK(dnnl_memory_desc_init_by_tag(&src, 4, src_dims, type, dnnl_acdb), "memory descriptor");
    TRAINING_CHECK(wrapped(&t->user_src, &user_src), "source");
    TRAINING_CHECK(owned(&t->src, &src), "source");
    TRAINING_CHECK(dc_make_reorder(&user_src, &src, t->attributes, &t->scratchpad_size, &t->src_reorder, &t->src_reorder_scratch),
                   "source reorder");
    dnnl_memory_desc_t in = src;
    int c = channels, h = height, w = width;
    for (int i = 0; i < t->count; i++) {
        const dc_training_stage *s = &stages[i];
        training_stage *st = &t->stages[i];
        st->kind = s->kind;
        st->backward_data = s->backward_data;
        st->backward_weights = s->kind == STAGE_CONVOLUTION && s->backward_weights;
        dnnl_memory_desc_t out = in;
        if (s->kind == STAGE_BATCH_NORM) {
            if (build_batch_norm(t, st, s, c, &in, error, error_size) != 0) return -1;
        } else if (s->kind == STAGE_CONVOLUTION || s->kind == STAGE_POOLING) {
            int pooling = s->kind == STAGE_POOLING;
            int out_c = pooling ? c : s->out_channels, pad = pooling ? 0 : s->padding;
            if (s->kernel < 1 || s->stride < 1 || out_c < 1 || h + 2 * pad < s->kernel || w + 2 * pad < s->kernel) {
                if (error) snprintf(error, error_size, "oneDNN training trunk: stage %d leaves no output for %s", i, t->description);
                return -1;
            }
            int oh = (h + 2 * pad - s->kernel) / s->stride + 1, ow = (w + 2 * pad - s->kernel) / s->stride + 1;
            dnnl_dims_t dst_dims = {batch, out_c, oh, ow};
            dnnl_dims_t strides = {s->stride, s->stride}, pad_l = {pad, pad};
            // PyTorch's floor rounding of the output size, as the right/bottom padding oneDNN wants.
            dnnl_dims_t pad_r = {(oh - 1) * s->stride + s->kernel - h - pad, (ow - 1) * s->stride + s->kernel - w - pad};
            TRAINING_CHECK(dnnl_memory_desc_init_by_tag(&out, 4, dst_dims, type, dnnl_acdb), "memory descriptor");
            int built = pooling ? build_pooling(t, st, s, &in, &out, strides, pad_r, error, error_size)
                                : build_convolution(t, st, s, c, &in, &out, type, strides, pad_l, pad_r, error, error_size);
            if (built != 0) return -1;
            c = out_c; h = oh; w = ow;
        } else {
            if (error) snprintf(error, error_size, "oneDNN training trunk: stage %d has unknown kind %d", i, s->kind);
            return -1;
        }
        TRAINING_CHECK(dnnl_primitive_create(&st->forward, st->forward_pd), "forward primitive");
        TRAINING_CHECK(dc_scratch_request(&t->scratchpad_size, st->forward_pd, &st->forward_scratch), "scratchpad");
        if (st->backward_pd) {
            TRAINING_CHECK(dnnl_primitive_create(&st->backward, st->backward_pd), "backward primitive");
            TRAINING_CHECK(dc_scratch_request(&t->scratchpad_size, st->backward_pd, &st->backward_scratch), "scratchpad");
        }
        if (st->weights_pd) {
            TRAINING_CHECK(dnnl_primitive_create(&st->backward_weights_primitive, st->weights_pd), "backward-weights primitive");
            TRAINING_CHECK(dc_scratch_request(&t->scratchpad_size, st->weights_pd, &st->weights_scratch), "scratchpad");
        }
        TRAINING_CHECK(owned(&st->dst, &out), "activation");
        TRAINING_CHECK(owned(&st->diff_dst, &out), "activation gradient");
        in = out;
    }
    dnnl_memory_desc_t user_dst;
    TRAINING_CHECK(dc_channel_major(&user_dst, batch, c, h, w), "memory descriptor");
    TRAINING_CHECK(wrapped(&t->user_dst, &user_dst), "destination");
    TRAINING_CHECK(wrapped(&t->user_diff_dst, &user_dst), "destination gradient");
    TRAINING_CHECK(dc_make_reorder(&in, &user_dst, t->attributes, &t->scratchpad_size, &t->dst_reorder, &t->dst_reorder_scratch),
                   "destination reorder");
    TRAINING_CHECK(dc_make_reorder(&user_dst, &in, t->attributes, &t->scratchpad_size, &t->diff_dst_reorder,
                                   &t->diff_dst_reorder_scratch), "destination-gradient reorder");
    // Every scratchpad memory points at one buffer as large as the largest request: the primitives run one after another.
    size_t count = 3 + 6 * (size_t)t->count, n = 0;
    dnnl_memory_t *all = calloc(count, sizeof *all);
    if (!all) TRAINING_CHECK(dnnl_out_of_memory, "scratchpad");
    all[n++] = t->src_reorder_scratch;
    all[n++] = t->dst_reorder_scratch;
    all[n++] = t->diff_dst_reorder_scratch;
    for (int i = 0; i < t->count; i++) {
        training_stage *st = &t->stages[i];
        dnnl_memory_t each[] = {st->forward_scratch, st->backward_scratch, st->weights_scratch, st->weights_reorder_scratch,
                                st->backward_weights_reorder_scratch, st->diff_weights_reorder_scratch};
        for (size_t j = 0; j < 6; j++) all[n++] = each[j];
    }
    dnnl_status_t shared = dc_share_scratchpad(t->scratchpad_size, &t->scratchpad, all, n);
    free(all);
    TRAINING_CHECK(shared, "scratchpad");
    return 0;
}

static void destroy_unlocked(dc_training_trunk *t) {
    if (!t) return;
    for (int i = 0; i < t->count; i++) {
        training_stage *s = &t->stages[i];
        dnnl_memory_t memories[] = {s->dst, s->diff_dst, s->workspace, s->forward_scratch, s->backward_scratch, s->weights_scratch,
                                    s->user_weights, s->weights, s->backward_weights_memory, s->weights_reorder_scratch,
                                    s->backward_weights_reorder_scratch, s->bias, s->diff_weights, s->user_diff_weights,
                                    s->diff_bias, s->diff_weights_reorder_scratch, s->scale, s->shift, s->mean, s->variance,
                                    s->diff_scale, s->diff_shift};
        dc_destroy_memories(memories, DC_COUNT(memories));
        dnnl_primitive_t primitives[] = {s->forward, s->backward, s->backward_weights_primitive, s->weights_reorder,
                                         s->backward_weights_reorder, s->diff_weights_reorder};
        dc_destroy_primitives(primitives, DC_COUNT(primitives));
        dnnl_primitive_desc_t descriptors[] = {s->forward_pd, s->backward_pd, s->weights_pd};
        dc_destroy_descriptors(descriptors, DC_COUNT(descriptors));
    }
    dnnl_memory_t memories[] = {t->user_src, t->src, t->user_dst, t->user_diff_dst, t->src_reorder_scratch,
                                t->dst_reorder_scratch, t->diff_dst_reorder_scratch};
    dc_destroy_memories(memories, DC_COUNT(memories));
    dnnl_primitive_t primitives[] = {t->src_reorder, t->dst_reorder, t->diff_dst_reorder};
    dc_destroy_primitives(primitives, DC_COUNT(primitives));
    if (t->attributes) dnnl_primitive_attr_destroy(t->attributes);
    if (t->stream) dnnl_stream_destroy(t->stream);
    free(t->scratchpad);
    free(t->stages);
    free(t);
}

static dc_training_trunk *create_unlocked(int batch, int channels, int height, int width, const dc_training_stage *stages,
                                          int count, int bf16, char *error, size_t error_size) {
    if (dc_ensure_engine() != 0) {
        if (error) snprintf(error, error_size, "oneDNN: no CPU engine");
        return NULL;
    }
    dc_training_trunk *t = calloc(1, sizeof *t);
    if (!t || count < 1 || !(t->stages = calloc((size_t)count, sizeof *t->stages))) {
        free(t);
        if (error) snprintf(error, error_size, "oneDNN training trunk: out of memory or no stages");
        return NULL;
    }
    t->count = count;
    snprintf(t->description, sizeof t->description, "(%d, %d, %d, %d), %d stages%s", channels, batch, height, width,
             count, bf16 ? " bf16" : "");
    if (build(t, batch, channels, height, width, stages, bf16, error, error_size) != 0) {
        destroy_unlocked(t);
        return NULL;
    }
    return t;
}

static dnnl_status_t reorder(dc_training_trunk *t, dnnl_primitive_t primitive, dnnl_memory_t from, dnnl_memory_t to,
                             dnnl_memory_t scratch) {
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}, {DNNL_ARG_SCRATCHPAD, scratch}};
    return dc_execute(primitive, t->stream, scratch ? 3 : 2, args);
}

static int set_parameters_unlocked(dc_training_trunk *t, int stage, const float *first, const float *second, char *error,
                                   size_t error_size) {
    if (stage < 0 || stage >= t->count || t->stages[stage].kind == STAGE_POOLING) {
        if (error) snprintf(error, error_size, "oneDNN training trunk: stage %d has no parameters", stage);
        return -1;
    }
    training_stage *s = &t->stages[stage];
    if (s->kind == STAGE_BATCH_NORM) {
        TRAINING_CHECK(dnnl_memory_set_data_handle(s->scale, (void *)first), "scale");
        TRAINING_CHECK(dnnl_memory_set_data_handle(s->shift, (void *)second), "shift");
        return 0;
    }
    TRAINING_CHECK(dnnl_memory_set_data_handle(s->user_weights, (void *)first), "weights");
    TRAINING_CHECK(dnnl_memory_set_data_handle(s->bias, (void *)second), "bias");
    TRAINING_CHECK(reorder(t, s->weights_reorder, s->user_weights, s->weights, s->weights_reorder_scratch), "weights reorder");
    if (s->backward_weights_reorder)
        TRAINING_CHECK(reorder(t, s->backward_weights_reorder, s->user_weights, s->backward_weights_memory,
                               s->backward_weights_reorder_scratch), "weights reorder");
    return 0;
}

static int forward_unlocked(dc_training_trunk *t, const float *src, float *dst, char *error, size_t error_size) {
    TRAINING_CHECK(dnnl_memory_set_data_handle(t->user_src, (void *)src), "source");
    TRAINING_CHECK(dnnl_memory_set_data_handle(t->user_dst, dst), "destination");
    TRAINING_CHECK(reorder(t, t->src_reorder, t->user_src, t->src, t->src_reorder_scratch), "source reorder");
    dnnl_memory_t previous = t->src;
    for (int i = 0; i < t->count; i++) {
        training_stage *s = &t->stages[i];
        dnnl_exec_arg_t args[8];
        int n = 0;
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SRC, previous};
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_DST, s->dst};
        if (s->kind == STAGE_CONVOLUTION) {
            args[n++] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, s->weights};
            args[n++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, s->bias};
        } else if (s->kind == STAGE_BATCH_NORM) {
            args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SCALE, s->scale};
            args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SHIFT, s->shift};
            args[n++] = (dnnl_exec_arg_t){DNNL_ARG_MEAN, s->mean};
            args[n++] = (dnnl_exec_arg_t){DNNL_ARG_VARIANCE, s->variance};
        }
        if (s->workspace) args[n++] = (dnnl_exec_arg_t){DNNL_ARG_WORKSPACE, s->workspace};
        if (s->forward_scratch) args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, s->forward_scratch};
        TRAINING_CHECK(dc_execute(s->forward, t->stream, n, args), "forward");
        previous = s->dst;
    }
    TRAINING_CHECK(reorder(t, t->dst_reorder, previous, t->user_dst, t->dst_reorder_scratch), "destination reorder");
    return 0;
}

static int backward_begin_unlocked(dc_training_trunk *t, const float *diff_dst, char *error, size_t error_size) {
    TRAINING_CHECK(dnnl_memory_set_data_handle(t->user_diff_dst, (void *)diff_dst), "destination gradient");
    TRAINING_CHECK(reorder(t, t->diff_dst_reorder, t->user_diff_dst, t->stages[t->count - 1].diff_dst,
                           t->diff_dst_reorder_scratch), "destination-gradient reorder");
    return 0;
}

static dnnl_status_t accumulate(dnnl_memory_t memory, float *into, size_t count) {
    void *data = NULL;
    dnnl_status_t status = dnnl_memory_get_data_handle(memory, &data);
    if (status != dnnl_success) return status;
    const float *from = data;
    for (size_t i = 0; i < count; i++) into[i] += from[i];
    return dnnl_success;
}

static int backward_unlocked(dc_training_trunk *t, int stage, float *first, float *second, char *error, size_t error_size) {
    if (stage < 0 || stage >= t->count) {
        if (error) snprintf(error, error_size, "oneDNN training trunk: no stage %d", stage);
        return -1;
    }
    training_stage *s = &t->stages[stage];
    dnnl_memory_t src = stage > 0 ? t->stages[stage - 1].dst : t->src;
    dnnl_memory_t diff_src = stage > 0 ? t->stages[stage - 1].diff_dst : NULL;
    if (s->kind == STAGE_BATCH_NORM) {
        // Its input gradient always comes out (the primitive writes it); it goes nowhere at stage 0.
        if (!diff_src) {
            if (error) snprintf(error, error_size, "oneDNN training trunk: a batch normalisation cannot be stage 0");
            return -1;
        }
        dnnl_exec_arg_t args[12];
        int n = 0;
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SRC, src};
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_MEAN, s->mean};
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_VARIANCE, s->variance};
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_DST, s->diff_dst};
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SCALE, s->scale};
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SHIFT, s->shift}; // counted among its inputs with dnnl_use_shift
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_SRC, diff_src};
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_SCALE, s->diff_scale};
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_SHIFT, s->diff_shift};
        if (s->workspace) args[n++] = (dnnl_exec_arg_t){DNNL_ARG_WORKSPACE, s->workspace};
        if (s->backward_scratch) args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, s->backward_scratch};
        TRAINING_CHECK(dc_execute(s->backward, t->stream, n, args), "batch-normalisation backward");
        if (first) TRAINING_CHECK(accumulate(s->diff_scale, first, s->channels), "scale gradient");
        if (second) TRAINING_CHECK(accumulate(s->diff_shift, second, s->channels), "shift gradient");
        return 0;
    }
    if (s->kind == STAGE_CONVOLUTION && s->backward_weights_primitive && (first || second)) {
        dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, s->diff_dst},
                                   {DNNL_ARG_DIFF_WEIGHTS, s->diff_weights}, {DNNL_ARG_DIFF_BIAS, s->diff_bias},
                                   {DNNL_ARG_SCRATCHPAD, s->weights_scratch}};
        TRAINING_CHECK(dc_execute(s->backward_weights_primitive, t->stream, s->weights_scratch ? 5 : 4, args),
                       "convolution backward-weights");
        TRAINING_CHECK(reorder(t, s->diff_weights_reorder, s->diff_weights, s->user_diff_weights, s->diff_weights_reorder_scratch),
                       "weight-gradient reorder");
        if (first) TRAINING_CHECK(accumulate(s->user_diff_weights, first, s->weight_count), "weight gradient");
        if (second) {
            const dnnl_memory_desc_t *md = NULL;
            TRAINING_CHECK(dnnl_memory_get_memory_desc(s->diff_bias, &md), "bias gradient");
            TRAINING_CHECK(accumulate(s->diff_bias, second, (size_t)md->dims[0]), "bias gradient");
        }
    }
    if (s->backward && diff_src) {
        dnnl_exec_arg_t args[5];
        int n = 0;
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_DST, s->diff_dst};
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_SRC, diff_src};
        if (s->kind == STAGE_CONVOLUTION) args[n++] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, s->backward_weights_memory};
        if (s->workspace) args[n++] = (dnnl_exec_arg_t){DNNL_ARG_WORKSPACE, s->workspace};
        if (s->backward_scratch) args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, s->backward_scratch};
        TRAINING_CHECK(dc_execute(s->backward, t->stream, n, args), "backward-data");
    }
    return 0;
}

const float *dc_training_trunk_mean(const dc_training_trunk *t, int stage) {
    void *data = NULL;
    if (stage < 0 || stage >= t->count || !t->stages[stage].mean) return NULL;
    return dnnl_memory_get_data_handle(t->stages[stage].mean, &data) == dnnl_success ? data : NULL;
}

const float *dc_training_trunk_variance(const dc_training_trunk *t, int stage) {
    void *data = NULL;
    if (stage < 0 || stage >= t->count || !t->stages[stage].variance) return NULL;
    return dnnl_memory_get_data_handle(t->stages[stage].variance, &data) == dnnl_success ? data : NULL;
}

const char *dc_training_trunk_implementation(const dc_training_trunk *t, int stage) {
    return stage < 0 || stage >= t->count ? "unknown" : dc_implementation_of(t->stages[stage].forward_pd);
}

// The public calls, each under the one execution lock (convolution_internal.h).
dc_training_trunk *dc_training_trunk_create(int batch, int channels, int height, int width, const dc_training_stage *stages,
                                            int count, int bf16, char *error, size_t error_size) {
    return DC_LOCKED(create_unlocked(batch, channels, height, width, stages, count, bf16, error, error_size));
}

void dc_training_trunk_destroy(dc_training_trunk *t) {
    DC_LOCKED_VOID(destroy_unlocked(t));
}

int dc_training_trunk_set_parameters(dc_training_trunk *t, int stage, const float *first, const float *second, char *error,
                                     size_t error_size) {
    return DC_LOCKED(set_parameters_unlocked(t, stage, first, second, error, error_size));
}

int dc_training_trunk_forward(dc_training_trunk *t, const float *src, float *dst, char *error, size_t error_size) {
    return DC_LOCKED(forward_unlocked(t, src, dst, error, error_size));
}

int dc_training_trunk_backward_begin(dc_training_trunk *t, const float *diff_dst, char *error, size_t error_size) {
    return DC_LOCKED(backward_begin_unlocked(t, diff_dst, error, error_size));
}

int dc_training_trunk_backward(dc_training_trunk *t, int stage, float *first, float *second, char *error, size_t error_size) {
    return DC_LOCKED(backward_unlocked(t, stage, first, second, error, error_size));
}
