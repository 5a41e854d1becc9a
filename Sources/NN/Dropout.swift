import Tensor

/// Inverted dropout as PyTorch: in training each element is kept with probability 1 − p and scaled
/// by 1/(1 − p). The mask comes from the layer's own seeded generator, reseeded per step by the trainer.
public final class Dropout: Layer {
    public let name: String
    public let p: Float
    public var generator = RandomGenerator(seed: 0)
    private let output = Tensor(shape: [0])
    private let mask = Tensor(shape: [0])
    private let inputGrad = Tensor(shape: [0])
    private var active = false

    public init(name: String, p: Float) { self.name = name; self.p = p }
    public func outputShape(_ x: [Int]) -> [Int] { x }

    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        active = mode.dropout && p > 0
        guard active else { return x }
        output.resize(x.shape)
        mask.resize(x.shape)
        let scale = 1 / (1 - p), keep = 1 - p
        // The generator as a local value and raw pointers: the loop keeps its state in registers.
        var random = generator
        let xs = x.data, ms = mask.data, ys = output.data
        for i in 0..<x.count {
            let m: Float = random.uniformFloat() < keep ? scale : 0
            ms[i] = m
            ys[i] = xs[i] * m
        }
        generator = random
        return output
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        guard needInputGradient else { return nil }
        guard active else { return dy }
        inputGrad.resize(dy.shape)
        let g = dy.data, ms = mask.data, d = inputGrad.data
        for i in 0..<dy.count { d[i] = g[i] * ms[i] }
        return inputGrad
    }
}
