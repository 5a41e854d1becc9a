import Dispatch
import Tensor

/// A sequential network over one `ParameterStore`, built from an `Architecture` table.
///
/// The flat parameter buffer is laid out in forward order with the top layer last, so backward
/// finishes gradients from the end of the buffer towards its start — the order the gradient
/// reducer launches its buckets in.
public final class Model {
    public let architecture: Architecture
    public let layers: [Layer]
    public let store: ParameterStore
    /// Per layer, the range of its parameters in the flat buffer.
    public let parameterRanges: [Range<Int>]
    /// Index of the layer whose output is the clustering feature (the last Linear before its ReLU).
    public let featureLayer: Int
    /// Range of the top layer's parameters (its own optimizer, re-drawn every epoch; DeepCluster-v2's
    /// prototypes, which k-means sets and training leaves alone).
    public let topRange: Range<Int>
    /// Outputs of the top layer: k, or the sum of the heads' cluster counts.
    public let numClasses: Int
    public let head: Head
    /// Index of the L2-normalised projection (DeepCluster-v2's embedding), nil for the classifier head.
    public let embeddingLayer: Int?

    /// What sits on the trunk (`features` + `classifier`).
    public enum Head: Sendable, Equatable {
        /// DeepCluster's top layer: Linear(feature, k), re-drawn every epoch (`top_layer`).
        case classifier(clusters: Int)
        /// DeepCluster-v2 (`swav/src/resnet50.py:196-217,297-337`): `projection_head` Linear(feature,
        /// hidden)–BatchNorm1d–ReLU–Linear(hidden, dimension), L2-normalised, then `prototypes`: every
        /// head's k-means centroids stacked into one bias-free Linear(dimension, Σ clusters).
        case prototypes(hidden: Int, dimension: Int, clusters: [Int])

        /// Cluster count of each head.
        public var clusters: [Int] {
            switch self {
            case let .classifier(k): return [k]
            case let .prototypes(_, _, c): return c
            }
        }
    }

    public convenience init(architecture: Architecture, numClasses k: Int, seed: UInt64 = 0) {
        self.init(architecture: architecture, head: .classifier(clusters: k), seed: seed)
    }

    public init(architecture: Architecture, head: Head, seed: UInt64 = 0) {
        self.architecture = architecture
        self.head = head
        numClasses = head.clusters.reduce(0, +)
        var layers: [Layer] = []
        var shape = [architecture.inputChannels, 1, architecture.inputSize, architecture.inputSize]
        if architecture.sobel {
            layers += Sobel.layers(inputChannels: architecture.inputChannels)
            shape = layers.last!.outputShape(shape)
        }
        var feature = -1
        func build(_ block: String, _ specs: [LayerSpec]) {
            for (i, spec) in specs.enumerated() {
                let name = "\(block).\(i)"
                let layer: Layer
                switch spec {
                case let .conv(out, k, s, p): layer = Conv2d(name: name, in: shape[0], out: out, kernel: k, stride: s, padding: p)
                case .batchNorm: layer = BatchNorm(name: name, features: shape.count == 4 ? shape[0] : shape[1], channelMajor: shape.count == 4)
                case .relu: layer = ReLU(name: name)
                case let .maxPool(k, s): layer = MaxPool2d(name: name, kernel: k, stride: s)
                case let .dropout(p): layer = Dropout(name: name, p: p)
                case let .linear(out):
                    if shape.count == 4 {
                        let f = Flatten(name: "\(block).flatten")
                        layers.append(f)
                        shape = f.outputShape(shape)
                    }
                    layer = Linear(name: name, in: shape[1], out: out)
                    if block == "classifier" { feature = layers.count }
                }
                layers.append(layer)
                shape = layer.outputShape(shape)
            }
        }
        build("features", architecture.features)
        build("classifier", architecture.classifier)
        var embedding: Int?
        switch head {
        case let .classifier(k):
            layers.append(Linear(name: "top_layer", in: shape[1], out: k))
        case let .prototypes(hidden, dimension, clusters):
            layers += [Linear(name: "projection_head.0", in: shape[1], out: hidden),
                       BatchNorm(name: "projection_head.1", features: hidden, channelMajor: false),
                       ReLU(name: "projection_head.2"),
                       Linear(name: "projection_head.3", in: hidden, out: dimension),
                       L2Normalize(name: "projection_head.l2")]
            embedding = layers.count - 1
            layers.append(Linear(name: "prototypes", in: dimension, out: clusters.reduce(0, +), bias: false))
        }
        embeddingLayer = embedding
        self.layers = layers
        featureLayer = feature
        store = ParameterStore(layers: layers)
        var p = 0, b = 0
        var ranges: [Range<Int>] = []
        for layer in layers {
            let start = p
            layer.bind(store.storage(for: layer, parameterOffset: &p, bufferOffset: &b))
            ranges.append(start..<p)
        }
        parameterRanges = ranges
        topRange = ranges.last!
        initialize(seed: seed)
    }

    public var featureDimension: Int { (layers[featureLayer] as! Linear).outFeatures }

    /// Width of DeepCluster-v2's embedding (0 for the classifier head).
    public var embeddingDimension: Int { (layers.last as! Linear).inFeatures }

    /// Copies head `h`'s centroids (k × embeddingDimension, row-major) into its rows of the prototypes.
    public func setPrototypes(head h: Int, centroids: [Float]) {
        let d = embeddingDimension, before = head.clusters[..<h].reduce(0, +)
        precondition(embeddingLayer != nil && centroids.count == head.clusters[h] * d, "setPrototypes: not a prototype head or wrong size")
        (store.parameters.baseAddress! + topRange.lowerBound + before * d).update(from: centroids, count: centroids.count)
    }
    /// Head `h`'s prototypes (k × embeddingDimension, row-major), as `setPrototypes` wrote them.
    public func prototypes(head h: Int) -> [Float] {
        let d = embeddingDimension, before = head.clusters[..<h].reduce(0, +)
        precondition(embeddingLayer != nil, "prototypes: not a prototype head")
        return Array(UnsafeBufferPointer(start: store.parameters.baseAddress! + topRange.lowerBound + before * d, count: head.clusters[h] * d))
    }
    public var parameterCount: Int { store.parameters.count }

    /// Draws every tensor from its initializer with the (seed, initialization) generator.
    public func initialize(seed: UInt64) {
        var rng = RandomGenerator(seed: seed, purpose: .initialization)
        var p = 0, b = 0
        for layer in layers {
            for s in layer.parameterSpecs { fill(store.parameters.baseAddress! + p, s, &rng); p += s.count }
            for s in layer.bufferSpecs { fill(store.buffers.baseAddress! + b, s, &rng); b += s.count }
        }
    }

    private func fill(_ dst: UnsafeMutablePointer<Float>, _ spec: TensorSpec, _ rng: inout RandomGenerator) {
        switch spec.initializer {
        case let .normal(std): rng.fillNormal(dst, count: spec.count, std: std)
        case let .constant(v): dst.update(repeating: v, count: spec.count)
        case let .values(v): dst.update(from: v, count: spec.count)
        }
    }

    /// Re-draws the top layer: weights N(0, 0.01), bias 0, from the (seed, topLayer, epoch) generator.
    public func resetTopLayer(seed: UInt64, epoch: Int) {
        guard case .classifier = head else { return }
        var rng = RandomGenerator(seed: seed, purpose: .topLayer, epoch)
        let top = layers.last as! Linear
        let w = store.parameters.baseAddress! + topRange.lowerBound
        rng.fillNormal(w, count: top.inFeatures * top.outFeatures, std: 0.01)
        (w + top.inFeatures * top.outFeatures).update(repeating: 0, count: top.outFeatures)
    }

    /// Sets the classifier's top layer: `weights` [out, in] as `Linear` stores them, then `bias`.
    public func setTopLayer(weights: [Float], bias: [Float]) {
        guard case .classifier = head else { preconditionFailure("setTopLayer: not a classifier head") }
        let top = layers.last as! Linear
        precondition(weights.count == top.inFeatures * top.outFeatures && bias.count == top.outFeatures,
                     "setTopLayer: \(weights.count) weights and \(bias.count) biases for a \(top.inFeatures) → \(top.outFeatures) layer")
        let w = store.parameters.baseAddress! + topRange.lowerBound
        w.update(from: weights, count: weights.count)
        (w + weights.count).update(from: bias, count: bias.count)
    }

    /// The classifier's top layer: weights [out, in] as `Linear` stores them, and bias.
    public func topLayer() -> (weights: [Float], bias: [Float]) {
        guard case .classifier = head else { preconditionFailure("topLayer: not a classifier head") }
        let top = layers.last as! Linear
        let w = store.parameters.baseAddress! + topRange.lowerBound, count = top.inFeatures * top.outFeatures
        return (Array(UnsafeBufferPointer(start: w, count: count)), Array(UnsafeBufferPointer(start: w + count, count: top.outFeatures)))
    }

    /// Seeds every dropout layer for one step, so masks depend on (seed, step, rank) only.
    public func seedDropout(seed: UInt64, step: Int, rank: Int) {
        for (i, layer) in layers.enumerated() {
            if let d = layer as? Dropout { d.generator = RandomGenerator(seed: seed &+ UInt64(i), purpose: .dropout, step, rank) }
        }
    }

    /// When set, forward and backward add each layer's seconds here (benchmarks' per-layer split).
    public var profile: LayerProfile?

    /// Runs layers 0...`through` (default: all) on an input of shape (C, N, H, W).
    public func forward(_ x: Tensor, mode: Mode, through last: Int? = nil) -> Tensor {
        forward(x, mode: mode, through: last, keeping: nil).output
    }

    /// Runs every layer and also hands back the output of layer `kept` (DeepCluster-v2's embedding,
    /// which the memory bank stores), valid until the next forward pass.
    public func forward(_ x: Tensor, mode: Mode, keeping kept: Int?) -> (output: Tensor, kept: Tensor?) {
        forward(x, mode: mode, through: nil, keeping: kept)
    }

    /// In inference (`Mode.eval`: running statistics, no backward to follow), a convolution and the
    /// BatchNorm (and ReLU) after it run as one folded convolution
    /// (`Conv2d.forwardFolded`): extraction as inference. Off, every layer runs on its own (the two
    /// agree to float rounding; tests compare them).
    public var foldsForInference = true
    /// Whether the last forward folded layers (no backward may follow it).
    private var lastForwardFolded = false
    /// A BatchNorm and the ReLU after it run as one pass, forward and backward
    /// (`BatchNorm.forward(_:mode:relu:)`), bit for bit what the two give one by one; off, the ReLU
    /// runs on its own (tests compare the two).
    public var fusesBatchNormReLU = true
    /// Per layer, whether the last forward ran this ReLU inside the BatchNorm before it (its backward
    /// is then the BatchNorm's).
    private var fusedIntoBatchNorm: [Bool] = []

    /// The precisions under which inference's trunk — its convolutions (BatchNorm folded, ReLU a post-op)
    /// and max-poolings — runs as one oneDNN chain in NHWC (`InferenceTrunk`): bf16, where it saves a
    /// reorder and a conversion around every convolution. fp32 stays layer by layer, where Winograd is
    /// faster than oneDNN's direct kernels; tests add it to check the chain on any CPU. Empty, or where
    /// oneDNN refuses it, every layer runs on its own (tests compare the two).
    public var trunkPrecisions: Set<Precision> = [.bf16]
    /// Runs `body` with the Linear layers' weights frozen, for inference over many batches (extraction): each
    /// layer converts its weights once into oneDNN's blocked layout (bf16 or fp32) and reads that copy for every
    /// batch, where training converts them, or reads them as stored, per product. `body` must not change the
    /// parameters; the copies are dropped when it returns.
    public func withFrozenWeights<T>(_ body: () throws -> T) rethrows -> T {
        let linears = layers.compactMap { $0 as? Linear }
        for layer in linears { layer.weightsFrozen = true }
        defer { for layer in linears { layer.weightsFrozen = false } }
        return try body()
    }

    /// The trunks planned so far (one per set of layers: extraction's whole trunk, a probe's prefix...).
    private var trunks: [InferenceTrunk] = []
    /// The activations' layout of the last forward: "NHWC" when it ran the oneDNN trunk, else "CNHW".
    public private(set) var lastLayout = "CNHW"

    /// Training's trunks planned so far, and the one the last forward ran (its backward follows it).
    private var trainingTrunks: [TrainingTrunk] = []
    private var lastTrainingTrunk: TrainingTrunk?

    /// The precision a oneDNN trunk would run in: the first convolution's, when it is one of
    /// `trunkPrecisions` (a forward in another — fp32, by default — plans nothing).
    private func trunkPrecision() -> Precision? {
        guard let first = layers.first(where: { $0 is Conv2d }) as? Conv2d else { return nil }
        let precision = first.precision ?? KernelBackend.precision
        return trunkPrecisions.contains(precision) ? precision : nil
    }

    /// Whether every convolution of `layers[..<end]` runs on oneDNN in `precision`.
    private func onOneDNN(through end: Int, precision: Precision) -> Bool {
        layers[..<end].compactMap { $0 as? Conv2d }.allSatisfy {
            ($0.kernels ?? KernelBackend.current) == .onednn && ($0.precision ?? KernelBackend.precision) == precision
        }
    }

    /// The oneDNN trunk for this forward, when it applies: inference, folding on, every convolution of the
    /// plan on oneDNN in one precision of `trunkPrecisions`.
    private func inferenceTrunk(mode: Mode, through end: Int, kept: Int?) -> (trunk: InferenceTrunk, precision: Precision)? {
        guard foldsForInference, !mode.backward, !mode.batchStatistics, let precision = trunkPrecision(),
              let plan = InferenceTrunk.plan(layers, through: end, kept: kept),
              onOneDNN(through: plan.end, precision: precision) else { return nil }
        if let known = trunks.first(where: { $0.sameLayers(as: plan) }) { return (known, precision) }
        trunks.append(plan)
        return (plan, precision)
    }

    /// Training's oneDNN trunk for this forward, when it applies: a backward follows, BatchNorm on batch
    /// statistics, every convolution of the plan on oneDNN in one precision of `trunkPrecisions`.
    private func trainingTrunk(mode: Mode, through end: Int, kept: Int?) -> (trunk: TrainingTrunk, precision: Precision)? {
        guard mode.backward, mode.batchStatistics, let precision = trunkPrecision(),
              let plan = TrainingTrunk.plan(layers, through: end, kept: kept, firstTrainable: firstTrainable),
              onOneDNN(through: plan.end, precision: precision) else { return nil }
        if let known = trainingTrunks.first(where: { $0.sameLayers(as: plan) }) { return (known, precision) }
        trainingTrunks.append(plan)
        return (plan, precision)
    }

    /// The first layer with parameters: no gradient flows below it.
    private var firstTrainable: Int { parameterRanges.firstIndex { !$0.isEmpty } ?? 0 }

    /// Runs the oneDNN trunk that applies to this forward (inference's or training's), when one does and oneDNN
    /// takes the shape: the layer after it and its output.
    private func forwardTrunk(_ x: Tensor, mode: Mode, through end: Int, kept: Int?) -> (end: Int, output: Tensor)? {
        if let (trunk, precision) = inferenceTrunk(mode: mode, through: end, kept: kept), let y = trunk.forward(x, precision: precision) {
            lastForwardFolded = true
            return (trunk.end, y)
        }
        if let (trunk, precision) = trainingTrunk(mode: mode, through: end, kept: kept), let y = trunk.forward(x, precision: precision) {
            lastTrainingTrunk = trunk
            return (trunk.end, y)
        }
        return nil
    }

    private func forward(_ x: Tensor, mode: Mode, through last: Int?, keeping kept: Int?) -> (output: Tensor, kept: Tensor?) {
        var h = x
        var keptOutput: Tensor?
        let end = last ?? layers.count - 1
        lastForwardFolded = false
        lastTrainingTrunk = nil
        lastLayout = "CNHW"
        if fusedIntoBatchNorm.count != layers.count { fusedIntoBatchNorm = [Bool](repeating: false, count: layers.count) }
        for j in fusedIntoBatchNorm.indices { fusedIntoBatchNorm[j] = false }
        var i = 0
        let t0 = profile == nil ? 0 : Timing.now()
        if let (trunkEnd, y) = forwardTrunk(h, mode: mode, through: end, kept: kept) {
            h = y
            i = trunkEnd
            lastLayout = "NHWC"
            if let p = profile { p.forward[0] += Timing.now() - t0 }
            if i - 1 == kept { keptOutput = h }
        }
        while i <= end {
            let t0 = profile == nil ? 0 : Timing.now()
            var next = i + 1
            if let group = foldable(at: i, end: end, mode: mode, kept: kept) {
                h = group.conv.forwardFolded(h, scale: group.affine.scale, shift: group.affine.shift, relu: group.relu)
                next = i + (group.relu ? 3 : 2)
                lastForwardFolded = true
            } else if fusesBatchNormReLU, i + 1 <= end, kept != i, let bn = layers[i] as? BatchNorm, layers[i + 1] is ReLU {
                h = bn.forward(h, mode: mode, relu: true)
                next = i + 2
                fusedIntoBatchNorm[i + 1] = true
            } else {
                h = layers[i].forward(h, mode: mode)
            }
            if let p = profile { p.forward[i] += Timing.now() - t0 }
            if next - 1 == kept { keptOutput = h }
            i = next
        }
        return (h, keptOutput)
    }

    /// Conv2d → BatchNorm (→ ReLU) starting at layer `i`, all within `end`, in inference, with no
    /// kept output inside the group.
    private func foldable(at i: Int, end: Int, mode: Mode, kept: Int?) -> (conv: Conv2d, affine: (scale: [Float], shift: [Float]), relu: Bool)? {
        guard foldsForInference, !mode.backward, !mode.batchStatistics, i + 1 <= end, let conv = layers[i] as? Conv2d,
              let bn = layers[i + 1] as? BatchNorm, bn.followsConvolution, kept != i else { return nil }
        let relu = i + 2 <= end && layers[i + 2] is ReLU && kept != i + 1
        return (conv, bn.inferenceAffine(), relu)
    }

    /// Zeroes the gradient buffer over the rank's threads (AlexNet's is 400 MB).
    public func zeroGradients() {
        guard let g = store.gradients.baseAddress else { return }
        Parallel.forEachChunk(store.gradients.count, minChunk: 1 << 16) { range in
            (g + range.lowerBound).update(repeating: 0, count: range.count)
        }
    }

    /// Back-propagates `dy` through every layer; `layerDone(i)` is called as soon as layer i's
    /// parameter gradients are final (in reverse order).
    public func backward(_ dy: Tensor, layerDone: ((Int) -> Void)? = nil) {
        precondition(!lastForwardFolded, "Model.backward after an inference forward (Mode.eval), which folded BatchNorm into the convolutions")
        var g = dy
        let firstTrainable = self.firstTrainable
        for i in stride(from: layers.count - 1, through: 0, by: -1) {
            let need = i > firstTrainable
            let t0 = profile == nil ? 0 : Timing.now()
            if let trunk = lastTrainingTrunk, i < trunk.end {
                trunk.backward(g, firstTrainable: firstTrainable, layerDone: layerDone)
                if let p = profile { p.backward[0] += Timing.now() - t0 }
                break
            }
            if !(i < fusedIntoBatchNorm.count && fusedIntoBatchNorm[i]), let next = layers[i].backward(g, needInputGradient: need) { g = next }
            if let p = profile { p.backward[i] += Timing.now() - t0 }
            layerDone?(i)
            if !need { break }
        }
    }

    /// Runs this model's convolutions on `backend` whatever the process-wide choice (nil: follow it).
    public func useKernels(_ backend: KernelBackend?) {
        for layer in layers {
            (layer as? Conv2d)?.kernels = backend
            (layer as? Linear)?.kernels = backend
        }
    }

    /// Runs this model's convolutions and Linear layers in `precision` whatever the process-wide choice (nil: follow it).
    public func usePrecision(_ precision: Precision?) {
        for layer in layers {
            (layer as? Conv2d)?.precision = precision
            (layer as? Linear)?.precision = precision
        }
    }

    /// Forward floating-point operations per image (convolutions and linear layers).
    public func forwardFlopsPerImage() -> Double {
        var shape = [architecture.inputChannels, 1, architecture.inputSize, architecture.inputSize]
        var flops = 0.0
        for layer in layers {
            if let c = layer as? Conv2d { flops += c.forwardFlops(shape) }
            if let l = layer as? Linear { flops += l.forwardFlops(shape) }
            shape = layer.outputShape(shape)
        }
        return flops
    }
}

/// Seconds per layer, forward and backward, accumulated over calls.
public final class LayerProfile {
    public var forward: [Double]
    public var backward: [Double]
    public init(layers: Int) {
        forward = [Double](repeating: 0, count: layers)
        backward = [Double](repeating: 0, count: layers)
    }
}
