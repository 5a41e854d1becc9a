// A matrix product on oneDNN for the Linear layers: in bf16 (fp32 accumulation) under --precision bf16, and in
// fp32 for inference on weights that stay put (extraction): C (M × N, row-major fp32) = A · B (+ bias) or
// C += A · B, where A (M × K) and B (K × N) are fp32 matrices given by their strides (so a transposed operand is
// read in place). dc_matmul_run converts A and B (to bf16, or B to oneDNN's blocked layout) by oneDNN reorders
// and runs one matmul primitive, created once per shape; a product whose B is constant converts it once
// (dc_matmul_convert_b) and runs many times on it (dc_matmul_run_converted).
#ifndef DEEPCLUSTER_ONEDNN_MATMUL_H
#define DEEPCLUSTER_ONEDNN_MATMUL_H
#include <stddef.h>

typedef struct dc_matmul dc_matmul;

typedef struct {
    int m, n, k;
    /// A[i][j] is a[i * a_row_stride + j * a_column_stride]; the same for B.
    long a_row_stride, a_column_stride, b_row_stride, b_column_stride;
    /// 1: add bias[j] to every row of C.
    int bias;
    /// 1: C += A · B; 0: C = A · B.
    int accumulate;
    /// 1: A and B are rounded to bf16 (fp32 accumulation); 0: the product runs in fp32.
    int bf16;
    /// 1: B is held in the layout oneDNN chooses for the product (blocked), worth its reorder only when many
    /// products run on one conversion; 0: B keeps its own element order (plain or transposed).
    int constant_b;
} dc_matmul_shape;

/// NULL on failure, with one line in `error`.
dc_matmul *dc_matmul_create(const dc_matmul_shape *shape, char *error, size_t error_size);
void dc_matmul_destroy(dc_matmul *matmul);
/// 0 on success; `bias` is read only when the shape has one.
int dc_matmul_run(dc_matmul *matmul, const float *a, const float *b, const float *bias, float *c, char *error,
                  size_t error_size);
/// Converts B into the product's own copy (bf16, or the blocked layout of a constant B); 0 on success.
int dc_matmul_convert_b(dc_matmul *matmul, const float *b, char *error, size_t error_size);
/// Runs the product on B as dc_matmul_convert_b (or the last dc_matmul_run) left it; 0 on success.
int dc_matmul_run_converted(dc_matmul *matmul, const float *a, const float *bias, float *c, char *error, size_t error_size);
/// As dc_matmul_run, with B taken as `source` last converted it to bf16 — the same matrix in the same element
/// order, read through this product's strides: a Linear layer's ∂x = ∂y·W reuses its forward's bf16 W (B = Wᵀ)
/// instead of converting the weights again. -1 when the two B differ in size.
int dc_matmul_run_reusing_b(dc_matmul *matmul, const float *a, const dc_matmul *source, const float *bias, float *c,
                            char *error, size_t error_size);
/// The implementation oneDNN chose ("brg:avx512_core_bf16", ...).
const char *dc_matmul_implementation(const dc_matmul *matmul);
#endif
