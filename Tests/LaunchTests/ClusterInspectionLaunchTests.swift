import Foundation
import Testing

/// What the clusters are, on 2 ranks: `assign` places images among a checkpoint's clusters (the same
/// files on 1 and 2 ranks), `gallery` pictures every cluster, `--knn-every` and `--tensorboard` report
/// while training; and each one's user errors end in one line.
extension LaunchSuites {
@Suite(.enabled(if: Launcher.hasMPI)) struct ClusterInspectionLaunchTests {
    func npy(_ path: String) throws -> (shape: [Int], data: Data) {
        let d = try Data(contentsOf: URL(fileURLWithPath: path))
        let headerLength = Int(d[8]) | Int(d[9]) << 8
        let header = String(decoding: d[10..<(10 + headerLength)], as: UTF8.self)
        let shapeText = header.components(separatedBy: "'shape': (")[1].components(separatedBy: ")")[0]
        return (shapeText.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }, d[(10 + headerLength)...])
    }

    func int64s(_ data: Data) -> [Int64] { data.withUnsafeBytes { Array($0.bindMemory(to: Int64.self)) } }

    func oneErrorLine(_ r: Launcher.Result, _ parts: [String]) {
        let lines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("deepcluster") }
        #expect(r.status != 0 && lines.count == 1 && parts.allSatisfy { lines.first?.contains($0) == true }, "\(r.stderr)")
    }

    @Test func deepClusterAssignGalleryKNNAndTensorBoard() throws {
        let dir = Launcher.tempDir()
        let t = try Launcher.run(["train", "--limit", "600", "--epochs", "2", "--clusters", "12", "--batch-size", "100", "--pca-dim", "16",
                                  "--checkpoint-dir", "\(dir)/ck", "--metrics", "\(dir)/m.jsonl", "--knn-every", "1",
                                  "--tensorboard", "\(dir)/tb", "--quiet"], ranks: 2, timeout: 300)
        #expect(t.status == 0, "\(t.stderr)")
        // The k-NN monitor: every epoch, well above chance (10 classes) even for a barely trained network.
        let records = try String(contentsOfFile: "\(dir)/m.jsonl", encoding: .utf8).split(separator: "\n").map { Launcher.json(String($0)) }
        #expect(records.count == 2 && records.allSatisfy { ($0["knn_top1"] as? Double ?? 0) > 0.3 && ($0["knn_top1"] as? Double ?? 1) <= 1 }, "\(records)")
        // TensorBoard: one event file that opens with the version record (byte-exactness: TensorBoardEventsTests).
        let events = try FileManager.default.contentsOfDirectory(atPath: "\(dir)/tb").filter { $0.hasPrefix("events.out.tfevents.") }
        #expect(events.count == 1)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/tb/\(events[0])"))
        #expect(bytes.count > 300 && String(decoding: bytes.prefix(64), as: UTF8.self).contains("brain.Event:2"))
        // assign on 2 ranks and on 1: the same answers; most training images keep their cluster. (To
        // rounding: each rank extracts its own batches, and oneDNN may take another kernel for another
        // batch size — on AVX2 it does — so a score may differ in its last bits, and a cluster only
        // where the runner-up is as close to rounding.)
        let a2 = try Launcher.run(["assign", "--checkpoint", "\(dir)/ck", "--limit", "600", "--out", "\(dir)/a2"], ranks: 2, timeout: 120)
        let a1 = try Launcher.run(["assign", "--checkpoint", "\(dir)/ck", "--limit", "600", "--out", "\(dir)/a1"], ranks: 1, timeout: 120)
        #expect(a2.status == 0 && a1.status == 0, "\(a2.stderr)\(a1.stderr)")
        for name in ["scores.npy", "runner_up_scores.npy"] {
            let two = try Launcher.float32s("\(dir)/a2/\(name)"), one = try Launcher.float32s("\(dir)/a1/\(name)")
            #expect(two.count == 600 && Launcher.largestDifference(two, one) < 1e-4, "\(name): \(Launcher.largestDifference(two, one))")
        }
        let scores = try Launcher.float32s("\(dir)/a1/scores.npy"), runnerUp = try Launcher.float32s("\(dir)/a1/runner_up_scores.npy")
        for name in ["assignments.npy", "runner_up.npy"] {
            let two = int64s(try npy("\(dir)/a2/\(name)").data), one = int64s(try npy("\(dir)/a1/\(name)").data)
            let differing = (0..<600).filter { two[$0] != one[$0] && abs(scores[$0] - runnerUp[$0]) > 1e-4 }
            #expect(two.count == 600 && differing.isEmpty, "\(name): images \(differing) change cluster with the rank count")
        }
        let assigned = try npy("\(dir)/a2/assignments.npy"), saved = try npy("\(dir)/ck/epoch-0002/assignments.npy")
        #expect(assigned.shape == [600])
        let same = zip(int64s(assigned.data), int64s(saved.data)).filter { $0 == $1 }.count
        #expect(same > 300, "\(same) of 600 training images keep the checkpoint's cluster")
        let csv = try String(contentsOfFile: "\(dir)/a2/assignments.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 601 && csv[0] == "image,cluster,distance,runner_up,runner_up_distance")
        // gallery: a sheet per non-empty cluster and the index, majority label and purity shown.
        let g = try Launcher.run(["gallery", "--checkpoint", "\(dir)/ck", "--limit", "600", "--out", "\(dir)/g", "--columns", "4"], ranks: 2, timeout: 120)
        #expect(g.status == 0 && g.stdout.contains("\(dir)/g/index.html"), "\(g.stderr)")
        let sheets = try FileManager.default.contentsOfDirectory(atPath: "\(dir)/g/sheets").filter { $0.hasSuffix(".png") }
        let html = try String(contentsOfFile: "\(dir)/g/index.html", encoding: .utf8)
        #expect(sheets.count >= 6 && sheets.count <= 12 && html.contains("purity") && (html.contains("Trouser") || html.contains("Sneaker")))
        #expect(sheets.allSatisfy { html.contains("sheets/\($0)") })
        // eval --knn: the same classifier on eval's features, the probe's images as the bank.
        let e = try Launcher.run(["eval", "--checkpoint", "\(dir)/ck", "--limit", "600", "--test-limit", "300", "--probe-epochs", "1",
                                  "--kmeans-restarts", "1", "--umap-neighbours", "0", "--knn", "--json"], ranks: 2, timeout: 180)
        let ej = Launcher.json(e.lines.last ?? "")
        #expect(e.status == 0 && (ej["knn_top1"] as? Double ?? 0) > 0.3, "\(e.stdout)\(e.stderr)")
        // One line each: more clusters than exist; images of another channel count.
        oneErrorLine(try Launcher.run(["gallery", "--checkpoint", "\(dir)/ck", "--out", "\(dir)/g2", "--largest", "13"], ranks: 2, timeout: 60),
                     ["--largest 13", "12"])
        let cifar = "\(dir)/cifar.bin"
        FileManager.default.createFile(atPath: cifar, contents: Data((0..<20).flatMap { i in [UInt8(i % 10)] + [UInt8](repeating: 7, count: 3072) }))
        oneErrorLine(try Launcher.run(["assign", "--checkpoint", "\(dir)/ck", "--data", cifar, "--out", "\(dir)/a3"], ranks: 2, timeout: 60),
                     ["3 channel(s)", "fmnist-alexnet takes 1"])
        // A checkpoint from before this change (no PCA, no centroids): which checkpoint lacks what, and how to get it.
        let old = "\(dir)/ck/epoch-0002"
        var state = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(old)/state.json"))) as! [String: Any]
        var crcs = state["crc32"] as! [String: Any]
        for name in ["pca_mean.npy", "pca_projection.npy", "pca_eigenvalues.npy", "centroids.npy"] {
            crcs.removeValue(forKey: name); try FileManager.default.removeItem(atPath: "\(old)/\(name)")
        }
        state["crc32"] = crcs
        try JSONSerialization.data(withJSONObject: state).write(to: URL(fileURLWithPath: "\(old)/state.json"))
        try Data("ok\n".utf8).write(to: URL(fileURLWithPath: "\(old)/COMPLETE"))   // the older marker, without state.json's CRC
        oneErrorLine(try Launcher.run(["assign", "--checkpoint", old, "--out", "\(dir)/a4"], ranks: 2, timeout: 60),
                     [old, "holds no clustering", "centroids.npy", "--resume"])
        Thread.sleep(forTimeInterval: 0.5)
        #expect(Launcher.liveProcesses().isEmpty)
    }

    @Test func deepClusterV2AssignsEveryHead() throws {
        let dir = Launcher.tempDir()
        let t = try Launcher.run(["train", "--method", "deepcluster-v2", "--heads", "2", "--limit", "400", "--epochs", "2", "--clusters", "10",
                                  "--batch-size", "100", "--checkpoint-dir", "\(dir)/ck", "--quiet"], ranks: 2, timeout: 300)
        #expect(t.status == 0, "\(t.stderr)")
        let a = try Launcher.run(["assign", "--checkpoint", "\(dir)/ck", "--limit", "400", "--out", "\(dir)/a"], ranks: 2, timeout: 120)
        #expect(a.status == 0 && a.stdout.contains("highest-scoring prototype of 2 head(s)"), "\(a.stderr)")
        let assigned = try npy("\(dir)/a/assignments.npy"), scores = try npy("\(dir)/a/scores.npy")
        #expect(assigned.shape == [2, 400] && scores.shape == [2, 400])
        #expect(int64s(assigned.data).allSatisfy { $0 >= 0 && $0 < 10 })
        let csv = try String(contentsOfFile: "\(dir)/a/assignments.csv", encoding: .utf8)
        #expect(csv.hasPrefix("image,cluster,similarity,runner_up,runner_up_similarity\n"))
        let g = try Launcher.run(["gallery", "--checkpoint", "\(dir)/ck", "--limit", "400", "--out", "\(dir)/g"], ranks: 2, timeout: 120)
        #expect(g.status == 0 && FileManager.default.fileExists(atPath: "\(dir)/g/index.html"), "\(g.stderr)")
    }
}
}
