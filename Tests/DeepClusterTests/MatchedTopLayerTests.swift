@testable import DeepCluster
import Testing

/// `--top-layer matched`: the previous epoch's rows go to the new clusters they overlap most.
@Suite struct MatchedTopLayerTests {
    @Test func renumberedClustersGetTheirOldRows() {
        // The same three clusters, numbered 2, 0, 1 this epoch, with one image moved.
        let previous: [Int32] = [0, 0, 0, 1, 1, 1, 2, 2, 2]
        let current: [Int32] = [2, 2, 2, 0, 0, 1, 1, 1, 1]
        let matching = MatchedTopLayer.match(previous: previous, current: current, clusters: 3)
        #expect(matching == [1, 2, 0])   // new 0 was old 1, new 1 old 2, new 2 old 0
        let weights: [Float] = [0, 0, 1, 1, 2, 2]   // row j filled with j (d = 2)
        let (w, b) = MatchedTopLayer.reorder(weights: weights, bias: [10, 11, 12], matching: matching)
        #expect(w == [1, 1, 2, 2, 0, 0] && b == [11, 12, 10])
    }

    @Test func theMatchingIsOneToOneWhenClustersSplit() {
        // Old cluster 0 splits into new 0 and 1; old 1 becomes new 2: each old row is used once.
        let previous: [Int32] = [0, 0, 0, 0, 1, 1, 2]
        let current: [Int32] = [0, 0, 1, 1, 2, 2, 1]
        let matching = MatchedTopLayer.match(previous: previous, current: current, clusters: 3)
        #expect(Set(matching) == [0, 1, 2] && matching[2] == 1)
    }
}
