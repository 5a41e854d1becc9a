import Tensor

/// Every tensor of a model's state in three flat buffers: trainable parameters, their gradients
/// (same offsets), and non-trained buffers. The optimizer, the allreduce buckets and the checkpoint
/// writer each loop over one array.
public final class ParameterStore {
    public enum Kind: String, Sendable { case parameter, buffer }

    public struct Entry: Sendable {
        public let name: String
        public let kind: Kind
        public let shape: [Int]
        public let offset: Int
        public var count: Int { shape.reduce(1, *) }
    }

    public let parameters: UnsafeMutableBufferPointer<Float>
    public let gradients: UnsafeMutableBufferPointer<Float>
    public let buffers: UnsafeMutableBufferPointer<Float>
    /// In model order: parameters and buffers of each layer as the layer lists them.
    public let entries: [Entry]
    private let index: [String: Int]

    init(layers: [Layer]) {
        var entries: [Entry] = []
        var p = 0, b = 0
        for layer in layers {
            for s in layer.parameterSpecs {
                entries.append(Entry(name: "\(layer.name).\(s.name)", kind: .parameter, shape: s.shape, offset: p))
                p += s.count
            }
            for s in layer.bufferSpecs {
                entries.append(Entry(name: "\(layer.name).\(s.name)", kind: .buffer, shape: s.shape, offset: b))
                b += s.count
            }
        }
        func alloc(_ n: Int) -> UnsafeMutableBufferPointer<Float> {
            let raw = UnsafeMutableRawPointer.allocate(byteCount: max(n, 1) * 4, alignment: 64)
            let ptr = raw.bindMemory(to: Float.self, capacity: max(n, 1))
            ptr.initialize(repeating: 0, count: max(n, 1))
            return UnsafeMutableBufferPointer(start: ptr, count: n)
        }
        parameters = alloc(p)
        gradients = alloc(p)
        buffers = alloc(b)
        self.entries = entries
        index = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.name, $0) })
    }

    deinit {
        parameters.baseAddress?.deallocate()
        gradients.baseAddress?.deallocate()
        buffers.baseAddress?.deallocate()
    }

    /// A store for `layers` (each bound to its part): what a model makes for itself, and what a
    /// stand-alone layer trains with (the linear probe).
    public static func bound(to layers: [Layer]) -> ParameterStore {
        let store = ParameterStore(layers: layers)
        var p = 0, b = 0
        for layer in layers { layer.bind(store.storage(for: layer, parameterOffset: &p, bufferOffset: &b)) }
        return store
    }

    public func entry(_ name: String) -> Entry? { index[name].map { entries[$0] } }

    /// The values of a named tensor (a view into the flat buffer).
    public func values(_ name: String) throws -> UnsafeMutableBufferPointer<Float> {
        guard let e = entry(name) else { throw ModelError.unknownTensor(name) }
        let base = e.kind == .parameter ? parameters.baseAddress! : buffers.baseAddress!
        return UnsafeMutableBufferPointer(start: base + e.offset, count: e.count)
    }

    public func gradient(_ name: String) throws -> UnsafeMutableBufferPointer<Float> {
        guard let e = entry(name), e.kind == .parameter else { throw ModelError.unknownTensor(name) }
        return UnsafeMutableBufferPointer(start: gradients.baseAddress! + e.offset, count: e.count)
    }

    /// Writes `values` into the named tensor, checking its size.
    public func load(_ name: String, _ values: [Float]) throws {
        let dst = try self.values(name)
        guard dst.count == values.count else { throw ModelError.tensorSize(name: name, expected: dst.count, got: values.count) }
        _ = dst.update(from: values)
    }

    func storage(for layer: Layer, parameterOffset: inout Int, bufferOffset: inout Int) -> LayerStorage {
        var s = LayerStorage()
        for spec in layer.parameterSpecs {
            s.parameters.append(parameters.baseAddress! + parameterOffset)
            s.gradients.append(gradients.baseAddress! + parameterOffset)
            parameterOffset += spec.count
        }
        for spec in layer.bufferSpecs {
            s.buffers.append(buffers.baseAddress! + bufferOffset)
            bufferOffset += spec.count
        }
        return s
    }
}
