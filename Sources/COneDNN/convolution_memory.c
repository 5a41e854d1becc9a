// The convolution's memories: oneDNN descriptors of our (C, N, H, W) tensors, staged copies in a
// primitive's layout with their reorders, and the one scratchpad buffer every primitive shares.
#include "convolution_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dc_describe(const dc_convolution_shape *s, char *out, size_t size) {
    snprintf(out, size, "(%d, %d, %d, %d) ∗ (%d, %d, %d, %d) stride %d padding %d%s", s->batch, s->in_channels,
             s->height, s->width, s->out_channels, s->in_channels, s->kernel, s->kernel, s->stride, s->padding,
             s->bf16 ? " bf16" : "");
}

const char *dc_status_name(dnnl_status_t status) {
    switch (status) {
    case dnnl_out_of_memory: return "out of memory";
    case dnnl_invalid_arguments: return "invalid arguments";
    case dnnl_unimplemented: return "unimplemented";
    case dnnl_runtime_error: return "runtime error";
    default: return "error";
    }
}


// (C, N, H, W) in memory for the logical (N, C, H, W) oneDNN expects.
dnnl_status_t dc_channel_major(dnnl_memory_desc_t *md, int n, int ch, int h, int w) {
    dnnl_dims_t dims = {n, ch, h, w};
    dnnl_dims_t strides = {(dnnl_dim_t)h * w, (dnnl_dim_t)n * h * w, w, 1};
    return dnnl_memory_desc_init_by_strides(md, 4, dims, dnnl_f32, strides);
}

dnnl_status_t dc_scratch_request(size_t *largest, const_dnnl_primitive_desc_t pd, dnnl_memory_t *out) {
    *out = NULL;
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t size = md ? dnnl_memory_desc_get_size(md) : 0;
    if (size == 0) return dnnl_success;
    if (size > *largest) *largest = size;
    return dnnl_memory_create(out, md, dc_engine, DNNL_MEMORY_NONE);
}

dnnl_status_t dc_make_reorder(const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to, const_dnnl_primitive_attr_t attributes,
                              size_t *largest, dnnl_primitive_t *reorder, dnnl_memory_t *scratch) {
    dnnl_primitive_desc_t pd;
    dnnl_status_t st = dnnl_reorder_primitive_desc_create(&pd, from, dc_engine, to, dc_engine, attributes);
    if (st != dnnl_success) return st;
    st = dnnl_primitive_create(reorder, pd);
    if (st == dnnl_success) st = dc_scratch_request(largest, pd, scratch);
    dnnl_primitive_desc_destroy(pd);
    return st;
}

// A memory object for the scratchpad `pd` asks for (NULL when it asks for none), pointed at the
// convolution's buffer once every primitive is built; the buffer grows to the largest request.
dnnl_status_t dc_scratch_memory(dc_convolution *c, const_dnnl_primitive_desc_t pd, dnnl_memory_t *out) {
    return dc_scratch_request(&c->scratchpad_size, pd, out);
}

int dc_stage(dc_convolution *c, staged_memory *m, const dnnl_memory_desc_t *user_md,
                 const dnnl_memory_desc_t *primitive_md, int is_input, const char *what, char *error,
                 size_t error_size) {
    CHECK(dnnl_memory_create(&m->user, user_md, dc_engine, DNNL_MEMORY_NONE), what);
    if (dnnl_memory_desc_equal(user_md, primitive_md)) return 0;
    CHECK(dnnl_memory_create(&m->staged, primitive_md, dc_engine, DNNL_MEMORY_ALLOCATE), what);
    CHECK(dc_make_reorder(is_input ? user_md : primitive_md, is_input ? primitive_md : user_md, c->attributes,
                          &c->scratchpad_size, &m->reorder, &m->scratch),
          what);
    return 0;
}

void dc_unstage(staged_memory *m) {
    if (m->scratch) dnnl_memory_destroy(m->scratch);
    if (m->reorder) dnnl_primitive_destroy(m->reorder);
    if (m->staged) dnnl_memory_destroy(m->staged);
    if (m->user) dnnl_memory_destroy(m->user);
    memset(m, 0, sizeof *m);
}

dnnl_memory_t dc_primitive_side(const staged_memory *m) { return m->staged ? m->staged : m->user; }

dnnl_status_t dc_run_reorder(dnnl_stream_t stream, const staged_memory *m, int is_input) {
    if (!m->reorder) return dnnl_success;
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_FROM, is_input ? m->user : m->staged},
                               {DNNL_ARG_TO, is_input ? m->staged : m->user},
                               {DNNL_ARG_SCRATCHPAD, m->scratch}};
    return dnnl_primitive_execute(m->reorder, stream, m->scratch ? 3 : 2, args);
}

dnnl_status_t dc_share_scratchpad(size_t size, void **buffer, const dnnl_memory_t *memories, size_t count) {
    if (size == 0) return dnnl_success;
    *buffer = aligned_alloc(64, (size + 63) / 64 * 64);
    if (!*buffer) return dnnl_out_of_memory;
    for (size_t i = 0; i < count; i++) {
        if (!memories[i]) continue;
        dnnl_status_t st = dnnl_memory_set_data_handle(memories[i], *buffer);
        if (st != dnnl_success) return st;
    }
    return dnnl_success;
}

dnnl_status_t dc_make_stream(dnnl_stream_t *stream, dnnl_primitive_attr_t *attributes) {
    dnnl_status_t st = dnnl_stream_create(stream, dc_engine, dnnl_stream_default_flags);
    if (st == dnnl_success) st = dnnl_primitive_attr_create(attributes);
    if (st == dnnl_success) st = dnnl_primitive_attr_set_scratchpad_mode(*attributes, dnnl_scratchpad_mode_user);
    return st;
}

// Points every scratchpad memory of the convolution at its one buffer (64-byte aligned).
dnnl_status_t dc_attach_scratchpad(dc_convolution *c) {
    dnnl_memory_t all[] = {c->forward_scratch, c->backward_data_scratch, c->backward_weights_scratch,
                           c->src.scratch, c->weights.scratch, c->dst.scratch,
                           c->bd_weights.scratch, c->bd_diff_dst.scratch, c->bd_diff_src.scratch,
                           c->bw_src.scratch, c->bw_diff_dst.scratch, c->bw_diff_weights.scratch};
    return dc_share_scratchpad(c->scratchpad_size, &c->scratchpad, all, sizeof all / sizeof all[0]);
}

void dc_destroy_memories(const dnnl_memory_t *memories, size_t count) {
    for (size_t i = 0; i < count; i++)
        if (memories[i]) dnnl_memory_destroy(memories[i]);
}

void dc_destroy_primitives(const dnnl_primitive_t *primitives, size_t count) {
    for (size_t i = 0; i < count; i++)
        if (primitives[i]) dnnl_primitive_destroy(primitives[i]);
}

void dc_destroy_descriptors(const dnnl_primitive_desc_t *descriptors, size_t count) {
    for (size_t i = 0; i < count; i++)
        if (descriptors[i]) dnnl_primitive_desc_destroy(descriptors[i]);
}
