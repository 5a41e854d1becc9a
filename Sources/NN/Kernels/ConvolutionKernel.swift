import Tensor

/// The shape of one convolution call: what a kernel is built for.
public struct ConvolutionShape: Hashable, Sendable {
    public let batch, inChannels, height, width: Int
    public let outChannels, kernel, stride, padding: Int
    /// Forward keeps what backward needs (training) or not (inference).
    public let training: Bool
    /// Inference only: max(0, ·) applied to the output inside the kernel (a oneDNN post-op).
    public var relu = false

    public var geometry: ConvGeometry {
        ConvGeometry(channels: inChannels, height: height, width: width, kernel: kernel, stride: stride, padding: padding)
    }
    public var text: String {
        "(\(inChannels), \(batch), \(height), \(width)) ∗ \(outChannels)×\(inChannels)×\(kernel)×\(kernel) stride \(stride) padding \(padding)"
    }
}

/// Convolution arithmetic on (C, N, H, W) tensors with (out, in, kh, kw) weights.
/// `forward` writes `output`; `backward` writes `inputGradient` (when non-nil) and accumulates
/// into `weightGradient` and `biasGradient` (when non-nil). The input of the matching forward
/// stays valid until backward.
protocol ConvolutionKernel: AnyObject {
    func forward(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                 output: UnsafeMutablePointer<Float>) throws
    func backward(outputGradient: UnsafePointer<Float>, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                  inputGradient: UnsafeMutablePointer<Float>?, weightGradient: UnsafeMutablePointer<Float>?,
                  biasGradient: UnsafeMutablePointer<Float>?) throws
}

/// ∂b[o] += the sum of ∂y over channel o, for a (C, N, H, W) gradient of `channels` channels whose
/// channel holds `perChannel` contiguous values (N · H · W): every kernel's bias gradient.
func accumulateBiasGradient(_ dy: UnsafePointer<Float>, channels: Int, perChannel: Int, into db: UnsafeMutablePointer<Float>) {
    Parallel.forEachChunk(channels) { rows in
        for o in rows {
            let p = dy + o * perChannel
            var s: Float = 0
            for i in 0..<perChannel { s += p[i] }
            db[o] += s
        }
    }
}
