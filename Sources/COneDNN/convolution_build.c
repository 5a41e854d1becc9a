// Builds a convolution's three primitives (forward, backward-data, backward-weights) for its shape,
// with the memories that stage the caller's tensors into the layouts the primitives chose.
#include "convolution_internal.h"

#include <stdio.h>
#include <stdlib.h>

int dc_build(dc_convolution *c, char *error, size_t error_size) {
    const dc_convolution_shape *s = &c->shape;
    CHECK(dc_make_stream(&c->stream, &c->attributes), "stream and primitive attributes");
    dnnl_data_type_t compute = s->bf16 ? dnnl_bf16 : dnnl_f32;
    dnnl_memory_desc_t user_src, user_dst, user_weights, user_bias;
    dnnl_memory_desc_t any_src, any_dst, any_weights, any_diff_dst, any_diff_weights;
    dnnl_dims_t src_dims = {s->batch, s->in_channels, s->height, s->width};
    dnnl_dims_t dst_dims = {s->batch, s->out_channels, c->out_height, c->out_width};
    dnnl_dims_t weight_dims = {s->out_channels, s->in_channels, s->kernel, s->kernel};
    dnnl_dims_t bias_dims = {s->out_channels};
    dnnl_dims_t strides = {s->stride, s->stride};
    dnnl_dims_t pad_l = {s->padding, s->padding};
    // PyTorch's floor rounding of the output size, as the right/bottom padding oneDNN wants.
    dnnl_dims_t pad_r = {(c->out_height - 1) * s->stride + s->kernel - s->height - s->padding,
                         (c->out_width - 1) * s->stride + s->kernel - s->width - s->padding};
    CHECK(dc_channel_major(&user_src, s->batch, s->in_channels, s->height, s->width), "memory descriptor");
    CHECK(dc_channel_major(&user_dst, s->batch, s->out_channels, c->out_height, c->out_width), "memory descriptor");
    CHECK(dnnl_memory_desc_init_by_tag(&user_weights, 4, weight_dims, dnnl_f32, dnnl_oihw), "memory descriptor");
    CHECK(dnnl_memory_desc_init_by_tag(&user_bias, 1, bias_dims, dnnl_f32, dnnl_x), "memory descriptor");
    CHECK(dnnl_memory_desc_init_by_tag(&any_src, 4, src_dims, compute, dnnl_format_tag_any), "memory descriptor");
    CHECK(dnnl_memory_desc_init_by_tag(&any_weights, 4, weight_dims, compute, dnnl_format_tag_any), "memory descriptor");
    CHECK(dnnl_memory_desc_init_by_tag(&any_dst, 4, dst_dims, dnnl_f32, dnnl_format_tag_any), "memory descriptor");
    CHECK(dnnl_memory_desc_init_by_tag(&any_diff_dst, 4, dst_dims, compute, dnnl_format_tag_any), "memory descriptor");
    CHECK(dnnl_memory_desc_init_by_tag(&any_diff_weights, 4, weight_dims, dnnl_f32, dnnl_format_tag_any),
          "memory descriptor");

    dnnl_convolution_desc_t fd;
    CHECK(dnnl_convolution_forward_desc_init(&fd, s->training ? dnnl_forward_training : dnnl_forward_inference,
                                             dnnl_convolution_direct, &any_src, &any_weights, &user_bias, &any_dst,
                                             strides, pad_l, pad_r),
          "convolution forward descriptor");
    // The ReLU post-op belongs to the forward primitive alone, not to the reorders that share `attributes`.
    dnnl_primitive_attr_t forward_attributes = c->attributes;
    if (s->relu && !s->training) {
        dnnl_post_ops_t post_ops;
        CHECK(dnnl_primitive_attr_clone(&c->forward_attributes, c->attributes), "primitive attributes");
        CHECK(dnnl_post_ops_create(&post_ops), "post-ops");
        dnnl_status_t appended = dnnl_post_ops_append_eltwise(post_ops, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f);
        dnnl_status_t set = appended == dnnl_success ? dnnl_primitive_attr_set_post_ops(c->forward_attributes, post_ops) : appended;
        dnnl_post_ops_destroy(post_ops);
        CHECK(set, "ReLU post-op");
        forward_attributes = c->forward_attributes;
    }
    CHECK(dnnl_primitive_desc_create(&c->forward_pd, &fd, forward_attributes, dc_engine, NULL), "convolution forward");
    CHECK(dnnl_primitive_create(&c->forward, c->forward_pd), "convolution forward");
    CHECK(dc_scratch_memory(c, c->forward_pd, &c->forward_scratch), "convolution forward scratchpad");
    const dnnl_memory_desc_t *f_src = dnnl_primitive_desc_query_md(c->forward_pd, dnnl_query_src_md, 0);
    const dnnl_memory_desc_t *f_wei = dnnl_primitive_desc_query_md(c->forward_pd, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *f_dst = dnnl_primitive_desc_query_md(c->forward_pd, dnnl_query_dst_md, 0);
    if (dc_stage(c, &c->src, &user_src, f_src, 1, "convolution forward source reorder", error, error_size)) return -1;
    if (dc_stage(c, &c->weights, &user_weights, f_wei, 1, "convolution forward weights reorder", error, error_size)) return -1;
    if (dc_stage(c, &c->dst, &user_dst, f_dst, 0, "convolution forward destination reorder", error, error_size)) return -1;
    CHECK(dnnl_memory_create(&c->bias, &user_bias, dc_engine, DNNL_MEMORY_NONE), "convolution bias");
    if (!s->training) {
        CHECK(dc_attach_scratchpad(c), "convolution scratchpad");
        return 0;
    }

    dnnl_convolution_desc_t bd;
    dnnl_memory_desc_t any_diff_src;
    CHECK(dnnl_memory_desc_init_by_tag(&any_diff_src, 4, src_dims, dnnl_f32, dnnl_format_tag_any), "memory descriptor");
    CHECK(dnnl_convolution_backward_data_desc_init(&bd, dnnl_convolution_direct, &any_diff_src, &any_weights,
                                                   &any_diff_dst, strides, pad_l, pad_r),
          "convolution backward-data descriptor");
    CHECK(dnnl_primitive_desc_create(&c->backward_data_pd, &bd, c->attributes, dc_engine, c->forward_pd),
          "convolution backward-data");
    CHECK(dnnl_primitive_create(&c->backward_data, c->backward_data_pd), "convolution backward-data");
    CHECK(dc_scratch_memory(c, c->backward_data_pd, &c->backward_data_scratch), "convolution backward-data scratchpad");
    const dnnl_memory_desc_t *b_wei = dnnl_primitive_desc_query_md(c->backward_data_pd, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *b_ddst = dnnl_primitive_desc_query_md(c->backward_data_pd, dnnl_query_diff_dst_md, 0);
    const dnnl_memory_desc_t *b_dsrc = dnnl_primitive_desc_query_md(c->backward_data_pd, dnnl_query_diff_src_md, 0);
    if (dc_stage(c, &c->bd_weights, &user_weights, b_wei, 1, "convolution backward-data weights reorder", error, error_size)) return -1;
    if (dc_stage(c, &c->bd_diff_dst, &user_dst, b_ddst, 1, "convolution backward-data diff_dst reorder", error, error_size)) return -1;
    if (dc_stage(c, &c->bd_diff_src, &user_src, b_dsrc, 0, "convolution backward-data diff_src reorder", error, error_size)) return -1;

    dnnl_convolution_desc_t wd;
    // The source in the forward's layout: no second reorder, and for the first convolution (one or two
    // input channels, plain layout) no padding of the channels to the block size.
    CHECK(dnnl_convolution_backward_weights_desc_init(&wd, dnnl_convolution_direct, f_src, &any_diff_weights,
                                                      &user_bias, &any_diff_dst, strides, pad_l, pad_r),
          "convolution backward-weights descriptor");
    CHECK(dnnl_primitive_desc_create(&c->backward_weights_pd, &wd, c->attributes, dc_engine, c->forward_pd),
          "convolution backward-weights");
    CHECK(dnnl_primitive_create(&c->backward_weights, c->backward_weights_pd), "convolution backward-weights");
    CHECK(dc_scratch_memory(c, c->backward_weights_pd, &c->backward_weights_scratch),
          "convolution backward-weights scratchpad");
    const dnnl_memory_desc_t *w_src = dnnl_primitive_desc_query_md(c->backward_weights_pd, dnnl_query_src_md, 0);
    const dnnl_memory_desc_t *w_ddst = dnnl_primitive_desc_query_md(c->backward_weights_pd, dnnl_query_diff_dst_md, 0);
    const dnnl_memory_desc_t *w_dwei = dnnl_primitive_desc_query_md(c->backward_weights_pd, dnnl_query_diff_weights_md, 0);
    c->bw_src_from_forward = dnnl_memory_desc_equal(w_src, f_src);
    if (!c->bw_src_from_forward &&
        dc_stage(c, &c->bw_src, &user_src, w_src, 1, "convolution backward-weights source reorder", error, error_size))
        return -1;
    c->bw_diff_dst_from_bd = dnnl_memory_desc_equal(w_ddst, b_ddst);
    if (!c->bw_diff_dst_from_bd &&
        dc_stage(c, &c->bw_diff_dst, &user_dst, w_ddst, 1, "convolution backward-weights diff_dst reorder", error, error_size))
        return -1;
    // ∂W and ∂b are written whole by oneDNN; the layer accumulates, so they land in buffers of ours first.
    size_t weight_count = (size_t)s->out_channels * s->in_channels * s->kernel * s->kernel;
    c->diff_weights_buffer = malloc(weight_count * sizeof(float));
    c->diff_bias_buffer = malloc((size_t)s->out_channels * sizeof(float));
    if (!c->diff_weights_buffer || !c->diff_bias_buffer) {
        if (error) snprintf(error, error_size, "out of memory for convolution gradients");
        return -1;
    }
    if (dc_stage(c, &c->bw_diff_weights, &user_weights, w_dwei, 0, "convolution backward-weights diff_weights reorder",
              error, error_size))
        return -1;
    CHECK(dnnl_memory_create(&c->diff_bias, &user_bias, dc_engine, c->diff_bias_buffer), "convolution diff_bias");
    CHECK(dc_attach_scratchpad(c), "convolution scratchpad");
    return 0;
}
