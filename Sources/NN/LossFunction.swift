import Tensor

/// What a training step minimises, given the logits of a rank's rows and their labels: returns the
/// summed loss over the rows and writes dL/dlogits for loss = Σ / `divisor` (the global batch, so that
/// gradients summed over ranks are the global batch mean's). The trainer holds one and knows nothing
/// of the method behind it; each method's labeler supplies its own.
public protocol LossFunction: Sendable {
    func forwardBackward(logits: Tensor, labels: UnsafeBufferPointer<Int32>, divisor: Int, gradient: Tensor) -> Double
}

/// DeepCluster's loss: softmax cross-entropy of the top layer against one label per row.
public struct CrossEntropyLoss: LossFunction {
    public init() {}
    public func forwardBackward(logits: Tensor, labels: UnsafeBufferPointer<Int32>, divisor: Int, gradient: Tensor) -> Double {
        CrossEntropy.forwardBackward(logits: logits, labels: labels, divisor: divisor, gradient: gradient)
    }
}

/// DeepCluster-v2's loss: the tempered cross-entropy of each head's prototypes, H labels per row.
public struct PrototypeLoss: LossFunction {
    public let heads: [Int]
    public let temperature: Float
    public init(heads: [Int], temperature: Float) { self.heads = heads; self.temperature = temperature }
    public func forwardBackward(logits: Tensor, labels: UnsafeBufferPointer<Int32>, divisor: Int, gradient: Tensor) -> Double {
        PrototypeCrossEntropy.forwardBackward(logits: logits, heads: heads, temperature: temperature, labels: labels,
                                              divisor: divisor, gradient: gradient)
    }
}
