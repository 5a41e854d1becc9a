// Convolution forward, backward-data and backward-weights over oneDNN 2.6's C API.
// See include/onednn_convolution.h for the contract.
#include "convolution_internal.h"

#include <dlfcn.h>
#if !__has_include(<oneapi/dnnl/dnnl.h>)
#error "oneDNN is not installed: apt-get install libdnnl-dev (Launch/setup.sh does)"
#endif
#include <oneapi/dnnl/dnnl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// One CPU dc_engine per process, made once whichever thread asks first; each convolution has its own
// stream, so convolutions on different threads (tests) never share one.
dnnl_engine_t dc_engine;
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;

// Every call into oneDNN's primitives runs under this lock. A rank's trainer calls from one thread,
// so it is never contended there; in a test process, where layers run on several threads at once,
// it keeps oneDNN's OpenMP teams from competing for the same two cores (and from sharing anything
// oneDNN keeps per process).
static pthread_mutex_t execution_lock = PTHREAD_MUTEX_INITIALIZER;

void dc_lock_execution(void) { pthread_mutex_lock(&execution_lock); }
void dc_unlock_execution(void) { pthread_mutex_unlock(&execution_lock); }

dnnl_status_t dc_execute(dnnl_primitive_t primitive, dnnl_stream_t stream, int count, const dnnl_exec_arg_t *args) {
    dnnl_status_t st = dnnl_primitive_execute(primitive, stream, count, args);
    return st == dnnl_success ? dnnl_stream_wait(stream) : st;
}

static void create_engine(void) {
    if (dnnl_engine_create(&dc_engine, dnnl_cpu, 0) != dnnl_success) dc_engine = NULL;
}

int dc_ensure_engine(void) {
    pthread_once(&engine_once, create_engine);
    return dc_engine ? 0 : -1;
}

static void destroy_unlocked(dc_convolution *c);

static dc_convolution *create_unlocked(const dc_convolution_shape *shape, char *error, size_t error_size) {
    if (dc_ensure_engine() != 0) {
        if (error) snprintf(error, error_size, "oneDNN: no CPU dc_engine");
        return NULL;
    }
    dc_convolution *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->shape = *shape;
    c->out_height = (shape->height + 2 * shape->padding - shape->kernel) / shape->stride + 1;
    c->out_width = (shape->width + 2 * shape->padding - shape->kernel) / shape->stride + 1;
    if (dc_build(c, error, error_size) != 0) {
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
    dc_unstage(&c->src); dc_unstage(&c->weights); dc_unstage(&c->dst);
    dc_unstage(&c->bd_weights); dc_unstage(&c->bd_diff_dst); dc_unstage(&c->bd_diff_src);
    dc_unstage(&c->bw_src); dc_unstage(&c->bw_diff_dst); dc_unstage(&c->bw_diff_weights);
    if (c->bias) dnnl_memory_destroy(c->bias);
    if (c->stream) dnnl_stream_destroy(c->stream);
    if (c->diff_bias) dnnl_memory_destroy(c->diff_bias);
    if (c->forward_scratch) dnnl_memory_destroy(c->forward_scratch);
    if (c->backward_data_scratch) dnnl_memory_destroy(c->backward_data_scratch);
    if (c->backward_weights_scratch) dnnl_memory_destroy(c->backward_weights_scratch);
    if (c->attributes) dnnl_primitive_attr_destroy(c->attributes);
    if (c->forward_attributes) dnnl_primitive_attr_destroy(c->forward_attributes);
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

const char *dc_implementation_of(const_dnnl_primitive_desc_t pd) {
    const char *name = NULL;
    if (!pd || dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name) != dnnl_success || !name)
        return "unknown";
    return name;
}

const char *dc_convolution_implementation(const dc_convolution *c) { return dc_implementation_of(c->forward_pd); }

const char *dc_convolution_backward_weights_implementation(const dc_convolution *c) {
    return c->shape.training ? dc_implementation_of(c->backward_weights_pd) : "none";
}

static int forward_unlocked(dc_convolution *c, const float *src, const float *weights, const float *bias, float *dst,
                           char *error, size_t error_size) {
    CHECK(dnnl_memory_set_data_handle(c->src.user, (void *)src), "convolution forward");
    CHECK(dnnl_memory_set_data_handle(c->weights.user, (void *)weights), "convolution forward");
    CHECK(dnnl_memory_set_data_handle(c->dst.user, dst), "convolution forward");
    CHECK(dnnl_memory_set_data_handle(c->bias, (void *)bias), "convolution forward");
    CHECK(dc_run_reorder(c->stream, &c->src, 1), "convolution forward source reorder");
    CHECK(dc_run_reorder(c->stream, &c->weights, 1), "convolution forward weights reorder");
    dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, dc_primitive_side(&c->src)},
                               {DNNL_ARG_WEIGHTS, dc_primitive_side(&c->weights)},
                               {DNNL_ARG_BIAS, c->bias},
                               {DNNL_ARG_DST, dc_primitive_side(&c->dst)},
                               {DNNL_ARG_SCRATCHPAD, c->forward_scratch}};
    CHECK(dnnl_primitive_execute(c->forward, c->stream, c->forward_scratch ? 5 : 4, args), "convolution forward");
    CHECK(dc_run_reorder(c->stream, &c->dst, 0), "convolution forward destination reorder");
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
        CHECK(dc_run_reorder(c->stream, &c->bd_diff_dst, 1), "convolution backward diff_dst reorder");
    }
    if (diff_src) {
        CHECK(dnnl_memory_set_data_handle(c->bd_weights.user, (void *)weights), "convolution backward-data");
        CHECK(dnnl_memory_set_data_handle(c->bd_diff_src.user, diff_src), "convolution backward-data");
        CHECK(dc_run_reorder(c->stream, &c->bd_weights, 1), "convolution backward-data weights reorder");
        dnnl_exec_arg_t args[4] = {{DNNL_ARG_DIFF_DST, dc_primitive_side(&c->bd_diff_dst)},
                                   {DNNL_ARG_WEIGHTS, dc_primitive_side(&c->bd_weights)},
                                   {DNNL_ARG_DIFF_SRC, dc_primitive_side(&c->bd_diff_src)},
                                   {DNNL_ARG_SCRATCHPAD, c->backward_data_scratch}};
        CHECK(dnnl_primitive_execute(c->backward_data, c->stream, c->backward_data_scratch ? 4 : 3, args),
              "convolution backward-data");
        CHECK(dc_run_reorder(c->stream, &c->bd_diff_src, 0), "convolution backward-data diff_src reorder");
    }
    if (diff_weights || diff_bias) {
        dnnl_memory_t src_memory;
        if (c->bw_src_from_forward) {
            // The forward's staged copy still holds this batch's source (or, unstaged, its handle still
            // points at the caller's source).
            src_memory = dc_primitive_side(&c->src);
        } else {
            CHECK(dnnl_memory_set_data_handle(c->bw_src.user, (void *)c->last_src), "convolution backward-weights");
            CHECK(dc_run_reorder(c->stream, &c->bw_src, 1), "convolution backward-weights source reorder");
            src_memory = dc_primitive_side(&c->bw_src);
        }
        dnnl_memory_t diff_dst_memory;
        if (c->bw_diff_dst_from_bd) {
            diff_dst_memory = dc_primitive_side(&c->bd_diff_dst);
        } else {
            CHECK(dnnl_memory_set_data_handle(c->bw_diff_dst.user, (void *)diff_dst), "convolution backward-weights");
            CHECK(dc_run_reorder(c->stream, &c->bw_diff_dst, 1), "convolution backward-weights diff_dst reorder");
            diff_dst_memory = dc_primitive_side(&c->bw_diff_dst);
        }
        CHECK(dnnl_memory_set_data_handle(c->bw_diff_weights.user, c->diff_weights_buffer), "convolution backward-weights");
        dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, src_memory},
                                   {DNNL_ARG_DIFF_DST, diff_dst_memory},
                                   {DNNL_ARG_DIFF_WEIGHTS, dc_primitive_side(&c->bw_diff_weights)},
                                   {DNNL_ARG_DIFF_BIAS, c->diff_bias},
                                   {DNNL_ARG_SCRATCHPAD, c->backward_weights_scratch}};
        CHECK(dnnl_primitive_execute(c->backward_weights, c->stream, c->backward_weights_scratch ? 5 : 4, args),
              "convolution backward-weights");
        CHECK(dc_run_reorder(c->stream, &c->bw_diff_weights, 0), "convolution backward-weights diff_weights reorder");
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

// The backward of a forward that ran elsewhere: stages `src` as the forward would have, then runs the backward.
static int backward_with_source_unlocked(dc_convolution *c, const float *src, const float *diff_dst, const float *weights,
                                         float *diff_src, float *diff_weights, float *diff_bias, char *error,
                                         size_t error_size) {
    if (!c->shape.training) {
        if (error) snprintf(error, error_size, "oneDNN convolution backward on an inference-only primitive");
        return -1;
    }
    if (diff_weights || diff_bias) {
        CHECK(dnnl_memory_set_data_handle(c->src.user, (void *)src), "convolution backward-weights");
        if (c->bw_src_from_forward) CHECK(dc_run_reorder(c->stream, &c->src, 1), "convolution backward-weights source reorder");
    }
    c->last_src = src;
    return backward_unlocked(c, diff_dst, weights, diff_src, diff_weights, diff_bias, error, error_size);
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

int dc_convolution_backward_with_source(dc_convolution *c, const float *src, const float *diff_dst, const float *weights,
                                        float *diff_src, float *diff_weights, float *diff_bias, char *error,
                                        size_t error_size) {
    pthread_mutex_lock(&execution_lock);
    int status = backward_with_source_unlocked(c, src, diff_dst, weights, diff_src, diff_weights, diff_bias, error, error_size);
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
