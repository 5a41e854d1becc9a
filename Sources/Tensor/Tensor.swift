/// Contiguous Float32 storage with a shape, 64-byte aligned.
///
/// Layout convention used throughout the project: image activations are 4-D **(C, N, H, W)** —
/// channel-major over the whole batch — so a convolution's sgemm writes its output directly, and a
/// BatchNorm channel is one contiguous run. Matrix activations are 2-D **(N, F)**, row-major.
/// Only `Flatten` and the model's input stage convert between the two.
///
/// A tensor owns its memory and can be resized; it reallocates only when it must grow, so
/// workspaces sized once per batch shape are reused by every later step.
public final class Tensor {
    public private(set) var shape: [Int]
    public private(set) var count: Int
    public private(set) var data: UnsafeMutablePointer<Float>
    private var capacity: Int

    public init(shape: [Int]) {
        let n = shape.reduce(1, *)
        self.shape = shape
        count = n
        capacity = max(n, 1)
        data = Tensor.allocate(capacity)
        data.initialize(repeating: 0, count: capacity)
    }

    public convenience init(shape: [Int], values: [Float]) {
        self.init(shape: shape)
        precondition(values.count == count, "Tensor(shape: \(shape)) given \(values.count) values")
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    deinit { data.deallocate() }

    private static func allocate(_ n: Int) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer.allocate(byteCount: n * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: n)
    }

    /// Gives the tensor a new shape; contents are unspecified unless the element count is unchanged.
    public func resize(_ newShape: [Int]) {
        let n = newShape.reduce(1, *)
        if n > capacity {
            data.deallocate()
            capacity = n
            data = Tensor.allocate(n)
            data.initialize(repeating: 0, count: n)
        }
        shape = newShape
        count = n
    }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: data, count: count) }
    public var array: [Float] { Array(buffer) }

    public func zero() { data.update(repeating: 0, count: count) }

    public func copy(from other: Tensor) {
        resize(other.shape)
        data.update(from: other.data, count: count)
    }

    public subscript(i: Int) -> Float {
        get { data[i] }
        set { data[i] = newValue }
    }
}
