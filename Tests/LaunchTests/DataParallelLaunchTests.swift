import Foundation
import Testing

/// Data-parallel training is the same computation whatever the number of ranks.
extension LaunchSuites {
@Suite(.enabled(if: Launcher.hasMPI)) struct DataParallelLaunchTests {
    func parameters(_ path: String) throws -> [Float] { try Launcher.float32s(path) }

    @Test func oneStepOnTwoAndThreeRanksEqualsOneRank() throws {
        let dir = Launcher.tempDir()
        var params: [[Float]] = []
        for ranks in [1, 2, 3] {
            let out = "\(dir)/p\(ranks).npy"
            // Global batch 25: shares 13/12 and 9/8/8 — the remainder is spread, not dropped.
            let r = try Launcher.run(["diagnose", "train-steps", "--steps", "1", "--batch-size", "25", "--frozen-bn",
                                      "--no-dropout", "--dump", out], ranks: ranks)
            #expect(r.status == 0, "\(r.stderr)")
            params.append(try parameters(out))
        }
        for p in params.dropFirst() {
            #expect(p.count == params[0].count)
            let scale = params[0].map(abs).max()!
            let worst = zip(p, params[0]).map { abs($0 - $1) }.max()!
            #expect(worst <= 1e-5 * scale, "max |Δ| \(worst)")
        }
        // And the step changed the weights.
        let r0 = try Launcher.run(["diagnose", "train-steps", "--steps", "0", "--dump", "\(dir)/p0.npy"])
        #expect(r0.status == 0)
        #expect(try parameters("\(dir)/p0.npy") != params[0])
    }

    @Test func fiftyStepsKeepRanksBitIdentical() throws {
        let r = try Launcher.run(["diagnose", "train-steps", "--steps", "50", "--batch-size", "8", "--bucket-bytes", "65536"], ranks: 2, timeout: 300)
        #expect(r.status == 0, "\(r.stderr)")
        let j = Launcher.json(r.lines.last ?? "")
        #expect(j["checksum_equal"] as? Bool == true)
        #expect((j["buckets"] as? Int ?? 0) > 1)
        let losses = j["losses"] as? [Double] ?? []
        #expect(losses.count == 50 && losses.allSatisfy { $0.isFinite })
    }

    @Test func aNaNOnOneRankStopsEveryRankInTheSameStep() throws {
        let r = try Launcher.run(["diagnose", "train-steps", "--steps", "6", "--batch-size", "8",
                                  "--inject-nan-rank", "1", "--inject-nan-step", "3"], ranks: 3, timeout: 60)
        #expect(r.status != 0)
        #expect(r.stderr.contains("non-finite loss or gradient at epoch 0, step 3 (on rank 1)"), "\(r.stderr)")
        #expect(!r.stdout.contains("checksum_equal"))
        Thread.sleep(forTimeInterval: 0.5)
        #expect(Launcher.liveProcesses().isEmpty)
    }
}
}
