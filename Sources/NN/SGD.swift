/// Stochastic gradient descent as `torch.optim.SGD` (dampening 0, no Nesterov) over one range of the
/// flat parameter buffer: d = g + wd·p; v = μ·v + d (v = d on the first step); p −= lr·v.
/// With momentum 0 there is no buffer: the top layer's plain SGD, re-created every epoch.
public final class SGD {
    public var learningRate: Float
    public let momentum: Float
    public let weightDecay: Float
    public let range: Range<Int>
    /// Momentum buffer, one value per parameter of `range` (saved in checkpoints).
    public var velocity: [Float]
    public private(set) var steps = 0

    public init(range: Range<Int>, learningRate: Float, momentum: Float = 0, weightDecay: Float = 0) {
        self.range = range
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        velocity = momentum != 0 ? [Float](repeating: 0, count: range.count) : []
    }

    public func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeMutableBufferPointer<Float>) {
        let p = parameters.baseAddress! + range.lowerBound, g = gradients.baseAddress! + range.lowerBound
        let n = range.count, lr = learningRate, wd = weightDecay, mu = momentum
        if mu == 0 {
            for i in 0..<n { p[i] -= lr * (g[i] + wd * p[i]) }
        } else {
            velocity.withUnsafeMutableBufferPointer { vb in
                let v = vb.baseAddress!
                if steps == 0 {
                    for i in 0..<n { let d = g[i] + wd * p[i]; v[i] = d; p[i] -= lr * d }
                } else {
                    for i in 0..<n { let d = g[i] + wd * p[i]; v[i] = mu * v[i] + d; p[i] -= lr * v[i] }
                }
            }
        }
        steps += 1
    }

    /// Restores a momentum buffer (and marks the optimizer as having stepped).
    public func restore(velocity v: [Float], steps s: Int) {
        velocity = v
        steps = s
    }
}
