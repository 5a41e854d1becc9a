import Tensor

/// How a forward pass behaves: dropout active or not, BatchNorm on batch or running statistics, and
/// whether a backward pass may follow (without one, the model may fold layers and keep no state for it).
public struct Mode: Sendable, Equatable {
    public var dropout: Bool
    public var batchStatistics: Bool
    public var backward: Bool
    public init(dropout: Bool, batchStatistics: Bool, backward: Bool = true) {
        self.dropout = dropout
        self.batchStatistics = batchStatistics
        self.backward = backward
    }
    /// Training as PyTorch's `model.train()`.
    public static let train = Mode(dropout: true, batchStatistics: true)
    /// Inference as `model.eval()` under `torch.no_grad()`: extraction, probes, assignment. (Training
    /// with frozen BatchNorm is `Mode(dropout:batchStatistics: false)`, which keeps its backward.)
    public static let eval = Mode(dropout: false, batchStatistics: false, backward: false)
}

/// How a tensor of the state is initialised.
public enum Initializer: Sendable {
    case normal(std: Double)
    case constant(Float)
    case values([Float])
}

/// One named tensor of a layer's state, named after the PyTorch state_dict key suffix.
public struct TensorSpec: Sendable {
    public let name: String
    public let shape: [Int]
    public let initializer: Initializer
    public var count: Int { shape.reduce(1, *) }
    public init(_ name: String, _ shape: [Int], _ initializer: Initializer) {
        self.name = name; self.shape = shape; self.initializer = initializer
    }
}

/// Where a layer's state lives: pointers into the model's flat buffers, in the order of its specs.
public struct LayerStorage {
    public var parameters: [UnsafeMutablePointer<Float>] = []
    public var gradients: [UnsafeMutablePointer<Float>] = []
    public var buffers: [UnsafeMutablePointer<Float>] = []
    public init() {}
}

/// A layer is a forward and a backward that sit side by side: forward keeps what backward needs;
/// backward accumulates parameter gradients and returns the input gradient.
///
/// Tensors passed in are owned by the caller and stay valid until the matching backward.
/// Returned tensors are owned by the layer and overwritten by its next call.
public protocol Layer: AnyObject {
    /// State-dict prefix, e.g. "features.0".
    var name: String { get }
    /// Trainable tensors (weights, biases, BN affine).
    var parameterSpecs: [TensorSpec] { get }
    /// State that is saved but not trained (BN running statistics, fixed Sobel weights).
    var bufferSpecs: [TensorSpec] { get }
    func bind(_ storage: LayerStorage)
    func outputShape(_ input: [Int]) -> [Int]
    func forward(_ x: Tensor, mode: Mode) -> Tensor
    /// Returns the input gradient, or nil when `needInputGradient` is false.
    func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor?
}

extension Layer {
    public var parameterSpecs: [TensorSpec] { [] }
    public var bufferSpecs: [TensorSpec] { [] }
    public func bind(_ storage: LayerStorage) {}
}

/// Errors a model raises on shapes or names it was not built for.
public enum ModelError: Error, CustomStringConvertible {
    case shape(layer: String, expected: String, got: [Int])
    case unknownArchitecture(String, known: [String])
    case unknownTensor(String)
    case tensorSize(name: String, expected: Int, got: Int)

    public var description: String {
        switch self {
        case let .shape(layer, expected, got): return "\(layer): expected input \(expected), got \(got)"
        case let .unknownArchitecture(a, known): return "unknown architecture '\(a)'; expected one of \(known.joined(separator: ", "))"
        case let .unknownTensor(n): return "state has no tensor named '\(n)'"
        case let .tensorSize(n, e, g): return "tensor '\(n)': expected \(e) values, got \(g)"
        }
    }
}
