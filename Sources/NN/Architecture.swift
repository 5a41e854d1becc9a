/// One row of an architecture table.
public enum LayerSpec: Sendable, Equatable {
    case conv(out: Int, kernel: Int, stride: Int, padding: Int)
    case batchNorm
    case relu
    case maxPool(kernel: Int, stride: Int)
    case dropout(Float)
    case linear(out: Int)
}

/// A model as a table that reads like the paper's: `features` and `classifier` blocks whose indices
/// give the PyTorch state_dict names (`features.N.weight`, `classifier.N.bias`), then `top_layer`.
public struct Architecture: Sendable {
    public let name: String
    public let inputChannels: Int
    public let inputSize: Int
    public let sobel: Bool
    public let features: [LayerSpec]
    public let classifier: [LayerSpec]
    /// Defaults DeepCluster uses with this model.
    public let defaultClusters: Int
    public let defaultPCADimension: Int

    /// Width of the classifier's last Linear: the clustering feature.
    public var featureDimension: Int {
        for spec in classifier.reversed() { if case let .linear(out) = spec { return out } }
        preconditionFailure("\(name): no Linear in the classifier")
    }

    /// A copy with every dropout probability set to `p` (tests run with dropout off).
    public func withDropout(_ p: Float) -> Architecture {
        func swap(_ s: [LayerSpec]) -> [LayerSpec] { s.map { if case .dropout = $0 { return .dropout(p) } else { return $0 } } }
        return Architecture(name: name, inputChannels: inputChannels, inputSize: inputSize, sobel: sobel,
                            features: swap(features), classifier: swap(classifier),
                            defaultClusters: defaultClusters, defaultPCADimension: defaultPCADimension)
    }

    /// A copy that feeds the first convolution the image itself (`sobel` false) or its Sobel gradients.
    public func withSobel(_ on: Bool) -> Architecture {
        Architecture(name: name, inputChannels: inputChannels, inputSize: inputSize, sobel: on,
                     features: features, classifier: classifier,
                     defaultClusters: defaultClusters, defaultPCADimension: defaultPCADimension)
    }

    private static func block(_ out: Int, _ k: Int, _ s: Int = 1, _ p: Int = 0) -> [LayerSpec] {
        [.conv(out: out, kernel: k, stride: s, padding: p), .batchNorm, .relu]
    }

    /// DeepCluster's AlexNet sized for 28×28 grey images (../shared/BENCHMARKS.md).
    public static let fmnistAlexNet = Architecture(
        name: "fmnist-alexnet", inputChannels: 1, inputSize: 28, sobel: true,
        features: block(32, 5, 1, 2) + [.maxPool(kernel: 2, stride: 2)]
            + block(64, 5, 1, 2) + [.maxPool(kernel: 2, stride: 2)]
            + block(128, 3, 1, 1) + block(128, 3, 1, 1) + block(64, 3, 1, 1) + [.maxPool(kernel: 2, stride: 2)],
        classifier: [.dropout(0.5), .linear(out: 256), .relu, .dropout(0.5), .linear(out: 256), .relu],
        defaultClusters: 100, defaultPCADimension: 64)

    /// AlexNet for 32×32 images (CIFAR), same shape of network at a quarter of the width of `alexnet`.
    public static let cifarAlexNet = Architecture(
        name: "cifar-alexnet", inputChannels: 3, inputSize: 32, sobel: true,
        features: block(64, 5, 1, 2) + [.maxPool(kernel: 2, stride: 2)]
            + block(128, 5, 1, 2) + [.maxPool(kernel: 2, stride: 2)]
            + block(256, 3, 1, 1) + block(256, 3, 1, 1) + block(128, 3, 1, 1) + [.maxPool(kernel: 2, stride: 2)],
        classifier: [.dropout(0.5), .linear(out: 512), .relu, .dropout(0.5), .linear(out: 512), .relu],
        defaultClusters: 100, defaultPCADimension: 128)

    /// DeepCluster's AlexNet-BN for 224×224 RGB with Sobel (`models/alexnet.py`).
    public static let alexnet = Architecture(
        name: "alexnet", inputChannels: 3, inputSize: 224, sobel: true,
        features: block(96, 11, 4, 2) + [.maxPool(kernel: 3, stride: 2)]
            + block(256, 5, 1, 2) + [.maxPool(kernel: 3, stride: 2)]
            + block(384, 3, 1, 1) + block(384, 3, 1, 1) + block(256, 3, 1, 1) + [.maxPool(kernel: 3, stride: 2)],
        classifier: [.dropout(0.5), .linear(out: 4096), .relu, .dropout(0.5), .linear(out: 4096), .relu],
        defaultClusters: 10000, defaultPCADimension: 256)

    /// DeepCluster's VGG-16-BN (`models/vgg16.py`): one dropout, after the first ReLU.
    public static let vgg16: Architecture = {
        var f: [LayerSpec] = []
        for v in [64, 64, -1, 128, 128, -1, 256, 256, 256, -1, 512, 512, 512, -1, 512, 512, 512, -1] {
            f += v < 0 ? [.maxPool(kernel: 2, stride: 2)] : block(v, 3, 1, 1)
        }
        return Architecture(name: "vgg16", inputChannels: 3, inputSize: 224, sobel: true, features: f,
                            classifier: [.linear(out: 4096), .relu, .dropout(0.5), .linear(out: 4096), .relu],
                            defaultClusters: 10000, defaultPCADimension: 256)
    }()

    public static let all: [Architecture] = [fmnistAlexNet, cifarAlexNet, alexnet, vgg16]

    public static func named(_ name: String) throws -> Architecture {
        guard let a = all.first(where: { $0.name == name }) else {
            throw ModelError.unknownArchitecture(name, known: all.map(\.name))
        }
        return a
    }
}
