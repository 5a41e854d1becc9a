/// A training convolution split between two kernels: the forward on Winograd (`WinogradConvolution`), the
/// backward (∂x, ∂w, ∂b) on oneDNN's primitives (`OneDNNConvolution.backward(afterForwardOn:…)`, which stage
/// the forward's input for ∂w as their own forward would have). For shapes with 32 to 63 input channels, where
/// Winograd's forward is faster than oneDNN's direct kernel but its backward is not: Fashion-MNIST's conv2,
/// 32 → 64, 5×5 at 14×14, per 256 images on one thread (Zen 4): forward 41.8 → 30.2 ms; on Winograd its ∂x
/// (64 → 32) took about 44 ms against oneDNN's 40, and its ∂w (sums over tiles as 36 sgemm of 32 rows) 26 ms more.
final class SplitConvolution: ConvolutionKernel {
    let winograd: WinogradConvolution
    let oneDNN: OneDNNConvolution

    init(winograd: WinogradConvolution, oneDNN: OneDNNConvolution) {
        self.winograd = winograd
        self.oneDNN = oneDNN
    }

    func forward(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                 output: UnsafeMutablePointer<Float>) throws {
        winograd.shape = oneDNN.shape
        winograd.forward(input: input, weight: weight, bias: bias, output: output)
    }

    func backward(outputGradient: UnsafePointer<Float>, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                  inputGradient: UnsafeMutablePointer<Float>?, weightGradient: UnsafeMutablePointer<Float>?,
                  biasGradient: UnsafeMutablePointer<Float>?) throws {
        try oneDNN.backward(afterForwardOn: input, outputGradient: outputGradient, weight: weight, inputGradient: inputGradient,
                            weightGradient: weightGradient, biasGradient: biasGradient)
    }
}
