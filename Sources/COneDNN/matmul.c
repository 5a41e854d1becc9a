// Matrix products on oneDNN for the Linear layers, bf16 or fp32 (include/onednn_matmul.h).
#include "onednn_matmul.h"
#include "convolution_internal.h"

#include <stdio.h>
#include <stdlib.h>

struct dc_matmul {
    dc_matmul_shape shape;
    dnnl_stream_t stream;
    dnnl_primitive_attr_t attributes, matmul_attributes;
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t matmul, a_reorder, b_reorder;
    dnnl_memory_t user_a, user_b, user_c, user_bias, a, b; // a, b: the converted copies (none where A or B is used as given)
    dnnl_memory_t scratch, a_scratch, b_scratch;
    dnnl_memory_t borrowed_b; // wraps another product's converted B (dc_matmul_run_reusing_b), made on first use
    void *scratchpad;
    size_t scratchpad_size;
};

#define MATMUL_CHECK(call, what)                                                                            \
    do {                                                                                                    \
        dnnl_status_t status_ = (call);                                                                     \
        if (status_ != dnnl_success) {                                                                      \
            if (error) snprintf(error, error_size, "oneDNN %s matmul %s: %s (status %d) for %d × %d × %d", \
                                x->shape.bf16 ? "bf16" : "fp32", what, dc_status_name(status_), (int)status_,      \
                                x->shape.m, x->shape.k, x->shape.n);                                                \
            return -1;                                                                                      \
        }                                                                                                   \
    } while (0)

static int build(dc_matmul *x, char *error, size_t error_size) {
    const dc_matmul_shape *s = &x->shape;
    MATMUL_CHECK(dc_make_stream(&x->stream, &x->attributes), "stream and attributes");
    MATMUL_CHECK(dnnl_primitive_attr_clone(&x->matmul_attributes, x->attributes), "attributes");
    if (s->accumulate) {
        dnnl_post_ops_t post_ops;
        MATMUL_CHECK(dnnl_post_ops_create(&post_ops), "post-ops");
        dnnl_status_t appended = dnnl_post_ops_append_sum(post_ops, 1.0f);
        dnnl_status_t set = appended == dnnl_success ? dnnl_primitive_attr_set_post_ops(x->matmul_attributes, post_ops) : appended;
        dnnl_post_ops_destroy(post_ops);
        MATMUL_CHECK(set, "sum post-op");
    }
    dnnl_dims_t a_dims = {s->m, s->k}, b_dims = {s->k, s->n}, c_dims = {s->m, s->n}, bias_dims = {1, s->n};
    dnnl_dims_t a_strides = {s->a_row_stride, s->a_column_stride}, b_strides = {s->b_row_stride, s->b_column_stride};
    const dnnl_data_type_t type = s->bf16 ? dnnl_bf16 : dnnl_f32;
    dnnl_memory_desc_t user_a, user_b, c, bias, a, b_wanted;
    MATMUL_CHECK(dnnl_memory_desc_init_by_strides(&user_a, 2, a_dims, dnnl_f32, a_strides), "memory descriptor");
    MATMUL_CHECK(dnnl_memory_desc_init_by_strides(&user_b, 2, b_dims, dnnl_f32, b_strides), "memory descriptor");
    MATMUL_CHECK(dnnl_memory_desc_init_by_tag(&c, 2, c_dims, dnnl_f32, dnnl_ab), "memory descriptor");
    MATMUL_CHECK(dnnl_memory_desc_init_by_tag(&bias, 2, bias_dims, dnnl_f32, dnnl_ab), "memory descriptor");
    // fp32 reads A in place through its strides; bf16 converts it, row-major.
    if (s->bf16) MATMUL_CHECK(dnnl_memory_desc_init_by_tag(&a, 2, a_dims, dnnl_bf16, dnnl_ab), "memory descriptor");
    else a = user_a;
    // A constant B goes to oneDNN's blocked choice, converted once for many products. Otherwise B keeps its own
    // order (plain or transposed): B changes every training step and is converted every call, and a blocked
    // reorder of AlexNet's 9216 × 4096 weights took 48 ms against the bf16 product's 22. fp32 then reads it in place.
    if (s->constant_b)
        MATMUL_CHECK(dnnl_memory_desc_init_by_tag(&b_wanted, 2, b_dims, type, dnnl_format_tag_any), "memory descriptor");
    else if (s->bf16)
        MATMUL_CHECK(dnnl_memory_desc_init_by_tag(&b_wanted, 2, b_dims, dnnl_bf16, s->b_row_stride == 1 ? dnnl_ba : dnnl_ab),
                     "memory descriptor");
    else
        b_wanted = user_b;
    dnnl_matmul_desc_t md;
    MATMUL_CHECK(dnnl_matmul_desc_init(&md, &a, &b_wanted, s->bias ? &bias : NULL, &c), "descriptor");
    MATMUL_CHECK(dnnl_primitive_desc_create(&x->pd, &md, x->matmul_attributes, dc_engine, NULL), "primitive");
    MATMUL_CHECK(dnnl_primitive_create(&x->matmul, x->pd), "primitive");
    MATMUL_CHECK(dc_scratch_request(&x->scratchpad_size, x->pd, &x->scratch), "scratchpad");
    const dnnl_memory_desc_t *b = dnnl_primitive_desc_query_md(x->pd, dnnl_query_weights_md, 0);
    MATMUL_CHECK(dnnl_memory_create(&x->user_a, &user_a, dc_engine, DNNL_MEMORY_NONE), "memory");
    MATMUL_CHECK(dnnl_memory_create(&x->user_b, &user_b, dc_engine, DNNL_MEMORY_NONE), "memory");
    MATMUL_CHECK(dnnl_memory_create(&x->user_c, &c, dc_engine, DNNL_MEMORY_NONE), "memory");
    MATMUL_CHECK(dnnl_memory_create(&x->user_bias, &bias, dc_engine, DNNL_MEMORY_NONE), "memory");
    if (s->bf16) {
        MATMUL_CHECK(dnnl_memory_create(&x->a, &a, dc_engine, DNNL_MEMORY_ALLOCATE), "memory");
        MATMUL_CHECK(dc_make_reorder(&user_a, &a, x->attributes, &x->scratchpad_size, &x->a_reorder, &x->a_scratch), "A reorder");
    }
    if (s->bf16 || s->constant_b) {
        MATMUL_CHECK(dnnl_memory_create(&x->b, b, dc_engine, DNNL_MEMORY_ALLOCATE), "memory");
        MATMUL_CHECK(dc_make_reorder(&user_b, b, x->attributes, &x->scratchpad_size, &x->b_reorder, &x->b_scratch), "B reorder");
    }
    dnnl_memory_t all[] = {x->scratch, x->a_scratch, x->b_scratch};
    MATMUL_CHECK(dc_share_scratchpad(x->scratchpad_size, &x->scratchpad, all, 3), "scratchpad");
    return 0;
}

static void destroy_unlocked(dc_matmul *x);

static dc_matmul *create_unlocked(const dc_matmul_shape *shape, char *error, size_t error_size) {
    if (dc_ensure_engine() != 0) {
        if (error) snprintf(error, error_size, "oneDNN: no CPU engine");
        return NULL;
    }
    dc_matmul *x = calloc(1, sizeof *x);
    if (!x) {
        if (error) snprintf(error, error_size, "oneDNN matmul: out of memory");
        return NULL;
    }
    x->shape = *shape;
    if (build(x, error, error_size) != 0) {
        destroy_unlocked(x);
        return NULL;
    }
    return x;
}

static void destroy_unlocked(dc_matmul *x) {
    if (!x) return;
    dnnl_memory_t memories[] = {x->user_a, x->user_b, x->user_c, x->user_bias, x->a, x->b, x->scratch, x->a_scratch, x->b_scratch,
                                x->borrowed_b};
    dc_destroy_memories(memories, DC_COUNT(memories));
    dnnl_primitive_t primitives[] = {x->matmul, x->a_reorder, x->b_reorder};
    dc_destroy_primitives(primitives, DC_COUNT(primitives));
    if (x->pd) dnnl_primitive_desc_destroy(x->pd);
    if (x->attributes) dnnl_primitive_attr_destroy(x->attributes);
    if (x->matmul_attributes) dnnl_primitive_attr_destroy(x->matmul_attributes);
    if (x->stream) dnnl_stream_destroy(x->stream);
    free(x->scratchpad);
    free(x);
}

// Runs the product on B as converted (`converted`: this product's own B, a borrowed one, or B as given).
static int multiply(dc_matmul *x, const float *a, dnnl_memory_t converted, const float *bias, float *c, char *error,
                    size_t error_size) {
    MATMUL_CHECK(dnnl_memory_set_data_handle(x->user_a, (void *)a), "A");
    MATMUL_CHECK(dnnl_memory_set_data_handle(x->user_c, c), "C");
    if (x->a_reorder) {
        dnnl_exec_arg_t to_a[3] = {{DNNL_ARG_FROM, x->user_a}, {DNNL_ARG_TO, x->a}, {DNNL_ARG_SCRATCHPAD, x->a_scratch}};
        MATMUL_CHECK(dc_execute(x->a_reorder, x->stream, x->a_scratch ? 3 : 2, to_a), "A reorder");
    }
    dnnl_exec_arg_t args[5];
    int n = 0;
    args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SRC, x->a_reorder ? x->a : x->user_a};
    args[n++] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, converted};
    args[n++] = (dnnl_exec_arg_t){DNNL_ARG_DST, x->user_c};
    if (x->shape.bias) {
        MATMUL_CHECK(dnnl_memory_set_data_handle(x->user_bias, (void *)bias), "bias");
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, x->user_bias};
    }
    if (x->scratch) args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, x->scratch};
    MATMUL_CHECK(dc_execute(x->matmul, x->stream, n, args), "product");
    return 0;
}

static int convert_b_unlocked(dc_matmul *x, const float *b, char *error, size_t error_size) {
    MATMUL_CHECK(dnnl_memory_set_data_handle(x->user_b, (void *)b), "B");
    if (!x->b_reorder) return 0;  // fp32, B read in place
    dnnl_exec_arg_t to_b[3] = {{DNNL_ARG_FROM, x->user_b}, {DNNL_ARG_TO, x->b}, {DNNL_ARG_SCRATCHPAD, x->b_scratch}};
    MATMUL_CHECK(dc_execute(x->b_reorder, x->stream, x->b_scratch ? 3 : 2, to_b), "B reorder");
    return 0;
}

static int run_converted_unlocked(dc_matmul *x, const float *a, const float *bias, float *c, char *error, size_t error_size) {
    return multiply(x, a, x->b_reorder ? x->b : x->user_b, bias, c, error, error_size);
}

static int run_unlocked(dc_matmul *x, const float *a, const float *b, const float *bias, float *c, char *error,
                        size_t error_size) {
    if (convert_b_unlocked(x, b, error, error_size) != 0) return -1;
    return run_converted_unlocked(x, a, bias, c, error, error_size);
}

static int run_reusing_b_unlocked(dc_matmul *x, const float *a, const dc_matmul *source, const float *bias, float *c,
                                  char *error, size_t error_size) {
    if (!x->b || !source->b || x->shape.constant_b || source->shape.constant_b) {
        if (error) snprintf(error, error_size, "oneDNN matmul: only a B converted in its own order can be reused");
        return -1;
    }
    const dnnl_memory_desc_t *mine = NULL, *theirs = NULL;
    MATMUL_CHECK(dnnl_memory_get_memory_desc(x->b, &mine), "B");
    MATMUL_CHECK(dnnl_memory_get_memory_desc(source->b, &theirs), "B");
    if (dnnl_memory_desc_get_size(mine) != dnnl_memory_desc_get_size(theirs)) {
        if (error) snprintf(error, error_size, "oneDNN matmul: the B it would reuse has another size");
        return -1;
    }
    if (!x->borrowed_b) MATMUL_CHECK(dnnl_memory_create(&x->borrowed_b, mine, dc_engine, DNNL_MEMORY_NONE), "B");
    void *converted = NULL;
    MATMUL_CHECK(dnnl_memory_get_data_handle(source->b, &converted), "B");
    MATMUL_CHECK(dnnl_memory_set_data_handle(x->borrowed_b, converted), "B");
    return multiply(x, a, x->borrowed_b, bias, c, error, error_size);
}

const char *dc_matmul_implementation(const dc_matmul *x) { return dc_implementation_of(x->pd); }

// The public calls, each under the one execution lock (convolution_internal.h).
dc_matmul *dc_matmul_create(const dc_matmul_shape *shape, char *error, size_t error_size) {
    return DC_LOCKED(create_unlocked(shape, error, error_size));
}

void dc_matmul_destroy(dc_matmul *x) {
    DC_LOCKED_VOID(destroy_unlocked(x));
}

int dc_matmul_run(dc_matmul *x, const float *a, const float *b, const float *bias, float *c, char *error,
                  size_t error_size) {
    return DC_LOCKED(run_unlocked(x, a, b, bias, c, error, error_size));
}

int dc_matmul_convert_b(dc_matmul *x, const float *b, char *error, size_t error_size) {
    return DC_LOCKED(convert_b_unlocked(x, b, error, error_size));
}

int dc_matmul_run_converted(dc_matmul *x, const float *a, const float *bias, float *c, char *error, size_t error_size) {
    return DC_LOCKED(run_converted_unlocked(x, a, bias, c, error, error_size));
}

int dc_matmul_run_reusing_b(dc_matmul *x, const float *a, const dc_matmul *source, const float *bias, float *c, char *error,
                            size_t error_size) {
    return DC_LOCKED(run_reusing_b_unlocked(x, a, source, bias, c, error, error_size));
}
