import NN
import Tensor

/// Gives a standalone layer its own parameter, gradient and buffer arrays, filled from a generator.
final class LayerHarness {
    let layer: Layer
    var parameters: [UnsafeMutableBufferPointer<Float>] = []
    var gradients: [UnsafeMutableBufferPointer<Float>] = []
    var buffers: [UnsafeMutableBufferPointer<Float>] = []

    init(_ layer: Layer, seed: UInt64 = 7) {
        self.layer = layer
        var rng = RandomGenerator(seed: seed)
        var s = LayerStorage()
        for spec in layer.parameterSpecs {
            let p = UnsafeMutableBufferPointer<Float>.allocate(capacity: spec.count)
            for i in 0..<spec.count { p[i] = Float(rng.normal() * 0.5) + (spec.name == "weight" && layer is BatchNorm ? 1 : 0) }
            let g = UnsafeMutableBufferPointer<Float>.allocate(capacity: spec.count)
            g.initialize(repeating: 0)
            parameters.append(p); gradients.append(g)
            s.parameters.append(p.baseAddress!); s.gradients.append(g.baseAddress!)
        }
        for spec in layer.bufferSpecs {
            let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(spec.count, 1))
            switch spec.initializer {
            case let .values(v): for i in 0..<v.count { b[i] = v[i] }
            case let .constant(c): b.initialize(repeating: c)
            case .normal: b.initialize(repeating: 0)
            }
            buffers.append(b)
            s.buffers.append(b.baseAddress!)
        }
        layer.bind(s)
    }

    deinit { (parameters + gradients + buffers).forEach { $0.deallocate() } }

    func zeroGradients() { gradients.forEach { $0.update(repeating: 0) } }
}

func randomTensor(_ shape: [Int], seed: UInt64, scale: Double = 1) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    let t = Tensor(shape: shape)
    for i in 0..<t.count { t[i] = Float(rng.normal() * scale) }
    return t
}

/// Largest |a − b| over max(|b|) of the reference, the comparison the PyTorch checks use.
func relativeError(_ a: [Double], _ b: [Double]) -> Double {
    let scale = max(b.map(abs).max() ?? 0, 1e-12)
    return zip(a, b).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
}
