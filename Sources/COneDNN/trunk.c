// Inference's trunk on oneDNN in one layout (include/onednn_trunk.h): the stages' primitives, created
// once for one input shape, hand NHWC activations to each other; the caller's (C, N, H, W) fp32 tensors
// are reordered in before the first stage and out after the last.
#include "onednn_trunk.h"
#include "convolution_internal.h"
#include "winograd_bf16.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int pooling;
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t primitive;
    dnnl_memory_t dst;          // this stage's output, NHWC, owned
    dnnl_memory_t weights;      // convolution: in the primitive's layout, owned
    dnnl_memory_t bias;         // convolution: fp32, owned
    dnnl_memory_t user_weights; // convolution: wraps the caller's (out, in, kh, kw) fp32 weights
    dnnl_primitive_t weights_reorder;
    dnnl_memory_t scratch, weights_reorder_scratch;
    size_t bias_count;
    // A bf16 Winograd stage (no oneDNN primitive): its packed filters and bias, owned, and its input's shape.
    int winograd, in_channels, height, width, padding, relu, kernel;
    uint16_t *winograd_filters;
    float *winograd_bias;
} trunk_stage;

struct dc_trunk {
    int count, batch;
    trunk_stage *stages;
    dnnl_stream_t stream;
    dnnl_primitive_attr_t attributes; // user scratchpad (see convolution_internal.h)
    dnnl_memory_t user_src, src, user_dst;
    dnnl_primitive_t src_reorder, dst_reorder;
    dnnl_memory_t src_reorder_scratch, dst_reorder_scratch;
    void *scratchpad;
    size_t scratchpad_size;
    char description[160];
};

#define TRUNK_CHECK(call, what)                                                                           \
    do {                                                                                                  \
        dnnl_status_t status_ = (call);                                                                   \
        if (status_ != dnnl_success) {                                                                    \
            if (error) snprintf(error, error_size, "oneDNN trunk %s: %s (status %d) for %s", what,        \
                                dc_status_name(status_), (int)status_, t->description);                   \
            return -1;                                                                                    \
        }                                                                                                 \
    } while (0)

static int build(dc_trunk *t, int batch, int channels, int height, int width, const dc_trunk_stage *stages,
                 int bf16, char *error, size_t error_size) {
    dnnl_data_type_t type = bf16 ? dnnl_bf16 : dnnl_f32;
    t->batch = batch;
    TRUNK_CHECK(dc_make_stream(&t->stream, &t->attributes), "stream and primitive attributes");
    dnnl_memory_desc_t user_src, src;
    dnnl_dims_t src_dims = {batch, channels, height, width};
    TRUNK_CHECK(dc_channel_major(&user_src, batch, channels, height, width), "memory descriptor");
    TRUNK_CHECK(dnnl_memory_desc_init_by_tag(&src, 4, src_dims, type, dnnl_acdb), "memory descriptor");
    TRUNK_CHECK(dnnl_memory_create(&t->user_src, &user_src, dc_engine, DNNL_MEMORY_NONE), "source");
    TRUNK_CHECK(dnnl_memory_create(&t->src, &src, dc_engine, DNNL_MEMORY_ALLOCATE), "source");
    TRUNK_CHECK(dc_make_reorder(&user_src, &src, t->attributes, &t->scratchpad_size, &t->src_reorder, &t->src_reorder_scratch), "source reorder");
    dnnl_memory_desc_t in = src;
    int c = channels, h = height, w = width;
    for (int i = 0; i < t->count; i++) {
        const dc_trunk_stage *s = &stages[i];
        trunk_stage *st = &t->stages[i];
        st->pooling = s->pooling;
        int out_c = s->pooling ? c : s->out_channels, pad = s->pooling ? 0 : s->padding;
        if (s->kernel < 1 || s->stride < 1 || h + 2 * pad < s->kernel || w + 2 * pad < s->kernel) {
            if (error) snprintf(error, error_size, "oneDNN trunk: stage %d leaves no output for %s", i, t->description);
            return -1;
        }
        int oh = (h + 2 * pad - s->kernel) / s->stride + 1, ow = (w + 2 * pad - s->kernel) / s->stride + 1;
        dnnl_dims_t dst_dims = {batch, out_c, oh, ow};
        dnnl_dims_t strides = {s->stride, s->stride}, pad_l = {pad, pad};
        // PyTorch's floor rounding of the output size, as the right/bottom padding oneDNN wants.
        dnnl_dims_t pad_r = {(oh - 1) * s->stride + s->kernel - h - pad, (ow - 1) * s->stride + s->kernel - w - pad};
        dnnl_memory_desc_t dst;
        TRUNK_CHECK(dnnl_memory_desc_init_by_tag(&dst, 4, dst_dims, type, dnnl_acdb), "memory descriptor");
        if (s->pooling) {
            dnnl_pooling_v2_desc_t pd;
            dnnl_dims_t kernel = {s->kernel, s->kernel}, dilation = {0, 0};
            TRUNK_CHECK(dnnl_pooling_v2_forward_desc_init(&pd, dnnl_forward_inference, dnnl_pooling_max, &in, &dst,
                                                          strides, kernel, dilation, pad_l, pad_r),
                        "max-pooling descriptor");
            TRUNK_CHECK(dnnl_primitive_desc_create(&st->pd, &pd, t->attributes, dc_engine, NULL), "max pooling");
        } else if (s->winograd && bf16 && (s->kernel == 3 || s->kernel == 5) && s->stride == 1 && pad < s->kernel &&
                   dc_winograd_bf16_supported(c, out_c)) {
            st->winograd = 1;
            st->in_channels = c; st->height = h; st->width = w; st->padding = pad; st->relu = s->relu; st->kernel = s->kernel;
            st->bias_count = (size_t)out_c;
            st->winograd_filters = malloc(sizeof(uint16_t) * (size_t)dc_winograd_bf16_packed_count(out_c, c, s->kernel));
            st->winograd_bias = malloc(sizeof(float) * (size_t)out_c);
            if (!st->winograd_filters || !st->winograd_bias) TRUNK_CHECK(dnnl_out_of_memory, "Winograd filters");
        } else {
            dnnl_memory_desc_t any_weights, bias, user_weights;
            dnnl_dims_t weight_dims = {out_c, c, s->kernel, s->kernel}, bias_dims = {out_c};
            TRUNK_CHECK(dnnl_memory_desc_init_by_tag(&any_weights, 4, weight_dims, type, dnnl_format_tag_any),
                        "memory descriptor");
            TRUNK_CHECK(dnnl_memory_desc_init_by_tag(&user_weights, 4, weight_dims, dnnl_f32, dnnl_oihw), "memory descriptor");
            TRUNK_CHECK(dnnl_memory_desc_init_by_tag(&bias, 1, bias_dims, dnnl_f32, dnnl_x), "memory descriptor");
            dnnl_convolution_desc_t cd;
            TRUNK_CHECK(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct, &in,
                                                           &any_weights, &bias, &dst, strides, pad_l, pad_r),
                        "convolution descriptor");
            dnnl_primitive_attr_t attributes = t->attributes, with_relu = NULL;
            if (s->relu) {
                dnnl_post_ops_t post_ops;
                TRUNK_CHECK(dnnl_primitive_attr_clone(&with_relu, t->attributes), "primitive attributes");
                TRUNK_CHECK(dnnl_post_ops_create(&post_ops), "post-ops");
                dnnl_status_t appended = dnnl_post_ops_append_eltwise(post_ops, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f);
                dnnl_status_t set = appended == dnnl_success ? dnnl_primitive_attr_set_post_ops(with_relu, post_ops) : appended;
                dnnl_post_ops_destroy(post_ops);
                if (set != dnnl_success) dnnl_primitive_attr_destroy(with_relu);
                TRUNK_CHECK(set, "ReLU post-op");
                attributes = with_relu;
            }
            dnnl_status_t made = dnnl_primitive_desc_create(&st->pd, &cd, attributes, dc_engine, NULL);
            if (with_relu) dnnl_primitive_attr_destroy(with_relu);
            TRUNK_CHECK(made, "convolution");
            const dnnl_memory_desc_t *weights = dnnl_primitive_desc_query_md(st->pd, dnnl_query_weights_md, 0);
            TRUNK_CHECK(dnnl_memory_create(&st->weights, weights, dc_engine, DNNL_MEMORY_ALLOCATE), "weights");
            TRUNK_CHECK(dnnl_memory_create(&st->bias, &bias, dc_engine, DNNL_MEMORY_ALLOCATE), "bias");
            TRUNK_CHECK(dnnl_memory_create(&st->user_weights, &user_weights, dc_engine, DNNL_MEMORY_NONE), "weights");
            TRUNK_CHECK(dc_make_reorder(&user_weights, weights, t->attributes, &t->scratchpad_size, &st->weights_reorder, &st->weights_reorder_scratch),
                        "weights reorder");
            st->bias_count = (size_t)out_c;
        }
        if (!st->winograd) {
            TRUNK_CHECK(dnnl_primitive_create(&st->primitive, st->pd), s->pooling ? "max pooling" : "convolution");
            TRUNK_CHECK(dc_scratch_request(&t->scratchpad_size, st->pd, &st->scratch), "scratchpad");
        }
        TRUNK_CHECK(dnnl_memory_create(&st->dst, &dst, dc_engine, DNNL_MEMORY_ALLOCATE), "activation");
        in = dst;
        c = out_c; h = oh; w = ow;
    }
    dnnl_memory_desc_t user_dst;
    TRUNK_CHECK(dc_channel_major(&user_dst, batch, c, h, w), "memory descriptor");
    TRUNK_CHECK(dnnl_memory_create(&t->user_dst, &user_dst, dc_engine, DNNL_MEMORY_NONE), "destination");
    TRUNK_CHECK(dc_make_reorder(&in, &user_dst, t->attributes, &t->scratchpad_size, &t->dst_reorder, &t->dst_reorder_scratch), "destination reorder");
    // Every scratchpad memory points at one buffer as large as the largest request: the primitives run one after another.
    size_t count = 2 + 2 * (size_t)t->count, n = 0;
    dnnl_memory_t *all = calloc(count, sizeof *all);
    if (!all) TRUNK_CHECK(dnnl_out_of_memory, "scratchpad");
    all[n++] = t->src_reorder_scratch;
    all[n++] = t->dst_reorder_scratch;
    for (int i = 0; i < t->count; i++) {
        all[n++] = t->stages[i].scratch;
        all[n++] = t->stages[i].weights_reorder_scratch;
    }
    dnnl_status_t shared = dc_share_scratchpad(t->scratchpad_size, &t->scratchpad, all, n);
    free(all);
    TRUNK_CHECK(shared, "scratchpad");
    return 0;
}

static void destroy_unlocked(dc_trunk *t);

static dc_trunk *create_unlocked(int batch, int channels, int height, int width, const dc_trunk_stage *stages, int count,
                          int bf16, char *error, size_t error_size) {
    if (dc_ensure_engine() != 0) {
        if (error) snprintf(error, error_size, "oneDNN: no CPU engine");
        return NULL;
    }
    dc_trunk *t = calloc(1, sizeof *t);
    if (!t || count < 1 || !(t->stages = calloc((size_t)count, sizeof *t->stages))) {
        free(t);
        if (error) snprintf(error, error_size, "oneDNN trunk: out of memory or no stages");
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

static void destroy_unlocked(dc_trunk *t) {
    if (!t) return;
    for (int i = 0; i < t->count; i++) {
        trunk_stage *s = &t->stages[i];
        dnnl_memory_t memories[] = {s->dst, s->weights, s->bias, s->user_weights, s->scratch, s->weights_reorder_scratch};
        dc_destroy_memories(memories, DC_COUNT(memories));
        if (s->weights_reorder) dnnl_primitive_destroy(s->weights_reorder);
        if (s->primitive) dnnl_primitive_destroy(s->primitive);
        if (s->pd) dnnl_primitive_desc_destroy(s->pd);
        free(s->winograd_filters);
        free(s->winograd_bias);
    }
    dnnl_memory_t memories[] = {t->user_src, t->src, t->user_dst, t->src_reorder_scratch, t->dst_reorder_scratch};
    dc_destroy_memories(memories, DC_COUNT(memories));
    if (t->src_reorder) dnnl_primitive_destroy(t->src_reorder);
    if (t->dst_reorder) dnnl_primitive_destroy(t->dst_reorder);
    if (t->attributes) dnnl_primitive_attr_destroy(t->attributes);
    if (t->stream) dnnl_stream_destroy(t->stream);
    free(t->scratchpad);
    free(t->stages);
    free(t);
}

static int set_weights_unlocked(dc_trunk *t, int stage, const float *weights, const float *bias, char *error,
                         size_t error_size) {
    if (stage < 0 || stage >= t->count || t->stages[stage].pooling) {
        if (error) snprintf(error, error_size, "oneDNN trunk: stage %d has no weights", stage);
        return -1;
    }
    trunk_stage *s = &t->stages[stage];
    if (s->winograd) {
        dc_winograd_bf16_pack(weights, (int)s->bias_count, s->in_channels, s->kernel, s->winograd_filters);
        memcpy(s->winograd_bias, bias, s->bias_count * sizeof(float));
        return 0;
    }
    TRUNK_CHECK(dnnl_memory_set_data_handle(s->user_weights, (void *)weights), "weights");
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_FROM, s->user_weights}, {DNNL_ARG_TO, s->weights},
                               {DNNL_ARG_SCRATCHPAD, s->weights_reorder_scratch}};
    TRUNK_CHECK(dc_execute(s->weights_reorder, t->stream, s->weights_reorder_scratch ? 3 : 2, args), "weights reorder");
    void *b = NULL;
    TRUNK_CHECK(dnnl_memory_get_data_handle(s->bias, &b), "bias");
    memcpy(b, bias, s->bias_count * sizeof(float));
    return 0;
}

static int forward_unlocked(dc_trunk *t, const float *src, float *dst, char *error, size_t error_size) {
    TRUNK_CHECK(dnnl_memory_set_data_handle(t->user_src, (void *)src), "source");
    TRUNK_CHECK(dnnl_memory_set_data_handle(t->user_dst, dst), "destination");
    dnnl_exec_arg_t in[3] = {{DNNL_ARG_FROM, t->user_src}, {DNNL_ARG_TO, t->src}, {DNNL_ARG_SCRATCHPAD, t->src_reorder_scratch}};
    TRUNK_CHECK(dc_execute(t->src_reorder, t->stream, t->src_reorder_scratch ? 3 : 2, in), "source reorder");
    dnnl_memory_t previous = t->src;
    for (int i = 0; i < t->count; i++) {
        trunk_stage *s = &t->stages[i];
        if (s->winograd) {
            void *in = NULL, *out = NULL;
            TRUNK_CHECK(dnnl_memory_get_data_handle(previous, &in), "activation");
            TRUNK_CHECK(dnnl_memory_get_data_handle(s->dst, &out), "activation");
            if (dc_winograd_bf16_forward(in, t->batch, s->height, s->width, s->in_channels, s->kernel, s->padding, s->winograd_filters,
                                         s->winograd_bias, (int)s->bias_count, s->relu, out) != 0)
                TRUNK_CHECK(dnnl_out_of_memory, "Winograd bf16 convolution");
            previous = s->dst;
            continue;
        }
        dnnl_exec_arg_t args[5];
        int n = 0;
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SRC, previous};
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_DST, s->dst};
        if (!s->pooling) {
            args[n++] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, s->weights};
            args[n++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, s->bias};
        }
        if (s->scratch) args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, s->scratch};
        TRUNK_CHECK(dc_execute(s->primitive, t->stream, n, args), s->pooling ? "max pooling" : "convolution");
        previous = s->dst;
    }
    dnnl_exec_arg_t out[3] = {{DNNL_ARG_FROM, previous}, {DNNL_ARG_TO, t->user_dst}, {DNNL_ARG_SCRATCHPAD, t->dst_reorder_scratch}};
    TRUNK_CHECK(dc_execute(t->dst_reorder, t->stream, t->dst_reorder_scratch ? 3 : 2, out), "destination reorder");
    return 0;
}

const char *dc_trunk_implementation(const dc_trunk *t, int stage) {
    if (stage < 0 || stage >= t->count) return "unknown";
    const trunk_stage *s = &t->stages[stage];
    return !s->winograd ? dc_implementation_of(s->pd) : s->kernel == 5 ? "winograd:4xf2x3-bf16" : "winograd:f2x3-bf16";
}

// The public calls, each under the one execution lock (convolution_internal.h).
dc_trunk *dc_trunk_create(int batch, int channels, int height, int width, const dc_trunk_stage *stages, int count,
                          int bf16, char *error, size_t error_size) {
    return DC_LOCKED(create_unlocked(batch, channels, height, width, stages, count, bf16, error, error_size));
}

void dc_trunk_destroy(dc_trunk *t) {
    DC_LOCKED_VOID(destroy_unlocked(t));
}

int dc_trunk_set_weights(dc_trunk *t, int stage, const float *weights, const float *bias, char *error,
                         size_t error_size) {
    return DC_LOCKED(set_weights_unlocked(t, stage, weights, bias, error, error_size));
}

int dc_trunk_forward(dc_trunk *t, const float *src, float *dst, char *error, size_t error_size) {
    return DC_LOCKED(forward_unlocked(t, src, dst, error, error_size));
}
