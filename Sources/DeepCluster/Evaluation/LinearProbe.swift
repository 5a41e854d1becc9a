import Collective
import Datasets
import NN
import Tensor

/// The reference's linear evaluation (`eval_linear.py`), for small images: the frozen model in eval
/// mode, the activations after the ReLU of one conv layer, average-pooled when they are large, and
/// one Linear layer trained with labels by SGD (momentum 0.9) — data-parallel over the ranks on
/// features computed once — then top-1 accuracy on the test split.
public struct LinearProbe {
    public var layer = 5
    public var epochs = 10
    public var learningRate: Float = 0.01
    public var weightDecay: Float = 1e-4
    public var batchSize = 256
    public var seed: UInt64 = 0
    /// Pool activations down to at most this many dimensions.
    public var maxDimension = 4096

    public init() {}

    /// Index of the ReLU that follows conv `layer` (1-based, counting convolutions in `features`).
    public static func reluIndex(_ model: Model, conv layer: Int) throws -> Int {
        var convs = 0
        for (i, l) in model.layers.enumerated() {
            if l is Conv2d && l.name.hasPrefix("features.") { convs += 1 }
            if convs == layer && l is ReLU { return i }
        }
        throw TrainingError.invalidConfiguration("--probe-layer conv\(layer): the model has \(convs) convolutions")
    }

    /// Frozen features of images `range` (pooled, flattened to (n, dim)).
    public func features(_ model: Model, images: any ImageSource, range: Range<Int>, transforms: Transforms) throws -> (values: [Float], dim: Int) {
        let at = try LinearProbe.reluIndex(model, conv: layer)
        let input = Tensor(shape: [0])
        var pool: AvgPool2d?
        let side = transforms.size ?? images.uniformSize?.height ?? model.architecture.inputSize
        var shape = [images.channels, 1, side, side]
        for l in model.layers[0...at] { shape = l.outputShape(shape) }
        var dim = shape[0] * shape[2] * shape[3]
        var k = 1
        while dim > maxDimension { k += 1; dim = shape[0] * (shape[2] / k) * (shape[3] / k) }
        if k > 1 { pool = AvgPool2d(name: "probe.pool", kernel: k, stride: k) }
        let flatten = Flatten(name: "probe.flatten")
        var out = [Float]()
        out.reserveCapacity(range.count * dim)
        let all = Array(range)
        var start = 0
        while start < all.count {
            let end = min(start + batchSize, all.count)
            try transforms.batch(images, indices: all[start..<end], augment: false, seed: 0, epoch: 0, into: input)
            var h = model.forward(input, mode: .eval, through: at)
            if let p = pool { h = p.forward(h, mode: .eval) }
            let f = flatten.forward(h, mode: .eval)
            out.append(contentsOf: UnsafeBufferPointer(start: f.data, count: f.count))
            start = end
        }
        return (out, dim)
    }

    /// Trains the probe on this rank's (features, labels) share and returns the global test top-1.
    public func run(train: [Float], trainLabels: [Int32], trainTotal: Int, test: [Float], testLabels: [Int32],
                    dim: Int, classes: Int, communicator comm: Communicator) throws -> Double {
        let linear = Linear(name: "probe", in: dim, out: classes)
        let store = ParameterStore.bound(to: [linear])
        var rng = RandomGenerator(seed: seed, purpose: .probe)
        let weights = try store.values("probe.weight"), bias = try store.values("probe.bias")
        for i in 0..<weights.count { weights[i] = Float(rng.normal() * 0.01) }
        bias.update(repeating: 0)
        try comm.broadcast(store.parameters, root: 0)
        let optimizer = SGD(range: 0..<store.parameters.count, learningRate: learningRate, momentum: 0.9, weightDecay: weightDecay)
        let rows = trainLabels.count
        let x = Tensor(shape: [0]), g = Tensor(shape: [0])
        let steps = (trainTotal + batchSize - 1) / batchSize
        let gr = store.gradients
        for epoch in 0..<epochs {
            // Each rank shuffles its own rows; a step takes an equal share from each rank.
            var order = Array(0..<rows)
            var r = RandomGenerator(seed: seed, purpose: .probe, epoch, comm.rank)
            r.shuffle(&order)
            for step in 0..<steps {
                let lo = min(rows, step * rows / steps), hi = min(rows, (step + 1) * rows / steps)
                let idx = order[lo..<hi]
                x.resize([idx.count, dim])
                for (b, i) in idx.enumerated() { (x.data + b * dim).update(from: train.withUnsafeBufferPointer { $0.baseAddress! + i * dim }, count: dim) }
                gr.update(repeating: 0)
                let globalCount = try comm.allreduce(Int64(idx.count), op: .sum)
                if !idx.isEmpty {
                    let logits = linear.forward(x, mode: .eval)
                    let y = idx.map { trainLabels[$0] }
                    _ = y.withUnsafeBufferPointer { CrossEntropy.forwardBackward(logits: logits, labels: $0, divisor: Int(globalCount), gradient: g) }
                    _ = linear.backward(g, needInputGradient: false)
                }
                try comm.allreduce(gr, op: .sum)
                optimizer.step(parameters: store.parameters, gradients: gr)
            }
        }
        // Top-1 on this rank's test share, summed over ranks.
        var correct: Int64 = 0
        let n = testLabels.count
        var start = 0
        while start < n {
            let end = min(n, start + 1024)
            x.resize([end - start, dim])
            test.withUnsafeBufferPointer { x.data.update(from: $0.baseAddress! + start * dim, count: (end - start) * dim) }
            let logits = linear.forward(x, mode: .eval)
            for i in 0..<(end - start) {
                var best = 0
                for c in 1..<classes where logits[i * classes + c] > logits[i * classes + best] { best = c }
                if Int32(best) == testLabels[start + i] { correct += 1 }
            }
            start = end
        }
        let totalCorrect = try comm.allreduce(correct, op: .sum)
        let totalTest = try comm.allreduce(Int64(testLabels.count), op: .sum)
        return Double(totalCorrect) / Double(max(totalTest, 1))
    }
}
