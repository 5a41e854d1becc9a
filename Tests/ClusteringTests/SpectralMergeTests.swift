import Clustering
import Foundation
import Tensor
import Testing

@Suite struct SpectralMergeTests {
    /// Three chains of centroids, each a slow walk from one axis towards another: neighbours along a
    /// chain are close, the chains' ends are far apart. Every chain must come back as one group.
    func chains(_ perChain: Int, dimension d: Int) -> (centroids: [Float], truth: [Int]) {
        var c: [Float] = [], truth: [Int] = []
        var rng = RandomGenerator(seed: 7, purpose: .kmeansInit, 0)
        for g in 0..<3 {
            for t in 0..<perChain {
                let a = Float(t) / Float(perChain - 1) * .pi / 2
                var v = [Float](repeating: 0, count: d)
                v[2 * g] = cos(a); v[2 * g + 1] = sin(a)
                for j in 0..<d { v[j] += 0.01 * (Float(rng.next() % 1000) / 1000 - 0.5) }
                c += v; truth.append(g)
            }
        }
        return (c, truth)
    }

    @Test func chainsOfCentroidsComeBackWhole() throws {
        let (c, truth) = chains(40, dimension: 6)
        let groups = try SpectralMerge.groups(centroids: c, count: truth.count, dimension: 6, classes: 3, seed: 0)
        #expect(groups.count == truth.count)
        for g in 0..<3 {
            let members = Set(truth.indices.filter { truth[$0] == g }.map { groups[$0] })
            #expect(members.count == 1, "chain \(g) split into groups \(members)")
        }
        #expect(Set(groups).count == 3)
        // The same centroids give the same groups.
        #expect(try SpectralMerge.groups(centroids: c, count: truth.count, dimension: 6, classes: 3, seed: 0) == groups)
    }

    @Test func tooFewCentroidsIsAnError() {
        #expect(throws: ClusteringError.self) {
            try SpectralMerge.groups(centroids: [1, 0, 0, 1], count: 2, dimension: 2, classes: 3, seed: 0)
        }
    }
}
