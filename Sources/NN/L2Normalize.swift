import Tensor

/// Row-wise L2 normalisation of an (N, F) tensor, `F.normalize(x, dim=1, p=2)` as DeepCluster-v2's
/// projection head ends: y = x / max(‖x‖, ε). Backward: dx = (dy − y·(y·dy)) / ‖x‖.
public final class L2Normalize: Layer {
    public let name: String
    public let eps: Float
    private let output = Tensor(shape: [0])
    private let inputGrad = Tensor(shape: [0])
    private var norms: [Float] = []

    public init(name: String, eps: Float = 1e-12) { self.name = name; self.eps = eps }
    public func outputShape(_ x: [Int]) -> [Int] { x }

    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        precondition(x.shape.count == 2, "\(name): expected (N, F), got \(x.shape)")
        let n = x.shape[0], f = x.shape[1]
        output.resize(x.shape)
        if norms.count < n { norms = [Float](repeating: 0, count: n) }
        for i in 0..<n {
            let r = x.data + i * f, o = output.data + i * f
            var s: Float = 0
            for j in 0..<f { s += r[j] * r[j] }
            let norm = max(s.squareRoot(), eps)
            norms[i] = norm
            let inv = 1 / norm
            for j in 0..<f { o[j] = r[j] * inv }
        }
        return output
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        guard needInputGradient else { return nil }
        let n = dy.shape[0], f = dy.shape[1]
        inputGrad.resize(dy.shape)
        for i in 0..<n {
            let y = output.data + i * f, g = dy.data + i * f, d = inputGrad.data + i * f
            var dot: Float = 0
            for j in 0..<f { dot += y[j] * g[j] }
            let inv = 1 / norms[i]
            for j in 0..<f { d[j] = (g[j] - y[j] * dot) * inv }
        }
        return inputGrad
    }
}
