/// An epoch's pseudo-labels: one row of `count` labels per head, head-major (DeepCluster has one
/// head; DeepCluster-v2 one per set of prototypes). A label of −100 marks an image without one.
public struct PseudoLabels: Sendable, Equatable {
    public let heads: Int
    public let count: Int
    /// heads × count, row h holding head h's label of every image.
    public let values: [Int32]

    public init(heads: Int, count: Int, values: [Int32]) {
        precondition(values.count == heads * count, "PseudoLabels: \(values.count) values for \(heads) heads of \(count)")
        self.heads = heads; self.count = count; self.values = values
    }

    /// Labels as a checkpoint stored them (assignments.npy: heads × count, flat), or nil when they do
    /// not cover `count` images of `heads` heads.
    public init?(saved: [Int32], heads: Int, count: Int) {
        guard saved.count == heads * count else { return nil }
        self.init(heads: heads, count: count, values: saved)
    }

    public func label(head h: Int, image i: Int) -> Int32 { values[h * count + i] }

    /// Head `h`'s row.
    public func head(_ h: Int) -> [Int32] { Array(values[(h * count)..<((h + 1) * count)]) }

    /// The row the epoch's figures follow.
    public var first: [Int32] { head(0) }
}
