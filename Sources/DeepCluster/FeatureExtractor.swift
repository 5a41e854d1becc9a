import Datasets
import NN
import Tensor

/// Runs the model in eval mode over a range of images, no augmentation, and keeps the clustering
/// feature: the output of the classifier's last Linear, before its ReLU (as the reference does), or
/// after it (`afterReLU`, what the PyTorch peer clusters).
/// Memory is bounded by the shard: rows × feature dimension floats.
public enum FeatureExtractor {
    public static func extract(_ model: Model, images: ImageSet, range: Range<Int>, batchSize: Int,
                               transforms: Transforms, afterReLU: Bool = false) -> [Float] {
        let d = model.featureDimension
        var out = [Float](repeating: 0, count: range.count * d)
        let input = Tensor(shape: [0])
        let all = Array(range)
        var start = 0
        while start < all.count {
            let end = min(start + batchSize, all.count)
            transforms.batch(images, indices: all[start..<end], augment: false, seed: 0, epoch: 0, into: input)
            let f = model.forward(input, mode: .eval, through: model.featureLayer + (afterReLU ? 1 : 0))
            out.withUnsafeMutableBufferPointer { o in
                (o.baseAddress! + start * d).update(from: f.data, count: (end - start) * d)
            }
            start = end
        }
        return out
    }
}
