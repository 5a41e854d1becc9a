import Clustering
import Collective
import Datasets
import NN
import Tensor

/// DeepCluster's pseudo-labels (`deepcluster/main.py`, ../shared/DESIGN.md steps 1–5): the features
/// of every image extracted on each rank's shard, PCA-whitened with allreduced statistics, clustered
/// by distributed k-means (empty clusters reseeded), the labels shared by allgatherv, and an order
/// drawn uniformly over the clusters, the same on every rank. The top layer is trained on them with
/// cross-entropy.
public final class KMeansLabeler: PseudoLabeler {
    public let loss: any LossFunction = CrossEntropyLoss()
    public let views: [Transforms]
    let trainer: DataParallelTrainer
    let images: any ImageSource
    let recipe: Recipe
    let workers: Int
    /// The epoch's clustering (PCA-whitening and centroids), written into checkpoints so that `assign`
    /// can place new images.
    var clustering: (pca: PCAWhitening, centroids: [Float])?
    /// `--top-layer centroids` or `matched`: the epoch's top layer, made from its clustering.
    public private(set) var topLayerStart: (weights: [Float], bias: [Float])?
    /// The last epoch's pseudo-labels (`--top-layer matched`; a resume reads them from the checkpoint).
    var previousLabels: [Int32]?

    init(trainer: DataParallelTrainer, images: any ImageSource, transforms: Transforms, recipe: Recipe, workers: Int) {
        self.trainer = trainer
        self.images = images
        self.views = [transforms]
        self.recipe = recipe
        self.workers = workers
    }

    public func labels(epoch: Int, record rec: inout EpochRecord) throws -> PseudoLabels {
        let model = trainer.model, communicator = trainer.communicator
        let n = images.count
        let t0 = Timing.now()
        // Every rank extracts with the same BatchNorm statistics.
        try trainer.synchronizeBuffers()
        let shard = Shard.range(count: n, rank: communicator.rank, size: communicator.size)
        let features = try FeatureExtractor.extract(model, images: images, range: shard, batchSize: recipe.batchSize, workers: workers,
                                                    transforms: views[0], afterReLU: recipe.clusterFeature == .postReLU,
                                                    stop: .perChunk("extraction", unit: "batch", count: n, chunk: recipe.batchSize, epoch: epoch, communicator: communicator))
        let t1 = Timing.now()
        let d = model.featureDimension, p = recipe.pcaDim(model.architecture)
        var reduced = [Float](repeating: 0, count: shard.count * p)
        let pca = try PCAWhitening(fitting: features, rows: shard.count, columns: d, dimension: p, epsilon: recipe.pcaEpsilon,
                                   communicator: communicator,
                                   stop: StopPoll.perChunk("pca", unit: "block", count: n, chunk: PCAWhitening.covarianceBlock, epoch: epoch,
                                                          communicator: communicator).closure)
        pca.apply(features, rows: shard.count, into: &reduced)
        let t2 = Timing.now()
        rec.seconds.extract = t1 - t0
        rec.seconds.pca = t2 - t1
        let km = try KMeans(k: model.numClasses, iterations: recipe.kmeansIterations, seed: recipe.seed)
            .run(reduced, rows: shard.count, dimension: p, offset: shard.lowerBound, total: n, stream: epoch, communicator: communicator,
                 stop: StopPoll("k-means", unit: "iteration", polls: recipe.kmeansIterations + 1, epoch: epoch, communicator: communicator).closure)
        clustering = (pca, km.centroids)
        rec.kmeans_objective = km.objectives
        rec.reseeded_clusters = km.repaired
        let all = try communicator.allgatherv(km.assignments)
        topLayerStart = nil
        if recipe.topLayer != .random {
            // What the layer reads, made once (a second copy of the shard's features, only for these options).
            let inputs = topLayerInputs(features)
            switch recipe.topLayer {
            case .random: break
            case .centroids:
                let top = try CentroidTopLayer(inputs: inputs, rows: shard.count, dimension: d, labels: km.assignments,
                                               clusters: model.numClasses, communicator: communicator)
                topLayerStart = (top.weights, top.bias)
            case .matched:
                // The first epoch has no trained layer to carry over: it is drawn as the reference's.
                if let previous = previousLabels, previous.count == n {
                    let current = model.topLayer()
                    topLayerStart = MatchedTopLayer.reorder(weights: current.weights, bias: current.bias,
                                                            matching: MatchedTopLayer.match(previous: previous, current: all, clusters: model.numClasses))
                }
            }
            if let start = topLayerStart {
                rec.top_layer_agreement = try TopLayerAgreement.fraction(weights: start.weights, bias: start.bias, inputs: inputs,
                                                                         rows: shard.count, labels: km.assignments, communicator: communicator)
            }
        }
        previousLabels = all
        return PseudoLabels(heads: 1, count: n, values: all)
    }

    /// What the top layer reads of the extracted features: the classifier's output after its ReLU.
    func topLayerInputs(_ features: [Float]) -> [Float] {
        guard recipe.clusterFeature == .preReLU else { return features }
        return features.map { max($0, 0) }
    }

    public func order(_ labels: PseudoLabels, epoch: Int) -> [Int] {
        UniformClusterSampler.indices(assignments: labels.values, clusters: trainer.model.numClasses, count: labels.count,
                                      seed: recipe.seed, epoch: epoch).indices
    }

    public func willTrain(order: [Int], epoch: Int, from step: Int) throws {}

    public func stepLabels(_ images: ArraySlice<Int>, _ labels: PseudoLabels) -> [Int32] { images.map { labels.values[$0] } }

    public func didStep(_ step: Int, images: ArraySlice<Int>, embedding: Tensor?) {}

    public func checkpointArrays() throws -> [String: (values: [Float], shape: [Int])] {
        guard let (pca, centroids) = clustering else { return [:] }
        return ClusterAssignment.checkpointArrays(pca: pca, centroids: centroids)
    }

    public func resume(from loaded: Checkpoint.Loaded) {
        // A checkpoint written inside an epoch: that epoch's clustering, for the next checkpoint.
        clustering = try? ClusterAssignment.clustering(of: loaded)
        // At an epoch boundary the checkpoint's labels are the last epoch's (inside an epoch, this
        // epoch's: its top layer is already in the checkpoint, and the next epoch's match reads them).
        previousLabels = loaded.assignments
    }
}
