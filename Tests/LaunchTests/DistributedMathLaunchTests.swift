import Foundation
import Testing

/// The distributed pieces give the same answers on 1, 2 and 3 ranks.
extension LaunchSuites {
@Suite(.enabled(if: Launcher.hasMPI)) struct DistributedMathLaunchTests {
    func kmeans(_ ranks: Int, _ extra: [String] = []) throws -> [String: Any] {
        let r = try Launcher.run(["diagnose", "kmeans"] + extra, ranks: ranks)
        #expect(r.status == 0, "\(r.stderr)")
        return Launcher.json(r.lines.last ?? "")
    }

    @Test func kmeansIsTheSameOnOneTwoAndThreeRanks() throws {
        let args = ["--points", "3000", "--dim", "8", "--clusters", "5", "--blobs", "5"]
        let runs = try [1, 2, 3].map { try kmeans($0, args) }
        let a0 = runs[0]["assignments"] as? [Int] ?? []
        let o0 = runs[0]["objectives"] as? [Double] ?? []
        let c0 = runs[0]["centroids"] as? [Double] ?? []
        #expect(c0.count == 5 * 8)
        for r in runs {
            #expect(r["assignments"] as? [Int] ?? [] == a0)
            #expect(r["centroids_equal_on_all_ranks"] as? Bool ?? false)
            // The same centroids whatever the rank count, to float rounding (sums are reduced in double).
            let c = r["centroids"] as? [Double] ?? []
            #expect(c.count == c0.count && zip(c, c0).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) }, "\(c) vs \(c0)")
            for (x, y) in zip(r["objectives"] as? [Double] ?? [], o0) { #expect(abs(x - y) <= 1e-5 * y) }
        }
        // Well-separated blobs: the objective falls to the within-blob scatter (N·D·0.5²) or a local
        // optimum that merges blobs — either way every rank count must agree, checked above.
        #expect(o0.last! < o0.first!)
    }

    @Test func repairOfEmptyClustersIsIdenticalOnEveryRank() throws {
        // 600 points but only 7 distinct ones, k = 12: clusters empty out and are split every iteration.
        let args = ["--points", "600", "--dim", "4", "--clusters", "12", "--blobs", "3", "--distinct", "7", "--iterations", "6"]
        let runs = try [1, 2, 3].map { try kmeans($0, args) }
        for r in runs {
            #expect((r["repaired"] as? Int ?? -1) > 0)
            #expect(r["centroids_equal_on_all_ranks"] as? Bool ?? false)
            #expect(r["assignments"] as? [Int] ?? [] == runs[0]["assignments"] as? [Int] ?? [])
            #expect(r["repaired"] as? Int ?? -1 == runs[0]["repaired"] as? Int ?? -1)
        }
    }

    /// The manifold clustering's pieces over ranks: the exact neighbours, the graph and the k-means++
    /// seeds do not depend on the rank count; the layout does (each rank moves its own edges' ends
    /// within an epoch), but on every count it must still recover well-separated blobs.
    @Test func manifoldClusteringPiecesAgreeOnOneTwoAndThreeRanks() throws {
        let runs = try [1, 2, 3].map { ranks -> [String: Any] in
            let r = try Launcher.run(["diagnose", "manifold"], ranks: ranks)
            #expect(r.status == 0, "\(r.stderr)")
            return Launcher.json(r.lines.last ?? "")
        }
        let first = runs[0]
        #expect((first["neighbours"] as? [Int] ?? []).count == 1500 * 8)
        for r in runs {
            for key in ["neighbours", "graph_heads", "graph_tails", "kmeans_plus_plus"] {
                #expect(r[key] as? [Int] ?? [] == first[key] as? [Int] ?? [-1], "\(key)")
            }
            let w = r["graph_weights"] as? [Double] ?? [], w0 = first["graph_weights"] as? [Double] ?? []
            #expect(w.count == w0.count && zip(w, w0).allSatisfy { abs($0 - $1) <= 1e-5 })
            #expect((r["nmi"] as? Double ?? 0) > 0.999)
        }
    }

    @Test func whiteningOverTwoRanksGivesIdentityCovariance() throws {
        let r = try Launcher.run(["diagnose", "pca"], ranks: 2)
        #expect(r.status == 0, "\(r.stderr)")
        let worst = Launcher.json(r.lines.last ?? "")["max_abs_cov_minus_identity"] as? Double ?? 1
        #expect(worst < 1e-3)
    }

    /// bench cluster: each rank makes its own shard of the same synthetic points, so 1 and 3 ranks
    /// cluster the same array to the same objective; the figures the scale table quotes are there.
    @Test func benchClusterIsTheSameProblemOnAnyRankCount() throws {
        var objectives: [Double] = []
        for ranks in [1, 3] {
            let r = try Launcher.run(["bench", "cluster", "--json", "--points", "3000", "--dim", "16", "--input-dim", "32",
                                      "--k", "30", "--iterations", "4"], ranks: ranks)
            #expect(r.status == 0, "\(r.stderr)")
            let j = Launcher.json(r.lines.last ?? "")
            #expect(j["ranks"] as? Int == ranks && j["points"] as? Int == 3000 && j["k"] as? Int == 30)
            #expect((j["seconds_per_iteration"] as? Double ?? 0) > 0 && (j["peak_rss_bytes"] as? Int ?? 0) > 1 << 20)
            objectives.append(j["objective"] as? Double ?? .nan)
        }
        #expect(abs(objectives[0] - objectives[1]) <= 1e-4 * abs(objectives[0]), "\(objectives)")
        let bad = try Launcher.run(["bench", "cluster", "--points", "10", "--k", "20"])
        #expect(bad.status != 0 && bad.stderr.contains("--k"))
    }

    /// bench scaling --predict-only measures what the model needs on this node and writes each
    /// stage's predicted efficiency per rank count, and which stage stops scaling first.
    @Test func scalingPredictionNamesEveryStage() throws {
        let dir = Launcher.tempDir()
        let r = try Launcher.run(["bench", "scaling", "--predict", "16,256", "--predict-only", "--steps", "2", "--out", dir,
                                  "--network", "25gbe"], timeout: 300)
        #expect(r.status == 0, "\(r.stderr)")
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/prediction.json"))
        let j = (try JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        let predictions = j["predictions"] as? [[String: Any]] ?? []
        #expect(predictions.map { $0["ranks"] as? Int } == [16, 256])
        for p in predictions {
            let stages = p["predicted_efficiency"] as? [String: [String: Double]] ?? [:]
            #expect(Set(stages.keys) == ["step", "extraction", "kmeans", "epoch"], "\(p)")
            #expect(stages.values.allSatisfy { ($0["weak"] ?? -1) > 0 && ($0["weak"] ?? 2) <= 1.000001 && ($0["strong"] ?? -1) > 0 })
        }
        #expect((j["verdict"] as? String ?? "").contains("Largest rank count"))
        #expect(r.stdout.contains("Predicted efficiency over 25gbe"))
        // The step's cost per extra image (steps at 64 and 256 images) and backward's seconds were measured.
        #expect((j["step_seconds_per_image"] as? Double ?? 0) > 0 && (j["backward_seconds"] as? Double ?? 0) > 0, "\(j)")
        #expect((j["extract_shared_node_slowdown"] as? Double ?? 0) >= 1 && (j["kmeans_shared_node_slowdown"] as? Double ?? 0) >= 1)
        let noLink = try Launcher.run(["bench", "scaling", "--predict", "3", "--network-sweep"])
        #expect(noLink.status != 0 && noLink.stderr.contains("--link-gbps"))
        let noRounds = try Launcher.run(["bench", "scaling", "--repeats", "0"])
        #expect(noRounds.status != 0 && noRounds.stderr.contains("--repeats"))
        let badNetwork = try Launcher.run(["bench", "scaling", "--predict", "16", "--network", "token-ring"])
        #expect(badNetwork.status != 0 && badNetwork.stderr.contains("--network"))
    }
}
}
