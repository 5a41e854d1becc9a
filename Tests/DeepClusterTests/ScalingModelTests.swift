import DeepCluster
import Testing

/// The scaling model's arithmetic: collectives cost what their algorithms do, one rank is 100%
/// efficient, a free network keeps weak scaling at 100%, and ranks beyond a node's cores slow it.
@Suite struct ScalingModelTests {
    static let measured = ScalingModel.Measurements(stepSeconds: 0.2, batchPerRank: 64, gradientBytes: 10_000_000, hiddenFraction: 0.5,
                                                    extractSecondsPerImage: 0.0005, kmeansSecondsPerPointPass: 2e-6, k: 100, dimension: 64,
                                                    kmeansIterations: 20, featureDimension: 256)

    static func model(_ network: ScalingModel.Link, cores: Int = 2) -> ScalingModel {
        ScalingModel(measured: measured, nodeLink: ScalingModel.Link(gbps: 80, latencyMicroseconds: 1), network: network,
                     coresPerNode: cores, threadsPerRank: 1, imagesPerRank: 15000, images: 60000)
    }

    @Test func collectivesFollowTheirAlgorithms() {
        let link = ScalingModel.Link(latency: 10e-6, bytesPerSecond: 1e9)
        let m = Self.model(link, cores: 1)
        // Large: ring, 2(R−1)α + 2(R−1)/R · s/β.
        #expect(abs(m.allreduceSeconds(bytes: 8_000_000, ranks: 8) - (14 * 10e-6 + 2 * 7 / 8 * 0.008)) < 1e-12)
        // Small: recursive doubling, ⌈log₂ R⌉ (α + s/β).
        #expect(abs(m.allreduceSeconds(bytes: 1000, ranks: 8) - 3 * (10e-6 + 1e-6)) < 1e-12)
        // Not a power of two: ⌊log₂ 6⌋ + 2 = 4 steps.
        #expect(abs(m.allreduceSeconds(bytes: 1000, ranks: 6) - 4 * (10e-6 + 1e-6)) < 1e-12)
        #expect(m.allreduceSeconds(bytes: 1 << 30, ranks: 1) == 0)
        #expect(abs(m.allgatherSeconds(totalBytes: 4000, ranks: 4) - (3 * 10e-6 + 0.75 * 4e-6)) < 1e-12)
    }

    @Test func oneRankIsWholeAndAFreeNetworkKeepsWeakScaling() {
        let free = Self.model(ScalingModel.Link(latency: 0, bytesPerSecond: .infinity), cores: 1)
        for stage in Self.model(.init(gbps: 10, latencyMicroseconds: 25)).efficiency(ranks: 1).stages {
            #expect(abs(stage.weak - 1) < 1e-9 && abs(stage.strong - 1) < 1e-9, "\(stage.stage)")
        }
        for stage in free.efficiency(ranks: 256).stages {
            #expect(abs(stage.weak - 1) < 1e-9, "\(stage.stage) \(stage.weak)")
        }
    }

    @Test func slowerLinksAndMoreRanksLoseEfficiency() {
        let slow = Self.model(.init(gbps: 1, latencyMicroseconds: 100)), fast = Self.model(.init(gbps: 100, latencyMicroseconds: 5))
        let step = { (m: ScalingModel, r: Int) in m.efficiency(ranks: r).stages.first { $0.stage == "step" }!.weak }
        #expect(step(slow, 16) < step(fast, 16))
        #expect(step(slow, 64) <= step(slow, 16))
        // 10 MB half hidden behind a 0.2 s step over 1 Gbit/s: 2·15/16·0.08 s ÷ 2 exposed ⇒ about 57%,
        // plus the step's 24-byte allreduce of loss and flags (recursive doubling, 4 latencies).
        let summary = 4 * (100e-6 + 24 / 1.25e8)
        #expect(abs(step(slow, 16) - 0.2 / (0.2 + 0.5 * (30 * 100e-6 + 2 * 15 / 16 * 0.08) + summary)) < 1e-9)
        // Four ranks on one two-core node compute at half speed each; spread over nodes, at full speed.
        var one = Self.model(.init(gbps: 10, latencyMicroseconds: 25))
        #expect(one.crowding(4) == 1)
        one.nodes = 1
        #expect(one.crowding(4) == 2 && one.link(4) == one.nodeLink)
    }

    @Test func stepComputeIsAffineInTheBatchWhenTwoBatchesWereMeasured() {
        var m = Self.model(.init(gbps: 10, latencyMicroseconds: 25))
        #expect(abs(m.stepComputeSeconds(batchPerRank: 128) - 0.4) < 1e-12)   // linear without a slope
        m.measured.stepSecondsPerImage = 0.002                                 // 0.2 s at 64: 0.072 s fixed
        #expect(abs(m.stepComputeSeconds(batchPerRank: 256) - (0.2 + 192 * 0.002)) < 1e-12)
        #expect(abs(m.stepComputeSeconds(batchPerRank: 32) - (0.2 - 32 * 0.002)) < 1e-12)
        // Strong scaling of the step then pays the fixed part on every rank: 4 images a rank at 16 ranks
        // cost 0.080 s of compute instead of 0.0125 s.
        let strong = m.efficiency(ranks: 16).stages.first { $0.stage == "step" }!.strong
        var linear = m
        linear.measured.stepSecondsPerImage = nil
        #expect(strong < 0.5 * linear.efficiency(ranks: 16).stages.first { $0.stage == "step" }!.strong)
        #expect(abs(m.stepComputeSeconds(batchPerRank: 4) - 0.08) < 1e-12)
    }

    @Test func aLinkSlowerThanBackwardExposesAllButBackward() {
        var m = Self.model(.init(gbps: 0.1, latencyMicroseconds: 100))
        m.measured.hiddenFraction = 0.9
        let reduce = m.allreduceSeconds(bytes: 10_000_000, ranks: 4)   // about 1.2 s over 100 Mbit/s
        let summary = m.allreduceSeconds(bytes: 24, ranks: 4)
        #expect(abs(m.stepSeconds(batchPerRank: 64, ranks: 4) - (0.2 + 0.1 * reduce + summary)) < 1e-12)
        m.measured.backwardSeconds = 0.12
        // In-place buckets go by libnbc's binomial tree: 2 levels at 4 ranks, 10 MB plus one 1 MiB bucket each.
        let buckets = m.bucketedAllreduceSeconds(bytes: 10_000_000, bucketBytes: 1 << 20, ranks: 4)
        #expect(abs(buckets - (4 * 100e-6 + 2 * Double(10_000_000 + (1 << 20)) / 1.25e7)) < 1e-12)
        #expect(abs(m.stepSeconds(batchPerRank: 64, ranks: 4) - (0.2 + (buckets - 0.12) + summary)) < 1e-12)
    }

    @Test func hostsOnOneMachineShareItsCoresAndEachStageHasItsOwnSlowdown() {
        var m = Self.model(.init(gbps: 1, latencyMicroseconds: 50))
        m.coresPerNode = 1                        // one rank per host
        m.measured.sharedNodeSlowdown = 1.1; m.measured.extractSharedNodeSlowdown = 1.2; m.measured.kmeansSharedNodeSlowdown = 1.3
        #expect(m.crowding(3) == 1 && m.link(3) == m.network)
        m.sharedCores = 2                         // three hosts on a 2-core machine
        #expect(abs(m.crowding(3) - 1.5 * 1.1) < 1e-12)
        #expect(abs(m.crowding(3, .extraction) - 1.5 * 1.2) < 1e-12)
        #expect(abs(m.crowding(2, .kmeans) - 1.3) < 1e-12 && m.crowding(1, .kmeans) == 1)
        #expect(m.link(3) == m.network)
    }
}
