import Tensor

/// Stochastic gradient descent as `torch.optim.SGD` (dampening 0, no Nesterov) with parameter groups
/// over the flat parameter buffer: d = g + wd·p; v = μ·v + d (v = d on the first step); p −= lr·v.
///
/// A group with momentum 0 has no buffer (DeepCluster's top layer: plain SGD, as the reference's
/// `optimizer_tl`); a frozen group is not updated (DeepCluster-v2's prototypes). The momentum buffer
/// is laid out like the parameters — `velocity[i]` belongs to parameter i — up to the end of the last
/// group with momentum, so a top layer of 4096 × 10,000 costs no momentum memory.
public final class SGD {
    public struct Group: Sendable {
        public var range: Range<Int>
        public var momentum: Float
        public var weightDecay: Float
        public var frozen: Bool
        public init(range: Range<Int>, momentum: Float = 0, weightDecay: Float = 0, frozen: Bool = false) {
            self.range = range; self.momentum = momentum; self.weightDecay = weightDecay; self.frozen = frozen
        }
    }

    /// The rate of every group; a schedule sets it before each step.
    public var learningRate: Float
    public var groups: [Group]
    /// Momentum, index for index with the parameters, over `0..<momentumCount` (saved in checkpoints).
    public var velocity: [Float]
    public private(set) var steps = 0

    public init(groups: [Group], learningRate: Float) {
        self.groups = groups
        self.learningRate = learningRate
        let end = groups.filter { $0.momentum != 0 }.map(\.range.upperBound).max() ?? 0
        velocity = [Float](repeating: 0, count: end)
    }

    /// One group over `range`: the optimizer of a single layer or of a whole model.
    public convenience init(range: Range<Int>, learningRate: Float, momentum: Float = 0, weightDecay: Float = 0) {
        self.init(groups: [Group(range: range, momentum: momentum, weightDecay: weightDecay)], learningRate: learningRate)
    }

    public func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeMutableBufferPointer<Float>) {
        for group in groups where !group.frozen { update(group, parameters, gradients) }
        steps += 1
    }

    /// The update runs over the rank's threads in chunks of at least this many parameters: it is memory-bound
    /// (AlexNet's 99 M parameters, five passes over 400 MB), and one thread leaves bandwidth unused. Each
    /// parameter's arithmetic is the same on any split.
    static let minimumChunk = 1 << 16

    private func update(_ group: Group, _ parameters: UnsafeMutableBufferPointer<Float>, _ gradients: UnsafeMutableBufferPointer<Float>) {
        let lo = group.range.lowerBound
        let p = parameters.baseAddress! + lo, g = gradients.baseAddress! + lo
        let n = group.range.count, lr = learningRate, wd = group.weightDecay, mu = group.momentum
        if mu == 0 {
            Parallel.forEachChunk(n, minChunk: Self.minimumChunk) { range in
                for i in range { p[i] -= lr * (g[i] + wd * p[i]) }
            }
            return
        }
        let first = steps == 0
        velocity.withUnsafeMutableBufferPointer { vb in
            let v = vb.baseAddress! + lo
            Parallel.forEachChunk(n, minChunk: Self.minimumChunk) { range in
                if first {
                    for i in range { let d = g[i] + wd * p[i]; v[i] = d; p[i] -= lr * d }
                } else {
                    for i in range { let d = g[i] + wd * p[i]; v[i] = mu * v[i] + d; p[i] -= lr * v[i] }
                }
            }
        }
    }

    /// Restores a momentum buffer (and marks the optimizer as having stepped).
    public func restore(velocity v: [Float], steps s: Int) {
        velocity = v
        steps = s
    }
}
