import COneDNN

/// A convolution on oneDNN primitives created once for one shape (Sources/COneDNN).
final class OneDNNConvolution: ConvolutionKernel {
    let shape: ConvolutionShape
    private let handle: OpaquePointer
    private var message = [CChar](repeating: 0, count: 512)

    init(shape: ConvolutionShape, precision: Precision) throws {
        self.shape = shape
        var s = dc_convolution_shape(batch: Int32(shape.batch), in_channels: Int32(shape.inChannels),
                                     height: Int32(shape.height), width: Int32(shape.width),
                                     out_channels: Int32(shape.outChannels), kernel: Int32(shape.kernel),
                                     stride: Int32(shape.stride), padding: Int32(shape.padding),
                                     training: shape.training ? 1 : 0, bf16: precision == .bf16 ? 1 : 0,
                                     relu: shape.relu ? 1 : 0)
        var text = [CChar](repeating: 0, count: 512)
        guard let h = dc_convolution_create(&s, &text, text.count) else {
            throw KernelError.onednn(String(cString: text))
        }
        handle = h
    }

    deinit { dc_convolution_destroy(handle) }

    /// The implementation oneDNN chose (e.g. "jit:avx2").
    var implementation: String { String(cString: dc_convolution_implementation(handle)) }
    /// The implementation of the weight gradient ("gemm:jit" when oneDNN runs im2col + its own gemm).
    var weightGradientImplementation: String { String(cString: dc_convolution_backward_weights_implementation(handle)) }

    private func check(_ status: Int32) throws {
        if status != 0 { throw KernelError.onednn(String(cString: message)) }
    }

    func forward(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                 output: UnsafeMutablePointer<Float>) throws {
        try check(dc_convolution_forward(handle, input, weight, bias, output, &message, message.count))
    }

    func backward(outputGradient: UnsafePointer<Float>, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                  inputGradient: UnsafeMutablePointer<Float>?, weightGradient: UnsafeMutablePointer<Float>?,
                  biasGradient: UnsafeMutablePointer<Float>?) throws {
        try check(dc_convolution_backward(handle, outputGradient, weight, inputGradient, weightGradient, biasGradient,
                                          &message, message.count))
    }

    /// The backward of a forward that ran on another kernel (`SplitConvolution`): `input` is its input.
    func backward(afterForwardOn input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                  inputGradient: UnsafeMutablePointer<Float>?, weightGradient: UnsafeMutablePointer<Float>?,
                  biasGradient: UnsafeMutablePointer<Float>?) throws {
        try check(dc_convolution_backward_with_source(handle, input, outputGradient, weight, inputGradient, weightGradient,
                                                      biasGradient, &message, message.count))
    }
}
