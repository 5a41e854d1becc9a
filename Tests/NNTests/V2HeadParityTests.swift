import Foundation
import NN
import Tensor
import Testing

/// DeepCluster-v2's head and loss against PyTorch (Fixtures/make_v2_head_fixture.py): the projection
/// head, the L2 normalisation, the prototypes of two heads and the tempered cross-entropy — loss,
/// embedding, input gradient and every parameter's gradient.
@Suite struct V2HeadParityTests {
    struct Fixture: Decodable {
        let n: Int; let features: Int; let hidden: Int; let dimension: Int; let heads: [Int]; let temperature: Float
        let values: [String: [Double]]; let labels: [[Int32]]
        let loss: Double; let embedding: [Double]; let input_grad: [Double]; let gradients: [String: [Double]]
    }

    @Test func matchesPyTorch() throws {
        let url = Bundle.module.url(forResource: "v2_head", withExtension: "json", subdirectory: "Fixtures")!
        let f = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        // The same layers the Model stacks for `.prototypes`, each with its own storage.
        let layers: [Layer] = [Linear(name: "projection_head.0", in: f.features, out: f.hidden),
                               BatchNorm(name: "projection_head.1", features: f.hidden, channelMajor: false),
                               ReLU(name: "projection_head.2"),
                               Linear(name: "projection_head.3", in: f.hidden, out: f.dimension),
                               L2Normalize(name: "projection_head.l2"),
                               Linear(name: "prototypes", in: f.dimension, out: f.heads.reduce(0, +), bias: false)]
        var gradients: [String: UnsafeMutableBufferPointer<Float>] = [:]
        var owned: [UnsafeMutableBufferPointer<Float>] = []
        defer { owned.forEach { $0.deallocate() } }
        for layer in layers {
            var s = LayerStorage()
            for spec in layer.parameterSpecs {
                let name = "\(layer.name).\(spec.name)"
                let v = f.values[name]!
                let p = UnsafeMutableBufferPointer<Float>.allocate(capacity: spec.count)
                _ = p.initialize(from: FixtureValues.hashed(spec.count, tag: Int(v[0]), scale: v[1], shift: v[2]))
                let g = UnsafeMutableBufferPointer<Float>.allocate(capacity: spec.count)
                g.initialize(repeating: 0)
                owned += [p, g]
                gradients[name] = g
                s.parameters.append(p.baseAddress!); s.gradients.append(g.baseAddress!)
            }
            for spec in layer.bufferSpecs {
                let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(spec.count, 1))
                b.initialize(repeating: spec.name == "running_var" ? 1 : 0)
                owned.append(b)
                s.buffers.append(b.baseAddress!)
            }
            layer.bind(s)
        }
        let x = Tensor(shape: [f.n, f.features], values: FixtureValues.hashed(f.n * f.features, tag: 1, scale: 2))
        var h = x
        var embedding: [Float] = []
        for layer in layers {
            h = layer.forward(h, mode: .train)
            if layer is L2Normalize { embedding = h.array }
        }
        let g = Tensor(shape: [0])
        let labels = f.labels.flatMap { $0 }
        let loss = labels.withUnsafeBufferPointer {
            PrototypeCrossEntropy.forwardBackward(logits: h, heads: f.heads, temperature: f.temperature, labels: $0, divisor: f.n, gradient: g)
        } / Double(f.n)
        var dy = g
        for layer in layers.reversed() { dy = layer.backward(dy, needInputGradient: true)! }

        #expect(abs(loss - f.loss) / f.loss < 1e-5, "loss \(loss) vs PyTorch \(f.loss)")
        #expect(relativeError(embedding.map(Double.init), f.embedding) < 1e-5)
        #expect(relativeError(dy.array.map(Double.init), f.input_grad) < 1e-4, "input gradient")
        // The bias before BatchNorm has a zero gradient in exact arithmetic (BN removes the mean):
        // errors are measured against the largest gradient of all, not that tensor's rounding noise.
        let largest = f.gradients.values.flatMap { $0 }.map(abs).max()!
        for (name, ref) in f.gradients {
            let ours = Array(gradients[name]!).map(Double.init)
            let worst = zip(ours, ref).map { abs($0 - $1) }.max()!
            #expect(worst / max(ref.map(abs).max()!, 1e-3 * largest) < 1e-4, "\(name): \(worst)")
        }
    }

    @Test func modelStacksTheHeadUnderPyTorchNames() {
        let m = Model(architecture: .fmnistAlexNet, head: .prototypes(hidden: 256, dimension: 128, clusters: [10, 20, 30]))
        let names = m.store.entries.map(\.name)
        for n in ["projection_head.0.weight", "projection_head.1.running_var", "projection_head.3.bias", "prototypes.weight"] {
            #expect(names.contains(n), "\(n)")
        }
        #expect(!names.contains("top_layer.weight") && !names.contains("prototypes.bias"))
        #expect(m.numClasses == 60 && m.embeddingDimension == 128)
        #expect(m.store.entry("prototypes.weight")!.shape == [60, 128])
        // The prototypes are the top range; the clustering feature of the trunk is unchanged.
        #expect(m.topRange.count == 60 * 128)
        #expect(m.featureDimension == 256)
        // setPrototypes writes one head's rows.
        m.setPrototypes(head: 1, centroids: [Float](repeating: 0.5, count: 20 * 128))
        let p = m.store.parameters.baseAddress! + m.topRange.lowerBound
        #expect(p[10 * 128] == 0.5 && p[30 * 128 - 1] == 0.5 && p[10 * 128 - 1] != 0.5 && p[30 * 128] != 0.5)
    }
}
