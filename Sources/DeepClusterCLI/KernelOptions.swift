import ArgumentParser
import NN

extension KernelBackend: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}

/// `--kernels` and `--precision`, shared by every command that runs the network.
struct KernelOptions: ParsableArguments {
    @Option(help: "Convolution kernels: onednn (oneDNN's primitives, Winograd's tiles for 3×3 and 5×5, and im2col + OpenBLAS for a layer whose oneDNN weight gradient is gemm-based) or reference (im2col + sgemm) (default: onednn).")
    var kernels: KernelBackend = .onednn
    @Option(help: "Arithmetic of the convolutions and Linear layers: fp32, or bf16 (bf16 inputs and weights, fp32 accumulation, master weights and gradients; the trunk runs as one oneDNN chain in bf16 NHWC, in training and inference, BatchNorm's statistics in fp32; needs AVX512-BF16 or AMX) (default: fp32).")
    var precision: Precision = .fp32
    @Flag(inversion: .prefixedNo, help: "Inference's 3×3 and 5×5 stride-1 convolutions (extraction, eval) by Winograd under --kernels onednn: F(4×4, 3×3) and F(2×2, 5×5) in fp32; F(2×2, 3×3) on AVX512-BF16 in bf16, for layers with 128 outputs or more (a 5×5 as four 3×3).")
    var winograd = true
    @Flag(inversion: .prefixedNo, help: "Training's 3×3 and 5×5 stride-1 convolutions too: forward, input and weight gradients on Winograd's tiles (with --winograd's conditions).")
    var winogradTraining = true

    /// Makes the choice process-wide; a precision this CPU cannot run is one line for the user.
    func apply() throws {
        try KernelBackend.select(kernels, precision: precision)
        KernelBackend.winogradInference = winograd
        KernelBackend.winogradTraining = winogradTraining
    }
}
