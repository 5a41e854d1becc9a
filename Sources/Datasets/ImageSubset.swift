import Tensor

/// Some images of another source, in the order of `indices`: a held-out part of a dataset without a
/// test split, say. Labels, sizes and locations are the base's.
public struct ImageSubset: ImageSource {
    public let base: any ImageSource
    public let indices: [Int]

    public init(_ base: any ImageSource, indices: [Int]) {
        precondition(indices.allSatisfy { $0 >= 0 && $0 < base.count }, "ImageSubset: an index outside the base's \(base.count) images")
        self.base = base
        self.indices = indices
    }

    public var count: Int { indices.count }
    public var channels: Int { base.channels }
    public var labels: [Int32]? { base.labels.map { all in indices.map { all[$0] } } }
    public var uniformSize: (height: Int, width: Int)? { base.uniformSize }
    public var kind: String { base.kind }

    public func withImage<R>(_ index: Int, _ body: (UnsafePointer<UInt8>, Int, Int) throws -> R) throws -> R {
        try base.withImage(indices[index], body)
    }

    public func limited(to n: Int) -> any ImageSource { ImageSubset(base, indices: Array(indices.prefix(n))) }
    public func location(_ index: Int) -> String { base.location(indices[index]) }
    public func check(_ index: Int, decode: Bool) -> String? { base.check(indices[index], decode: decode) }
    public var listingProblems: [(location: String, reason: String)] { base.listingProblems }

    public func fingerprint() -> UInt64 {
        var f = Fingerprint()
        f.add([base.fingerprint()])
        f.add(indices.map { Int64($0) })
        return f.value
    }

    /// A seeded split of `count` images into a held-out part of `fraction` (at least one image, and at
    /// least one left to train on) and the rest, each in ascending order.
    public static func holdOut(count: Int, fraction: Double, seed: UInt64) -> (train: [Int], heldOut: [Int]) {
        var order = Array(0..<count)
        var generator = RandomGenerator(seed: seed, purpose: .probe, -1)
        generator.shuffle(&order)
        let held = min(max(1, Int((Double(count) * fraction).rounded())), count - 1)
        return (order[held...].sorted(), order[..<held].sorted())
    }
}
