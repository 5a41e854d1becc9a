import Clustering
import Testing

@Suite struct MetricsTests {
    @Test func nmiAndAriMatchScikitLearn() throws {
        for p in try SklearnFixture.load().metrics {
            #expect(abs(ClusterMetrics.nmi(p.a, p.b) - p.nmi) < 1e-9, "NMI \(ClusterMetrics.nmi(p.a, p.b)) vs \(p.nmi)")
            #expect(abs(ClusterMetrics.ari(p.a, p.b) - p.ari) < 1e-9, "ARI \(ClusterMetrics.ari(p.a, p.b)) vs \(p.ari)")
        }
    }

    @Test func closedForms() {
        let a: [Int32] = [0, 0, 1, 1, 2, 2]
        #expect(abs(ClusterMetrics.nmi(a, [5, 5, 7, 7, 9, 9]) - 1) < 1e-12)
        #expect(abs(ClusterMetrics.ari(a, [5, 5, 7, 7, 9, 9]) - 1) < 1e-12)
        #expect(ClusterMetrics.accuracy(labels: a, clusters: [1, 1, 2, 2, 0, 0]) == 1)
        #expect(abs(ClusterMetrics.accuracy(labels: a, clusters: [0, 0, 0, 1, 1, 1]) - 4.0 / 6) < 1e-12)
    }

    @Test func hungarianFindsTheMinimumCost() {
        let cost: [[Double]] = [[4, 1, 3], [2, 0, 5], [3, 2, 2]]
        let m = Hungarian.solve(cost)
        #expect(zip(0..<3, m).map { cost[$0][$1] }.reduce(0, +) == 5)   // 1 + 2 + 2
        #expect(Set(m).count == 3)
    }
}
