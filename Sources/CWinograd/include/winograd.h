// Winograd's minimal filtering (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks",
// CVPR 2016) for stride-1 convolutions on the trainer's (C, N, H, W) float tensors, on 6×6 input
// tiles with the interpolation points 0, ±1, ±2 and ∞:
//   F(4×4, 3×3): a 4×4 output tile from 36 products where a direct convolution does 144;
//   F(2×2, 5×5): a 2×2 output tile from 36 products where a direct convolution does 100.
// The products over input channels are 36 matrix products, one per point ξ of the 6×6 grid,
//     M[ξ] (out × tiles) = U[ξ] (out × in) · V[ξ] (in × tiles),
// The forward (and training's ∂x) runs whole in C, chunk by chunk of tiles (dc_winograd_forward_tiles);
// training's weight gradient runs its sums over tiles as sgemm in the caller, between the transforms here.
// `kernel` is 3 or 5; the output tile is 7 − kernel wide. Tiles are numbered image by image, row by
// row: t = (image · tiles_high + tile_row) · tiles_wide + tile_column.
#ifndef DEEPCLUSTER_WINOGRAD_H
#define DEEPCLUSTER_WINOGRAD_H

/// U[ξ][o][i] = (G g G^T)[ξ] of the filter w[o][i] (kernel × kernel, PyTorch's (out, in, kh, kw)
/// order) for output channels [o_begin, o_end); u holds 36 · out · in floats.
void dc_winograd_filter(const float *w, int out_channels, int in_channels, int kernel, int o_begin, int o_end, float *u);

/// V[ξ][c][t] = (B^T d B)[ξ] for channels [c_begin, c_end) and the tiles of images
/// [image_begin, image_end) of x (channels, images, height, width), zero outside the image
/// (padding `pad`). t counts from the first tile of image_begin; plane ξ starts at v + ξ · plane,
/// row c at + c · row. 0 on success, -1 when its scratch (one channel's images with a zero border)
/// could not be allocated.
int dc_winograd_input(const float *x, int images, int height, int width, int pad, int kernel,
                      int tiles_high, int tiles_wide, int c_begin, int c_end,
                      int image_begin, int image_end, float *v, long plane, long row);

/// The transposes of the output and filter transforms, for training's weight gradient: for a
/// convolution y = x ∗ w, ∂L/∂w = Σ over tiles of G^T [(A ∂y A^T) ⊙ (B^T x B)] G, Winograd F(r×r, m×m)
/// on the same tiles and points (the transposition principle: the roles of A and G swap, B stays).
/// The sum over tiles is 36 matrix products (out × tiles) · (tiles × in), which the caller runs as
/// sgemm into 36 · out · in accumulators.

/// W[ξ][o][t] = (A ∂y A^T)[ξ] of the m×m tiles of dy (out, images, out_high, out_wide) for output
/// channels [o_begin, o_end) and images [image_begin, image_end), zero beyond the map's edge; laid out
/// as v in dc_winograd_input (plane ξ at w + ξ · plane, row o at + o · row, tiles from image_begin).
void dc_winograd_output_gradient(const float *dy, int kernel, int images, int out_high, int out_wide,
                                 int tiles_high, int tiles_wide, int o_begin, int o_end,
                                 int image_begin, int image_end, float *w, long plane, long row);

/// dw[o][i] += G^T M[·][o][i] G (kernel × kernel, PyTorch's (out, in, kh, kw) order) for output
/// channels [o_begin, o_end); m holds 36 planes of out × in, plane ξ at m + ξ · out · in.
void dc_winograd_filter_gradient(const float *m, int out_channels, int in_channels, int kernel,
                                 int o_begin, int o_end, float *dw);

/// The forward on chunks of tiles (winograd_tiles.c), for the forward and training's ∂x: U packed once
/// per weight update by dc_winograd_pack into dc_winograd_packed_floats(out, in) floats (blocks of six
/// output channels, zero past the last), then y[o][n][·][·] = A^T (Σ_i U[o][i] ⊙ B^T x_i B) A + bias[o]
/// (then max(0, ·) when relu) for the output tiles [tile_begin, tile_end) of the batch (numbered as
/// above, over all images), each chunk of tiles transformed, multiplied and transformed back while it
/// is in cache. x is (in_channels, images, height, width), zero outside it (padding `pad`); y is
/// (out_channels, images, out_high, out_wide). 0 on success, -1 when its scratch could not be allocated.
void dc_winograd_pack(const float *u, int out_channels, int in_channels, float *packed);
long dc_winograd_packed_floats(int out_channels, int in_channels);
int dc_winograd_forward_tiles(const float *x, int images, int in_channels, int height, int width, int pad, int kernel,
                              const float *packed, int out_channels, const float *bias, int relu,
                              int out_high, int out_wide, long tile_begin, long tile_end, float *y);

/// Tests: on the calling thread only, the plain-C paths that a CPU without AVX2 and FMA takes (1), or the
/// fastest this CPU has again (0).
void dc_winograd_use_baseline(int on);

#endif
