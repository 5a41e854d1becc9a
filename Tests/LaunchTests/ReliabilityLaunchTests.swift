import Foundation
import Testing

/// Findings of the second reliability pass that a user meets at start-up or in eval.
extension LaunchSuites {
@Suite(.enabled(if: Launcher.hasMPI)) struct ReliabilityLaunchTests {
    func npy(_ bytes: [UInt8], dtype: String, shape: [Int]) -> Data {
        let s = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(dtype)', 'fortran_order': False, 'shape': \(s), }"
        header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
        var d = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)])
        d.append(contentsOf: Array(header.utf8)); d.append(contentsOf: bytes)
        return d
    }

    /// Labels 1…3 (as STL-10's 1…10) are three classes: eval clusters into k = 3, not 4.
    @Test func evalCountsDistinctLabelsNotTheLargestPlusOne() throws {
        let dir = Launcher.tempDir(), n = 60
        var pixels: [UInt8] = [], labels: [UInt8] = []
        for i in 0..<n {
            let c = i % 3
            labels.append(UInt8(c + 1))
            pixels += (0..<784).map { UInt8((($0 / 28 + c * 9) % 28 < 10 ? 200 : 20) &+ UInt8(($0 * 7 + i) % 13)) }
        }
        FileManager.default.createFile(atPath: "\(dir)/x.npy", contents: npy(pixels, dtype: "|u1", shape: [n, 28, 28]))
        FileManager.default.createFile(atPath: "\(dir)/y.npy", contents: npy(labels, dtype: "|u1", shape: [n]))
        let t = try Launcher.run(["train", "--data", "\(dir)/x.npy", "--epochs", "1", "--clusters", "3", "--batch-size", "20",
                                  "--pca-dim", "8", "--kmeans-iters", "3", "--checkpoint-dir", "\(dir)/ck", "--quiet"], timeout: 120)
        #expect(t.status == 0, "\(t.stderr)")
        let e = try Launcher.run(["eval", "--checkpoint", "\(dir)/ck", "--data", "\(dir)/x.npy", "--labels", "\(dir)/y.npy", "--probe-epochs", "1",
                                  "--kmeans-restarts", "1", "--pca-dim", "8", "--umap-neighbours", "0", "--json"], ranks: 2, timeout: 120)
        #expect(e.status == 0, "\(e.stderr)")
        let j = Launcher.json(e.lines.last ?? "")
        #expect(j["classes"] as? Int == 3, "\(e.stdout)")
    }

    /// A memory bank too large for MPI_Gatherv's Int32 displacements is refused at start-up, in one
    /// line, not at the first checkpoint after a whole epoch.
    @Test func aMemoryBankTooLargeToGatherIsRefusedAtStartUp() throws {
        let r = try Launcher.run(["train", "--method", "deepcluster-v2", "--embedding-dim", "65536", "--epochs", "1", "--quiet"], ranks: 2, timeout: 60)
        let lines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("deepcluster") }
        #expect(r.status != 0 && r.seconds < 30 && lines.count == 1 && lines[0].contains("more than a checkpoint can gather"), "\(r.stderr)")
    }
}
}
