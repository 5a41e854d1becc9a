// Convolution forward, backward-data and backward-weights over oneDNN 2.6's C API.
// See include/onednn_convolution.h for the contract.
#include "onednn_convolution.h"

#include <dlfcn.h>
#if !__has_include(<oneapi/dnnl/dnnl.h>)
#error "oneDNN is not installed: apt-get install libdnnl-dev (Launch/setup.sh does)"
#endif
#include <oneapi/dnnl/dnnl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// One CPU engine per process, made once whichever thread asks first; each convolution has its own
// stream, so convolutions on different threads (tests) never share one.
static dnnl_engine_t engine;
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;

// Every call into oneDNN's primitives runs under this lock. A rank's trainer calls from one thread,
// so it is never contended there; in a test process, where layers run on several threads at once,
// it keeps oneDNN's OpenMP teams from competing for the same two cores (and from sharing anything
// oneDNN keeps per process).
static pthread_mutex_t execution_lock = PTHREAD_MUTEX_INITIALIZER;

static void create_engine(void) {
    if (dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success) engine = NULL;
}

static int ensure_engine(void) {
    pthread_once(&engine_once, create_engine);
    return engine ? 0 : -1;
}

// Data in a primitive's layout: either the caller's own buffer (layouts equal) or an owned
// buffer with a reorder between it and the caller's.
typedef struct {
    dnnl_memory_t user;      // wraps the caller's pointer (handle set per call)
    dnnl_memory_t staged;    // owned, in the primitive's layout; NULL when the layouts match
    dnnl_primitive_t reorder; // user → staged (inputs) or staged → user (outputs)
    dnnl_memory_t scratch;   // the reorder's scratchpad in the convolution's buffer; NULL if it needs none
} staged_memory;

struct dc_convolution {
    dc_convolution_shape shape;
    dnnl_stream_t stream;
    int out_height, out_width;
    dnnl_primitive_desc_t forward_pd, backward_data_pd, backward_weights_pd;
    dnnl_primitive_t forward, backward_data, backward_weights;
    // forward
    staged_memory src, weights, dst;
    dnnl_memory_t bias;
    // backward data
    staged_memory bd_weights, bd_diff_dst, bd_diff_src;
    // backward weights: src reuses the forward's staged copy when the layouts agree
    staged_memory bw_src, bw_diff_dst, bw_diff_weights;
    int bw_src_from_forward, bw_diff_dst_from_bd;
    dnnl_memory_t diff_bias;
    float *diff_weights_buffer, *diff_bias_buffer;
    const float *last_src;
    // Scratchpads are the user's (dnnl_scratchpad_mode_user), not the library's: in library mode a
    // scratchpad is shared by every primitive of a thread, and a primitive must run on the thread that
    // created it. Here each convolution owns one buffer, as large as the largest its primitives ask for
    // (they run one after another), so a layer may run on any thread and beside any other layer.
    dnnl_primitive_attr_t attributes;
    dnnl_memory_t forward_scratch, backward_data_scratch, backward_weights_scratch;
    void *scratchpad;
    size_t scratchpad_size;
};

static void describe(const dc_convolution_shape *s, char *out, size_t size) {
    snprintf(out, size, "(%d, %d, %d, %d) ∗ (%d, %d, %d, %d) stride %d padding %d%s", s->batch, s->in_channels,
             s->height, s->width, s->out_channels, s->in_channels, s->kernel, s->kernel, s->stride, s->padding,
             s->bf16 ? " bf16" : "");
}

static const char *status_name(dnnl_status_t status) {
    switch (status) {
    case dnnl_out_of_memory: return "out of memory";
    case dnnl_invalid_arguments: return "invalid arguments";
    case dnnl_unimplemented: return "unimplemented";
    case dnnl_runtime_error: return "runtime error";
    default: return "error";
    }
}

#define CHECK(call, what)                                                                        \
    do {                                                                                         \
        dnnl_status_t status_ = (call);                                                          \
        if (status_ != dnnl_success) {                                                           \
            char shape_[160];                                                                    \
            describe(&c->shape, shape_, sizeof shape_);                                          \
            if (error) snprintf(error, error_size, "oneDNN %s: %s (status %d) for %s", what,     \
                                status_name(status_), (int)status_, shape_);                     \
            return -1;                                                                           \
        }                                                                                        \
    } while (0)

// (C, N, H, W) in memory for the logical (N, C, H, W) oneDNN expects.
static dnnl_status_t channel_major(dnnl_memory_desc_t *md, int n, int ch, int h, int w) {
    dnnl_dims_t dims = {n, ch, h, w};
    dnnl_dims_t strides = {(dnnl_dim_t)h * w, (dnnl_dim_t)n * h * w, w, 1};
    return dnnl_memory_desc_init_by_strides(md, 4, dims, dnnl_f32, strides);
}

// A memory object for the scratchpad `pd` asks for (NULL when it asks for none), pointed at the
// convolution's buffer once every primitive is built; the buffer grows to the largest request.
static dnnl_status_t scratch_memory(dc_convolution *c, const_dnnl_primitive_desc_t pd, dnnl_memory_t *out) {
    *out = NULL;
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t size = md ? dnnl_memory_desc_get_size(md) : 0;
    if (size == 0) return dnnl_success;
    if (size > c->scratchpad_size) c->scratchpad_size = size;
    return dnnl_memory_create(out, md, engine, DNNL_MEMORY_NONE);
}

static int stage(dc_convolution *c, staged_memory *m, const dnnl_memory_desc_t *user_md,
                 const dnnl_memory_desc_t *primitive_md, int is_input, const char *what, char *error,
                 size_t error_size) {
    CHECK(dnnl_memory_create(&m->user, user_md, engine, DNNL_MEMORY_NONE), what);
    if (dnnl_memory_desc_equal(user_md, primitive_md)) return 0;
    CHECK(dnnl_memory_create(&m->staged, primitive_md, engine, DNNL_MEMORY_ALLOCATE), what);
    dnnl_primitive_desc_t pd;
    if (is_input)
        CHECK(dnnl_reorder_primitive_desc_create(&pd, user_md, engine, primitive_md, engine, c->attributes), what);
    else
        CHECK(dnnl_reorder_primitive_desc_create(&pd, primitive_md, engine, user_md, engine, c->attributes), what);
    dnnl_status_t st = dnnl_primitive_create(&m->reorder, pd);
    if (st == dnnl_success) st = scratch_memory(c, pd, &m->scratch);
    dnnl_primitive_desc_destroy(pd);
    CHECK(st, what);
    return 0;
}

static void unstage(staged_memory *m) {
    if (m->scratch) dnnl_memory_destroy(m->scratch);
    if (m->reorder) dnnl_primitive_destroy(m->reorder);
    if (m->staged) dnnl_memory_destroy(m->staged);
    if (m->user) dnnl_memory_destroy(m->user);
    memset(m, 0, sizeof *m);
}

static dnnl_memory_t primitive_side(const staged_memory *m) { return m->staged ? m->staged : m->user; }

static dnnl_status_t run_reorder(dnnl_stream_t stream, const staged_memory *m, int is_input) {
    if (!m->reorder) return dnnl_success;
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_FROM, is_input ? m->user : m->staged},
                               {DNNL_ARG_TO, is_input ? m->staged : m->user},
                               {DNNL_ARG_SCRATCHPAD, m->scratch}};
    return dnnl_primitive_execute(m->reorder, stream, m->scratch ? 3 : 2, args);
}

// Points every scratchpad memory of the convolution at its one buffer (64-byte aligned).
static dnnl_status_t attach_scratchpad(dc_convolution *c) {
    if (c->scratchpad_size == 0) return dnnl_success;
    size_t size = (c->scratchpad_size + 63) / 64 * 64;
    c->scratchpad = aligned_alloc(64, size);
    if (!c->scratchpad) return dnnl_out_of_memory;
    dnnl_memory_t all[] = {c->forward_scratch, c->backward_data_scratch, c->backward_weights_scratch,
                           c->src.scratch, c->weights.scratch, c->dst.scratch,
                           c->bd_weights.scratch, c->bd_diff_dst.scratch, c->bd_diff_src.scratch,
                           c->bw_src.scratch, c->bw_diff_dst.scratch, c->bw_diff_weights.scratch};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (!all[i]) continue;
        dnnl_status_t st = dnnl_memory_set_data_handle(all[i], c->scratchpad);
        if (st != dnnl_success) return st;
    }
    return dnnl_success;
}

static int build(dc_convolution *c, char *error, size_t error_size) {
    const dc_convolution_shape *s = &c->shape;
    CHECK(dnnl_stream_create(&c->stream, engine, dnnl_stream_default_flags), "stream");
    CHECK(dnnl_primitive_attr_create(&c->attributes), "primitive attributes");
    CHECK(dnnl_primitive_attr_set_scratchpad_mode(c->attributes, dnnl_scratchpad_mode_user), "primitive attributes");
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
    CHECK(channel_major(&user_src, s->batch, s->in_channels, s->height, s->width), "memory descriptor");
    CHECK(channel_major(&user_dst, s->batch, s->out_channels, c->out_height, c->out_width), "memory descriptor");
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
    CHECK(dnnl_primitive_desc_create(&c->forward_pd, &fd, c->attributes, engine, NULL), "convolution forward");
    CHECK(dnnl_primitive_create(&c->forward, c->forward_pd), "convolution forward");
    CHECK(scratch_memory(c, c->forward_pd, &c->forward_scratch), "convolution forward scratchpad");
    const dnnl_memory_desc_t *f_src = dnnl_primitive_desc_query_md(c->forward_pd, dnnl_query_src_md, 0);
    const dnnl_memory_desc_t *f_wei = dnnl_primitive_desc_query_md(c->forward_pd, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *f_dst = dnnl_primitive_desc_query_md(c->forward_pd, dnnl_query_dst_md, 0);
    if (stage(c, &c->src, &user_src, f_src, 1, "convolution forward source reorder", error, error_size)) return -1;
    if (stage(c, &c->weights, &user_weights, f_wei, 1, "convolution forward weights reorder", error, error_size)) return -1;
    if (stage(c, &c->dst, &user_dst, f_dst, 0, "convolution forward destination reorder", error, error_size)) return -1;
    CHECK(dnnl_memory_create(&c->bias, &user_bias, engine, DNNL_MEMORY_NONE), "convolution bias");
    if (!s->training) {
        CHECK(attach_scratchpad(c), "convolution scratchpad");
        return 0;
    }

    dnnl_convolution_desc_t bd;
    dnnl_memory_desc_t any_diff_src;
    CHECK(dnnl_memory_desc_init_by_tag(&any_diff_src, 4, src_dims, dnnl_f32, dnnl_format_tag_any), "memory descriptor");
    CHECK(dnnl_convolution_backward_data_desc_init(&bd, dnnl_convolution_direct, &any_diff_src, &any_weights,
                                                   &any_diff_dst, strides, pad_l, pad_r),
          "convolution backward-data descriptor");
    CHECK(dnnl_primitive_desc_create(&c->backward_data_pd, &bd, c->attributes, engine, c->forward_pd),
          "convolution backward-data");
    CHECK(dnnl_primitive_create(&c->backward_data, c->backward_data_pd), "convolution backward-data");
    CHECK(scratch_memory(c, c->backward_data_pd, &c->backward_data_scratch), "convolution backward-data scratchpad");
    const dnnl_memory_desc_t *b_wei = dnnl_primitive_desc_query_md(c->backward_data_pd, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *b_ddst = dnnl_primitive_desc_query_md(c->backward_data_pd, dnnl_query_diff_dst_md, 0);
    const dnnl_memory_desc_t *b_dsrc = dnnl_primitive_desc_query_md(c->backward_data_pd, dnnl_query_diff_src_md, 0);
    if (stage(c, &c->bd_weights, &user_weights, b_wei, 1, "convolution backward-data weights reorder", error, error_size)) return -1;
    if (stage(c, &c->bd_diff_dst, &user_dst, b_ddst, 1, "convolution backward-data diff_dst reorder", error, error_size)) return -1;
    if (stage(c, &c->bd_diff_src, &user_src, b_dsrc, 0, "convolution backward-data diff_src reorder", error, error_size)) return -1;

    dnnl_convolution_desc_t wd;
    // The source in the forward's layout: no second reorder, and for the first convolution (one or two
    // input channels, plain layout) no padding of the channels to the block size.
    CHECK(dnnl_convolution_backward_weights_desc_init(&wd, dnnl_convolution_direct, f_src, &any_diff_weights,
                                                      &user_bias, &any_diff_dst, strides, pad_l, pad_r),
          "convolution backward-weights descriptor");
    CHECK(dnnl_primitive_desc_create(&c->backward_weights_pd, &wd, c->attributes, engine, c->forward_pd),
          "convolution backward-weights");
    CHECK(dnnl_primitive_create(&c->backward_weights, c->backward_weights_pd), "convolution backward-weights");
    CHECK(scratch_memory(c, c->backward_weights_pd, &c->backward_weights_scratch),
          "convolution backward-weights scratchpad");
    const dnnl_memory_desc_t *w_src = dnnl_primitive_desc_query_md(c->backward_weights_pd, dnnl_query_src_md, 0);
    const dnnl_memory_desc_t *w_ddst = dnnl_primitive_desc_query_md(c->backward_weights_pd, dnnl_query_diff_dst_md, 0);
    const dnnl_memory_desc_t *w_dwei = dnnl_primitive_desc_query_md(c->backward_weights_pd, dnnl_query_diff_weights_md, 0);
    c->bw_src_from_forward = dnnl_memory_desc_equal(w_src, f_src);
    if (!c->bw_src_from_forward &&
        stage(c, &c->bw_src, &user_src, w_src, 1, "convolution backward-weights source reorder", error, error_size))
        return -1;
    c->bw_diff_dst_from_bd = dnnl_memory_desc_equal(w_ddst, b_ddst);
    if (!c->bw_diff_dst_from_bd &&
        stage(c, &c->bw_diff_dst, &user_dst, w_ddst, 1, "convolution backward-weights diff_dst reorder", error, error_size))
        return -1;
    // ∂W and ∂b are written whole by oneDNN; the layer accumulates, so they land in buffers of ours first.
    size_t weight_count = (size_t)s->out_channels * s->in_channels * s->kernel * s->kernel;
    c->diff_weights_buffer = malloc(weight_count * sizeof(float));
    c->diff_bias_buffer = malloc((size_t)s->out_channels * sizeof(float));
    if (!c->diff_weights_buffer || !c->diff_bias_buffer) {
        if (error) snprintf(error, error_size, "out of memory for convolution gradients");
        return -1;
    }
    if (stage(c, &c->bw_diff_weights, &user_weights, w_dwei, 0, "convolution backward-weights diff_weights reorder",
              error, error_size))
        return -1;
    CHECK(dnnl_memory_create(&c->diff_bias, &user_bias, engine, c->diff_bias_buffer), "convolution diff_bias");
    CHECK(attach_scratchpad(c), "convolution scratchpad");
    return 0;
}

static void destroy_unlocked(dc_convolution *c);

static dc_convolution *create_unlocked(const dc_convolution_shape *shape, char *error, size_t error_size) {
    if (ensure_engine() != 0) {
        if (error) snprintf(error, error_size, "oneDNN: no CPU engine");
        return NULL;
    }
    dc_convolution *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->shape = *shape;
    c->out_height = (shape->height + 2 * shape->padding - shape->kernel) / shape->stride + 1;
    c->out_width = (shape->width + 2 * shape->padding - shape->kernel) / shape->stride + 1;
    if (build(c, error, error_size) != 0) {
        destroy_unlocked(c);
        return NULL;
    }
    return c;
}

static void destroy_unlocked(dc_convolution *c) {
    if (!c) return;
    if (c->forward) dnnl_primitive_destroy(c->forward);
    if (c->backward_data) dnnl_primitive_destroy(c->backward_data);
    if (c->backward_weights) dnnl_primitive_destroy(c->backward_weights);
    if (c->forward_pd) dnnl_primitive_desc_destroy(c->forward_pd);
    if (c->backward_data_pd) dnnl_primitive_desc_destroy(c->backward_data_pd);
    if (c->backward_weights_pd) dnnl_primitive_desc_destroy(c->backward_weights_pd);
    unstage(&c->src); unstage(&c->weights); unstage(&c->dst);
    unstage(&c->bd_weights); unstage(&c->bd_diff_dst); unstage(&c->bd_diff_src);
    unstage(&c->bw_src); unstage(&c->bw_diff_dst); unstage(&c->bw_diff_weights);
    if (c->bias) dnnl_memory_destroy(c->bias);
    if (c->stream) dnnl_stream_destroy(c->stream);
    if (c->diff_bias) dnnl_memory_destroy(c->diff_bias);
    if (c->forward_scratch) dnnl_memory_destroy(c->forward_scratch);
    if (c->backward_data_scratch) dnnl_memory_destroy(c->backward_data_scratch);
    if (c->backward_weights_scratch) dnnl_memory_destroy(c->backward_weights_scratch);
    if (c->attributes) dnnl_primitive_attr_destroy(c->attributes);
    free(c->scratchpad);
    free(c->diff_weights_buffer);
    free(c->diff_bias_buffer);
    free(c);
}

void dc_convolution_destroy(dc_convolution *c) {
    pthread_mutex_lock(&execution_lock);
    destroy_unlocked(c);
    pthread_mutex_unlock(&execution_lock);
}

const char *dc_convolution_implementation(const dc_convolution *c) {
    const char *name = NULL;
    if (dnnl_primitive_desc_query(c->forward_pd, dnnl_query_impl_info_str, 0, &name) != dnnl_success || !name)
        return "unknown";
    return name;
}

static int forward_unlocked(dc_convolution *c, const float *src, const float *weights, const float *bias, float *dst,
                           char *error, size_t error_size) {
    CHECK(dnnl_memory_set_data_handle(c->src.user, (void *)src), "convolution forward");
    CHECK(dnnl_memory_set_data_handle(c->weights.user, (void *)weights), "convolution forward");
    CHECK(dnnl_memory_set_data_handle(c->dst.user, dst), "convolution forward");
    CHECK(dnnl_memory_set_data_handle(c->bias, (void *)bias), "convolution forward");
    CHECK(run_reorder(c->stream, &c->src, 1), "convolution forward source reorder");
    CHECK(run_reorder(c->stream, &c->weights, 1), "convolution forward weights reorder");
    dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, primitive_side(&c->src)},
                               {DNNL_ARG_WEIGHTS, primitive_side(&c->weights)},
                               {DNNL_ARG_BIAS, c->bias},
                               {DNNL_ARG_DST, primitive_side(&c->dst)},
                               {DNNL_ARG_SCRATCHPAD, c->forward_scratch}};
    CHECK(dnnl_primitive_execute(c->forward, c->stream, c->forward_scratch ? 5 : 4, args), "convolution forward");
    CHECK(run_reorder(c->stream, &c->dst, 0), "convolution forward destination reorder");
    CHECK(dnnl_stream_wait(c->stream), "convolution forward");
    c->last_src = src;
    return 0;
}

static int backward_unlocked(dc_convolution *c, const float *diff_dst, const float *weights, float *diff_src,
                            float *diff_weights, float *diff_bias, char *error, size_t error_size) {
    if (!c->shape.training) {
        if (error) snprintf(error, error_size, "oneDNN convolution backward on an inference-only primitive");
        return -1;
    }
    // diff_dst in backward-data's layout: needed for the input gradient, and by backward-weights when
    // the two layouts agree (the first convolution, without an input gradient, skips it).
    if (diff_src || ((diff_weights || diff_bias) && c->bw_diff_dst_from_bd)) {
        CHECK(dnnl_memory_set_data_handle(c->bd_diff_dst.user, (void *)diff_dst), "convolution backward");
        CHECK(run_reorder(c->stream, &c->bd_diff_dst, 1), "convolution backward diff_dst reorder");
    }
    if (diff_src) {
        CHECK(dnnl_memory_set_data_handle(c->bd_weights.user, (void *)weights), "convolution backward-data");
        CHECK(dnnl_memory_set_data_handle(c->bd_diff_src.user, diff_src), "convolution backward-data");
        CHECK(run_reorder(c->stream, &c->bd_weights, 1), "convolution backward-data weights reorder");
        dnnl_exec_arg_t args[4] = {{DNNL_ARG_DIFF_DST, primitive_side(&c->bd_diff_dst)},
                                   {DNNL_ARG_WEIGHTS, primitive_side(&c->bd_weights)},
                                   {DNNL_ARG_DIFF_SRC, primitive_side(&c->bd_diff_src)},
                                   {DNNL_ARG_SCRATCHPAD, c->backward_data_scratch}};
        CHECK(dnnl_primitive_execute(c->backward_data, c->stream, c->backward_data_scratch ? 4 : 3, args),
              "convolution backward-data");
        CHECK(run_reorder(c->stream, &c->bd_diff_src, 0), "convolution backward-data diff_src reorder");
    }
    if (diff_weights || diff_bias) {
        dnnl_memory_t src_memory;
        if (c->bw_src_from_forward) {
            // The forward's staged copy still holds this batch's source (or, unstaged, its handle still
            // points at the caller's source).
            src_memory = primitive_side(&c->src);
        } else {
            CHECK(dnnl_memory_set_data_handle(c->bw_src.user, (void *)c->last_src), "convolution backward-weights");
            CHECK(run_reorder(c->stream, &c->bw_src, 1), "convolution backward-weights source reorder");
            src_memory = primitive_side(&c->bw_src);
        }
        dnnl_memory_t diff_dst_memory;
        if (c->bw_diff_dst_from_bd) {
            diff_dst_memory = primitive_side(&c->bd_diff_dst);
        } else {
            CHECK(dnnl_memory_set_data_handle(c->bw_diff_dst.user, (void *)diff_dst), "convolution backward-weights");
            CHECK(run_reorder(c->stream, &c->bw_diff_dst, 1), "convolution backward-weights diff_dst reorder");
            diff_dst_memory = primitive_side(&c->bw_diff_dst);
        }
        CHECK(dnnl_memory_set_data_handle(c->bw_diff_weights.user, c->diff_weights_buffer), "convolution backward-weights");
        dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, src_memory},
                                   {DNNL_ARG_DIFF_DST, diff_dst_memory},
                                   {DNNL_ARG_DIFF_WEIGHTS, primitive_side(&c->bw_diff_weights)},
                                   {DNNL_ARG_DIFF_BIAS, c->diff_bias},
                                   {DNNL_ARG_SCRATCHPAD, c->backward_weights_scratch}};
        CHECK(dnnl_primitive_execute(c->backward_weights, c->stream, c->backward_weights_scratch ? 5 : 4, args),
              "convolution backward-weights");
        CHECK(run_reorder(c->stream, &c->bw_diff_weights, 0), "convolution backward-weights diff_weights reorder");
    }
    CHECK(dnnl_stream_wait(c->stream), "convolution backward");
    const dc_convolution_shape *s = &c->shape;
    if (diff_weights) {
        size_t n = (size_t)s->out_channels * s->in_channels * s->kernel * s->kernel;
        for (size_t i = 0; i < n; i++) diff_weights[i] += c->diff_weights_buffer[i];
    }
    if (diff_bias)
        for (int i = 0; i < s->out_channels; i++) diff_bias[i] += c->diff_bias_buffer[i];
    return 0;
}

dc_convolution *dc_convolution_create(const dc_convolution_shape *shape, char *error, size_t error_size) {
    pthread_mutex_lock(&execution_lock);
    dc_convolution *c = create_unlocked(shape, error, error_size);
    pthread_mutex_unlock(&execution_lock);
    return c;
}

int dc_convolution_forward(dc_convolution *c, const float *src, const float *weights, const float *bias, float *dst,
                           char *error, size_t error_size) {
    pthread_mutex_lock(&execution_lock);
    int status = forward_unlocked(c, src, weights, bias, dst, error, error_size);
    pthread_mutex_unlock(&execution_lock);
    return status;
}

int dc_convolution_backward(dc_convolution *c, const float *diff_dst, const float *weights, float *diff_src,
                            float *diff_weights, float *diff_bias, char *error, size_t error_size) {
    pthread_mutex_lock(&execution_lock);
    int status = backward_unlocked(c, diff_dst, weights, diff_src, diff_weights, diff_bias, error, error_size);
    pthread_mutex_unlock(&execution_lock);
    return status;
}

void dc_onednn_set_threads(int threads) {
    // libgomp comes in with libdnnl; its omp_set_num_threads is found without linking it ourselves.
    void (*set)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "omp_set_num_threads");
    if (set) set(threads < 1 ? 1 : threads);
}

const char *dc_onednn_isa(void) {
    switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "other";
    }
}

int dc_onednn_has_bf16(void) {
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    return isa == dnnl_cpu_isa_avx512_core_bf16 || isa == dnnl_cpu_isa_avx512_core_amx;
}

const char *dc_onednn_version(void) {
    static char text[32];
    const dnnl_version_t *v = dnnl_version();
    snprintf(text, sizeof text, "%d.%d.%d", v->major, v->minor, v->patch);
    return text;
}
