import Tensor

/// Average pooling over (C, N, H, W) with zero padding counted in the average (PyTorch's default
/// count_include_pad=True), floor mode. Used by the linear probe to pool conv activations.
public final class AvgPool2d: Layer {
    public let name: String
    public let kernel, stride, padding: Int
    private let output = Tensor(shape: [0])
    private let inputGrad = Tensor(shape: [0])
    private var inputShape: [Int] = []

    public init(name: String, kernel: Int, stride: Int, padding: Int = 0) {
        self.name = name; self.kernel = kernel; self.stride = stride; self.padding = padding
    }

    public func outputShape(_ x: [Int]) -> [Int] {
        [x[0], x[1], (x[2] + 2 * padding - kernel) / stride + 1, (x[3] + 2 * padding - kernel) / stride + 1]
    }

    /// Calls body(outputIndex, inputIndex) for every input cell inside each output window of plane p.
    @inline(__always)
    private func windows(_ p: Int, _ h: Int, _ w: Int, _ oh: Int, _ ow: Int, _ body: (Int, Int) -> Void) {
        for oy in 0..<oh {
            for ox in 0..<ow {
                let j = (p * oh + oy) * ow + ox
                for ky in 0..<kernel {
                    let y = oy * stride - padding + ky
                    if y < 0 || y >= h { continue }
                    for kx in 0..<kernel {
                        let x = ox * stride - padding + kx
                        if x >= 0 && x < w { body(j, (p * h + y) * w + x) }
                    }
                }
            }
        }
    }

    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        inputShape = x.shape
        let o = outputShape(x.shape)
        output.resize(o)
        output.zero()
        let scale = 1 / Float(kernel * kernel), src = x.data, dst = output.data
        Parallel.forEachChunk(o[0] * o[1]) { ps in
            for p in ps { self.windows(p, x.shape[2], x.shape[3], o[2], o[3]) { j, i in dst[j] += src[i] * scale } }
        }
        return output
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        guard needInputGradient else { return nil }
        inputGrad.resize(inputShape)
        inputGrad.zero()
        let scale = 1 / Float(kernel * kernel), g = dy.data, d = inputGrad.data
        Parallel.forEachChunk(dy.shape[0] * dy.shape[1]) { ps in
            for p in ps {
                self.windows(p, self.inputShape[2], self.inputShape[3], dy.shape[2], dy.shape[3]) { j, i in d[i] += g[j] * scale }
            }
        }
        return inputGrad
    }
}
