import Tensor

public final class ReLU: Layer {
    public let name: String
    private let output = Tensor(shape: [0])
    private let inputGrad = Tensor(shape: [0])
    public init(name: String) { self.name = name }
    public func outputShape(_ x: [Int]) -> [Int] { x }

    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        output.resize(x.shape)
        let s = x.data, d = output.data
        Parallel.forEachChunk(x.count, minChunk: 1 << 15) { r in
            for i in r { d[i] = max(s[i], 0) }
        }
        return output
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        guard needInputGradient else { return nil }
        inputGrad.resize(dy.shape)
        let y = output.data, g = dy.data, d = inputGrad.data
        Parallel.forEachChunk(dy.count, minChunk: 1 << 15) { r in
            // Load unconditionally so the compiler emits a vector select, not a branch per element.
            for i in r { let gi = g[i]; d[i] = y[i] > 0 ? gi : 0 }
        }
        return inputGrad
    }
}
