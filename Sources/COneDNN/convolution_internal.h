// Shared by the convolution's C files (not part of the public header): the engine, the staged
// memories, the convolution's state, the error macro and the helpers each file defines.
#ifndef DC_CONVOLUTION_INTERNAL_H
#define DC_CONVOLUTION_INTERNAL_H
#include "onednn_convolution.h"

#include <oneapi/dnnl/dnnl.h>
#include <stddef.h>

// The process's CPU engine (convolution.c makes it once).
extern dnnl_engine_t dc_engine;
int dc_ensure_engine(void);
// Every creation, call and destruction of a primitive, in every file, runs under one lock (convolution.c says why).
void dc_lock_execution(void);
void dc_unlock_execution(void);
// The public calls of trunk.c, training_trunk.c and matmul.c: `call` (a value) or `statement` under that lock.
#define DC_LOCKED(call)                                                                                     \
    __extension__({                                                                                         \
        dc_lock_execution();                                                                                \
        __typeof__(call) locked_result_ = (call);                                                           \
        dc_unlock_execution();                                                                              \
        locked_result_;                                                                                     \
    })
#define DC_LOCKED_VOID(statement)                                                                           \
    do {                                                                                                    \
        dc_lock_execution();                                                                                \
        statement;                                                                                          \
        dc_unlock_execution();                                                                              \
    } while (0)
// Executes a primitive on a stream and waits for it.
dnnl_status_t dc_execute(dnnl_primitive_t primitive, dnnl_stream_t stream, int count, const dnnl_exec_arg_t *args);
// The implementation a primitive descriptor chose ("brgconv:avx512_core_bf16"), "unknown" when it says none.
const char *dc_implementation_of(const_dnnl_primitive_desc_t pd);

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
    /// The forward primitive's own attributes when it carries a post-op (NULL otherwise).
    dnnl_primitive_attr_t forward_attributes;
    dnnl_memory_t forward_scratch, backward_data_scratch, backward_weights_scratch;
    void *scratchpad;
    size_t scratchpad_size;
};

void dc_describe(const dc_convolution_shape *s, char *out, size_t size);
const char *dc_status_name(dnnl_status_t status);

// Returns -1 with `error` filled from the convolution `c` in scope when `call` fails.
#define CHECK(call, what)                                                                        \
    do {                                                                                         \
        dnnl_status_t status_ = (call);                                                          \
        if (status_ != dnnl_success) {                                                           \
            char shape_[160];                                                                    \
            dc_describe(&c->shape, shape_, sizeof shape_);                                          \
            if (error) snprintf(error, error_size, "oneDNN %s: %s (status %d) for %s", what,     \
                                dc_status_name(status_), (int)status_, shape_);                     \
            return -1;                                                                           \
        }                                                                                        \
    } while (0)

dnnl_status_t dc_channel_major(dnnl_memory_desc_t *md, int n, int ch, int h, int w);
// A memory object for the scratchpad `pd` asks for (NULL when none), its size raising `largest`: the owner points
// every such memory at one buffer of the largest size once its primitives are built (they run one at a time).
dnnl_status_t dc_scratch_request(size_t *largest, const_dnnl_primitive_desc_t pd, dnnl_memory_t *out);
// A reorder from one layout to another, with its scratchpad memory as `dc_scratch_request` makes it.
dnnl_status_t dc_make_reorder(const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to, const_dnnl_primitive_attr_t attributes,
                              size_t *largest, dnnl_primitive_t *reorder, dnnl_memory_t *scratch);
// Allocates one 64-byte-aligned buffer of `size` (none when 0) and points every non-NULL memory of `memories` at
// it: an owner's primitives run one after another, so their scratchpads can be one.
dnnl_status_t dc_share_scratchpad(size_t size, void **buffer, const dnnl_memory_t *memories, size_t count);
// Destroys every non-NULL handle of an array (a destroy function's lists); DC_COUNT gives an array's length.
#define DC_COUNT(array) (sizeof(array) / sizeof((array)[0]))
void dc_destroy_memories(const dnnl_memory_t *memories, size_t count);
void dc_destroy_primitives(const dnnl_primitive_t *primitives, size_t count);
void dc_destroy_descriptors(const dnnl_primitive_desc_t *descriptors, size_t count);
// A stream on the engine and primitive attributes with a user scratchpad (see dc_convolution's comment).
dnnl_status_t dc_make_stream(dnnl_stream_t *stream, dnnl_primitive_attr_t *attributes);
dnnl_status_t dc_scratch_memory(dc_convolution *c, const_dnnl_primitive_desc_t pd, dnnl_memory_t *out);
int dc_stage(dc_convolution *c, staged_memory *m, const dnnl_memory_desc_t *user_md, const dnnl_memory_desc_t *primitive_md,
             int is_input, const char *what, char *error, size_t error_size);
void dc_unstage(staged_memory *m);
dnnl_memory_t dc_primitive_side(const staged_memory *m);
dnnl_status_t dc_run_reorder(dnnl_stream_t stream, const staged_memory *m, int is_input);
dnnl_status_t dc_attach_scratchpad(dc_convolution *c);
// Creates the stream, the three primitives and their memories (convolution_build.c).
int dc_build(dc_convolution *c, char *error, size_t error_size);
#endif
