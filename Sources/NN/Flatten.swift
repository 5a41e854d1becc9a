import Tensor

/// (C, N, H, W) → (N, C·H·W) in PyTorch's flatten order (c, y, x) per image, and back.
public final class Flatten: Layer {
    public let name: String
    private let output = Tensor(shape: [0])
    private let inputGrad = Tensor(shape: [0])
    private var inputShape: [Int] = []

    public init(name: String) { self.name = name }
    public func outputShape(_ x: [Int]) -> [Int] { [x[1], x[0] * x[2] * x[3]] }

    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        inputShape = x.shape
        let c = x.shape[0], n = x.shape[1], hw = x.shape[2] * x.shape[3]
        output.resize([n, c * hw])
        let s = x.data, d = output.data
        for ci in 0..<c {
            for b in 0..<n {
                (d + b * c * hw + ci * hw).update(from: s + (ci * n + b) * hw, count: hw)
            }
        }
        return output
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        guard needInputGradient else { return nil }
        inputGrad.resize(inputShape)
        let c = inputShape[0], n = inputShape[1], hw = inputShape[2] * inputShape[3]
        let s = dy.data, d = inputGrad.data
        for ci in 0..<c {
            for b in 0..<n {
                (d + (ci * n + b) * hw).update(from: s + b * c * hw + ci * hw, count: hw)
            }
        }
        return inputGrad
    }
}
