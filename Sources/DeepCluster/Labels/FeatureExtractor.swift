import Datasets
import NN
import Tensor

/// Runs the model in eval mode over a range of images, no augmentation, and keeps the clustering
/// feature: the output of the classifier's last Linear, before its ReLU (as the reference does), or
/// after it (`afterReLU`, what the PyTorch peer clusters).
/// Memory is bounded by the shard: rows × feature dimension floats. `workers` threads decode the next
/// batches while the model runs.
public enum FeatureExtractor {
    public static func extract(_ model: Model, images: any ImageSource, range: Range<Int>, batchSize: Int, workers: Int = 1,
                               transforms: Transforms, afterReLU: Bool = false, stop: StopPoll? = nil) throws -> [Float] {
        try extract(model, images: images, range: range, batchSize: batchSize, workers: workers, transforms: transforms,
                    through: model.featureLayer + (afterReLU ? 1 : 0), dimension: model.featureDimension, stop: stop)
    }

    /// The output of layer `through` (width `dimension`), e.g. DeepCluster-v2's embedding. `stop` is
    /// checked after every batch (its `polls` the batches of the smallest shard).
    public static func extract(_ model: Model, images: any ImageSource, range: Range<Int>, batchSize: Int, workers: Int = 1,
                               transforms: Transforms, through layer: Int, dimension d: Int, stop: StopPoll? = nil) throws -> [Float] {
        var out = [Float](repeating: 0, count: range.count * d)
        let all = Array(range)
        let loader = Prefetcher(batches: (all.count + batchSize - 1) / batchSize, workers: workers) { i, tensor in
            let lo = i * batchSize
            try transforms.batch(images, indices: all[lo..<min(lo + batchSize, all.count)], augment: false, seed: 0, epoch: 0, into: tensor)
        }
        defer { loader.finish() }
        var start = 0
        // The weights stay put over the pass: the Linear layers convert theirs once.
        try model.withFrozenWeights {
            while start < all.count {
                let end = min(start + batchSize, all.count)
                let input = try loader.next()
                let f = model.forward(input, mode: .eval, through: layer)
                out.withUnsafeMutableBufferPointer { o in
                    (o.baseAddress! + start * d).update(from: f.data, count: (end - start) * d)
                }
                start = end
                try stop?.check()
            }
        }
        return out
    }
}
