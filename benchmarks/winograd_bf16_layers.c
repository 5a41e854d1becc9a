// Per layer, one thread: the bf16 Winograd kernel (Sources/CWinograd/winograd_bf16.c) against oneDNN's direct bf16
// convolution and, for 3×3 layers, oneDNN's own fp32 Winograd (jit_wino_4x3, AVX-512 only), on the shapes of
// AlexNet at 224 px (64 images) and Fashion-MNIST's network (256 images). The figures of the README's "bf16
// Winograd in the inference trunk" come from it:
//   gcc -O3 -ISources/CWinograd/include benchmarks/winograd_bf16_layers.c Sources/CWinograd/winograd_bf16.c
//     -o /tmp/winograd_bf16_layers -ldnnl -ldl && OMP_NUM_THREADS=1 /tmp/winograd_bf16_layers
#include "winograd_bf16.h"
#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

// Best of five runs (after one warm-up) of oneDNN's forward-inference convolution; -1 when oneDNN refuses it.
static double onednn(int n, int in, int out, int side, int k, dnnl_alg_kind_t algorithm, dnnl_data_type_t type,
                     const char **implementation) {
    static dnnl_engine_t engine;
    static dnnl_stream_t stream;
    if (!engine) {
        dnnl_engine_create(&engine, dnnl_cpu, 0);
        dnnl_stream_create(&stream, engine, dnnl_stream_default_flags);
    }
    const int pad = k / 2;
    dnnl_dims_t src_dims = {n, in, side, side}, weight_dims = {out, in, k, k}, bias_dims = {out}, dst_dims = {n, out, side, side};
    dnnl_dims_t strides = {1, 1}, padding = {pad, pad};
    dnnl_memory_desc_t src, weights, bias, dst;
    dnnl_memory_desc_init_by_tag(&src, 4, src_dims, type, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&weights, 4, weight_dims, type, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&bias, 1, bias_dims, dnnl_f32, dnnl_x);
    dnnl_memory_desc_init_by_tag(&dst, 4, dst_dims, type, dnnl_format_tag_any);
    dnnl_convolution_desc_t description;
    dnnl_primitive_desc_t pd;
    if (dnnl_convolution_forward_desc_init(&description, dnnl_forward_inference, algorithm, &src, &weights, &bias, &dst,
                                           strides, padding, padding) != dnnl_success ||
        dnnl_primitive_desc_create(&pd, &description, NULL, engine, NULL) != dnnl_success)
        return -1;
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, implementation);
    dnnl_primitive_t primitive;
    dnnl_primitive_create(&primitive, pd);
    dnnl_memory_t memories[4];
    const dnnl_query_t queries[4] = {dnnl_query_src_md, dnnl_query_weights_md, dnnl_query_weights_md, dnnl_query_dst_md};
    for (int i = 0; i < 4; i++)
        dnnl_memory_create(&memories[i], dnnl_primitive_desc_query_md(pd, queries[i], i == 2), engine, DNNL_MEMORY_ALLOCATE);
    dnnl_exec_arg_t arguments[4] = {{DNNL_ARG_SRC, memories[0]}, {DNNL_ARG_WEIGHTS, memories[1]},
                                    {DNNL_ARG_BIAS, memories[2]}, {DNNL_ARG_DST, memories[3]}};
    double best = 1e9;
    for (int r = 0; r < 6; r++) {
        const double t = now();
        dnnl_primitive_execute(primitive, stream, 4, arguments);
        dnnl_stream_wait(stream);
        if (r > 0 && now() - t < best) best = now() - t;
    }
    for (int i = 0; i < 4; i++) dnnl_memory_destroy(memories[i]);
    dnnl_primitive_destroy(primitive);
    dnnl_primitive_desc_destroy(pd);
    return best;
}

int main(void) {
    if (!dc_winograd_bf16_supported(16, 64)) {
        printf("this CPU has no AVX512-BF16\n");
        return 1;
    }
    const int shapes[][5] = {  // images, in, out, side, kernel
        {64, 96, 256, 27, 5}, {64, 256, 384, 13, 3}, {64, 384, 384, 13, 3}, {64, 384, 256, 13, 3},
        {256, 32, 64, 14, 5}, {256, 64, 128, 7, 3}, {256, 128, 128, 7, 3}, {256, 128, 64, 7, 3},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int n = shapes[s][0], in = shapes[s][1], out = shapes[s][2], side = shapes[s][3], k = shapes[s][4];
        uint16_t *x = malloc(sizeof(uint16_t) * n * side * side * in), *y = malloc(sizeof(uint16_t) * n * side * side * out);
        float *w = calloc((size_t)out * in * k * k, sizeof(float)), *bias = calloc(out, sizeof(float));
        for (long i = 0; i < (long)n * side * side * in; i++) x[i] = 0x3f80;  // 1.0 in bf16
        uint16_t *packed = malloc(sizeof(uint16_t) * dc_winograd_bf16_packed_count(out, in, k));
        dc_winograd_bf16_pack(w, out, in, k, packed);
        double winograd = 1e9;
        for (int r = 0; r < 5; r++) {
            const double t = now();
            dc_winograd_bf16_forward(x, n, side, side, in, k, k / 2, packed, bias, out, 1, y);
            if (r > 0 && now() - t < winograd) winograd = now() - t;
        }
        const char *direct_name = "", *wino_name = "";
        const double direct = onednn(n, in, out, side, k, dnnl_convolution_direct, dnnl_bf16, &direct_name);
        const double fp32_winograd = onednn(n, in, out, side, k, dnnl_convolution_winograd, dnnl_f32, &wino_name);
        printf("%3d images, %3d → %3d, %dx%d, %dx%d: bf16 Winograd %7.2f ms, oneDNN direct bf16 %7.2f ms (%s), ratio %.2f",
               n, in, out, side, side, k, k, winograd * 1e3, direct * 1e3, direct_name, direct / winograd);
        if (fp32_winograd > 0) printf("; oneDNN fp32 %s %.2f ms", wino_name, fp32_winograd * 1e3);
        printf("\n");
        free(x); free(y); free(w); free(bias); free(packed);
    }
    return 0;
}
