/// The representations eval and extract read off a network (`--feature`), one row per image.
public enum Representation: String, CaseIterable, Sendable {
    /// The convolutional trunk's last pooled maps, flattened: the classifier's input (576 values for
    /// fmnist-alexnet, 9,216 for AlexNet at 224 px).
    case conv
    /// The classifier's last Linear, before its ReLU: what DeepCluster clusters.
    case trunk
    /// DeepCluster-v2's L2-normalised projection: what its k-means clusters.
    case embedding

    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

extension Model {
    /// The layer whose output is `representation` and its width; nil for `embedding` on a model
    /// without a projection head.
    public func layer(for representation: Representation) -> (index: Int, width: Int)? {
        switch representation {
        case .trunk: return (featureLayer, featureDimension)
        case .embedding: return embeddingLayer.map { ($0, embeddingDimension) }
        case .conv:
            let flatten = layers.firstIndex { $0 is Flatten }!
            var shape = [architecture.inputChannels, 1, architecture.inputSize, architecture.inputSize]
            for layer in layers[...flatten] { shape = layer.outputShape(shape) }
            return (flatten, shape[1])
        }
    }
}
