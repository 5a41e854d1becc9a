import ArgumentParser
import DeepCluster
import Foundation

/// `bench scaling --predict`: measures on this node what `ScalingModel` needs (one short job each),
/// predicts every stage's efficiency at the asked rank counts over the given network, and sets the
/// prediction beside every point the sweep measured here (this node's own link).
struct ScalingPrediction {
    var model: ScalingModel
    var counts: [Int]

    /// The short jobs whose figures the model needs: (name, ranks, bench arguments).
    static func runs(steps: Int, threads: Int) -> [(name: String, ranks: Int, args: [String])] {
        let t = ["--threads", "\(threads)", "--json"]
        let cluster = ["cluster", "--points", "60000", "--dim", "64", "--input-dim", "256", "--k", "100", "--iterations", "20"] + t
        return [
            ("step 64", 1, ["step", "--batch-size", "64", "--steps", "\(steps)"] + t),
            ("step 256", 1, ["step", "--batch-size", "256", "--steps", "\(steps)"] + t),
            ("step 2x64", 2, ["step", "--batch-size", "128", "--steps", "\(steps)"] + t),
            ("extract", 1, ["extract", "--batch-size", "256", "--steps", "\(steps)"] + t),
            ("extract 2", 2, ["extract", "--batch-size", "256", "--steps", "\(steps)"] + t),
            ("cluster", 1, cluster),
            ("cluster 2", 2, cluster),
            ("allreduce", 2, ["allreduce", "--sizes", "262144", "4194304", "--reps", "10"] + t),   // 256 KiB and 4 MiB
        ]
    }

    /// Runs every job of `runs` `repeats` times, round after round (so that a slow spell of a shared
    /// machine touches every figure alike), and keeps each figure's median over the rounds. The result
    /// maps a run's name (allreduce's two sizes as "allreduce 0" and "allreduce 1") to its figures.
    static func measure(steps: Int, threads: Int, repeats: Int, launch: (Int, [String]) throws -> [[String: Any]]) throws -> [String: [String: Double]] {
        var rounds: [String: [[String: Double]]] = [:]
        for _ in 0..<max(1, repeats) {
            for run in runs(steps: steps, threads: threads) {
                let bench = run.args[0]
                let lines = try launch(run.ranks, run.args).filter { $0["bench"] as? String == bench }
                guard !lines.isEmpty else { throw ValidationError("scaling: no \(bench) figures from `bench \(run.args.joined(separator: " "))`") }
                for (i, line) in lines.enumerated() {
                    let name = bench == "allreduce" ? "allreduce \(i)" : run.name
                    rounds[name, default: []].append(line.compactMapValues { $0 as? Double ?? ($0 as? Int).map(Double.init) })
                }
            }
        }
        return rounds.mapValues(medianFigures)
    }

    /// The median of each figure over rounds.
    static func medianFigures(_ rounds: [[String: Double]]) -> [String: Double] {
        var out: [String: Double] = [:]
        for key in Set(rounds.flatMap(\.keys)) { out[key] = rounds.compactMap { $0[key] }.median }
        return out
    }

    /// What `ScalingModel` takes from the figures of `measure`, and this node's own link.
    static func model(from figures: [String: [String: Double]]) throws -> (ScalingModel.Measurements, ScalingModel.Link) {
        func number(_ run: String, _ key: String) throws -> Double {
            guard let v = figures[run]?[key] else { throw ValidationError("scaling: no \(key) in the figures of \(run)") }
            return v
        }
        // Two ranks, ring: T = 2α + s/β.
        let s0 = try number("allreduce 0", "size_bytes"), t0 = try number("allreduce 0", "seconds")
        let s1 = try number("allreduce 1", "size_bytes"), t1 = try number("allreduce 1", "seconds")
        let beta = max((s1 - s0) / max(t1 - t0, 1e-9), 1)
        let node = ScalingModel.Link(latency: max(0, (t0 - s0 / beta) / 2), bytesPerSecond: beta)
        let step64 = try number("step 64", "step_seconds"), step256 = try number("step 256", "step_seconds")
        let clusterSeconds = try number("cluster", "kmeans_seconds")
        var m = ScalingModel.Measurements(
            stepSeconds: step64, batchPerRank: 64, gradientBytes: Int(try number("step 64", "gradient_bytes")),
            hiddenFraction: figures["step 2x64"]?["hidden_fraction"] ?? 0, extractSecondsPerImage: 1 / (try number("extract", "images_per_s")),
            kmeansSecondsPerPointPass: clusterSeconds / (60000 * 21), k: 100, dimension: 64, kmeansIterations: 20,
            featureDimension: 256)
        m.stepSecondsPerImage = (step256 - step64) / 192
        m.backwardSeconds = figures["step 64"]?["backward_seconds"]
        let local = ScalingModel(measured: m, nodeLink: node, network: node, coresPerNode: 2, threadsPerRank: 1, imagesPerRank: 1, images: 1)
        // The 2-rank step's compute (its time less the exposed part of its allreduce) against the 1-rank step's.
        let exposed = (1 - m.hiddenFraction) * local.allreduceSeconds(bytes: m.gradientBytes, ranks: 2)
        m.sharedNodeSlowdown = max(1, (try number("step 2x64", "step_seconds") - exposed) / step64)
        // Extraction: 256 images on each of 2 ranks against 256 on one (no communication but the timing).
        m.extractSharedNodeSlowdown = max(1, 2 * (try number("extract", "images_per_s")) / (try number("extract 2", "images_per_s")))
        // k-means: 30,000 points on each of 2 ranks (less the per-iteration allreduce) against 60,000 on one, per point.
        let reduce = local.allreduceSeconds(bytes: 8 * (m.k + m.k * m.dimension + 1), ranks: 2) * Double(m.kmeansIterations)
        m.kmeansSharedNodeSlowdown = max(1, 2 * (try number("cluster 2", "kmeans_seconds") - reduce) / clusterSeconds)
        return (m, node)
    }

    /// Each stage's efficiency at each count, as a table, plus which stage stops scaling first.
    func markdown(networkName: String) -> String {
        let rows = counts.map { model.efficiency(ranks: $0) }
        var s = "## Predicted efficiency over \(networkName)\n\n"
        s += "| ranks | " + ScalingModel.stageNames.map { "\($0) weak | \($0) strong" }.joined(separator: " | ") + " |\n"
        s += "|---|" + ScalingModel.stageNames.map { _ in "---|---|" }.joined() + "\n"
        for e in rows {
            s += "| \(e.ranks) | " + e.stages.map { String(format: "%.0f%% | %.0f%%", 100 * $0.weak, 100 * $0.strong) }.joined(separator: " | ") + " |\n"
        }
        s += "\n" + verdict() + "\n"
        return s
    }

    /// The stage whose weak efficiency first drops below 90%, why, and the largest count that keeps the
    /// epoch at ≥ 90% weak efficiency (searched over powers of two up to 65,536).
    func verdict() -> String {
        var largest = 1, first: (stage: String, ranks: Int)?
        var r = 2
        while r <= 65536 {
            let e = model.efficiency(ranks: r)
            if first == nil, let low = e.stages.filter({ $0.stage != "epoch" }).first(where: { $0.weak < 0.9 }) { first = (low.stage, r) }
            if (e.stages.first { $0.stage == "epoch" }?.weak ?? 0) >= 0.9 { largest = r }
            r *= 2
        }
        let m = model.measured
        let why: [String: String] = [
            "step": String(format: "the gradient allreduce (%.1f MB, %.0f%% hidden) outgrows the %.0f ms step", Double(m.gradientBytes) / 1e6, 100 * m.hiddenFraction, 1000 * m.stepSeconds),
            "kmeans": String(format: "the per-iteration allreduce of counts and sums (%.2f MB) and its 2(R−1) latencies outgrow the per-rank assignment", Double(8 * (m.k + m.k * m.dimension + 1)) / 1e6),
            "extraction": "the allgather of the pseudo-labels outgrows the per-rank forward pass",
        ]
        var s = "Largest rank count with the epoch at ≥ 90% weak efficiency: \(largest)."
        if let f = first { s += " First below 90% weak: \(f.stage) at \(f.ranks) ranks — \(why[f.stage] ?? "")." }
        return s
    }

    func json(networkName: String) -> [String: Any] {
        var predicted: [[String: Any]] = []
        for n in counts {
            let e = model.efficiency(ranks: n)
            var stages: [String: Any] = [:]
            for x in e.stages { stages[x.stage] = ["weak": x.weak, "strong": x.strong] }
            predicted.append(["ranks": n, "predicted_efficiency": stages])
        }
        let m = model.measured
        return ["network": networkName, "link_gbps": model.network.bytesPerSecond * 8 / 1e9, "link_latency_us": model.network.latency * 1e6,
                "node_link_gbps": model.nodeLink.bytesPerSecond * 8 / 1e9, "node_link_latency_us": model.nodeLink.latency * 1e6,
                "step_seconds": m.stepSeconds, "gradient_bytes": m.gradientBytes, "hidden_fraction": m.hiddenFraction,
                "shared_node_slowdown": m.sharedNodeSlowdown, "extract_shared_node_slowdown": m.extractSharedNodeSlowdown,
                "kmeans_shared_node_slowdown": m.kmeansSharedNodeSlowdown, "step_seconds_per_image": m.stepSecondsPerImage ?? 0,
                "backward_seconds": m.backwardSeconds ?? 0,
                "extract_seconds_per_image": m.extractSecondsPerImage, "kmeans_seconds_per_point_pass": m.kmeansSecondsPerPointPass,
                "predictions": predicted, "verdict": verdict()]
    }

    /// The efficiency the model predicts for each swept series here beside the efficiency measured
    /// (each series against its own one-rank point, so run-to-run drift of the machine between the
    /// sweep and the model's own measurements cancels), and the predicted throughput.
    static func check(_ series: [ScalingReport.Series], local: ScalingModel) -> (markdown: String, worst: Double) {
        func predicted(_ name: String, _ r: Int) -> Double? {
            let m = local.measured
            switch name {
            case "training step, 64 images/rank": return Double(64 * r) / local.stepSeconds(batchPerRank: 64, ranks: r)
            case "training step, batch 256": return 256 / local.stepSeconds(batchPerRank: 256 / Double(r), ranks: r)
            case "extraction, 256 images/rank": return Double(r) / (m.extractSecondsPerImage * local.crowding(r, .extraction))
            case "k-means k=100, 60,000 points": return 60000 / local.kmeansSeconds(points: 60000, ranks: r)
            case "k-means k=100, 15,000 points/rank": return Double(15000 * r) / local.kmeansSeconds(points: 15000 * r, ranks: r)
            default: return nil
            }
        }
        var s = "## Predicted beside measured on this node\n\n"
        s += "| series | ranks | measured | efficiency measured | efficiency predicted | difference |\n|---|---|---|---|---|---|\n"
        var worst = 0.0
        for x in series {
            guard let base = x.points.first(where: { $0.ranks == 1 })?.value, let base1 = predicted(x.name, 1) else { continue }
            for p in x.points where p.ranks > 1 {
                guard let v = predicted(x.name, p.ranks) else { continue }
                let measured = p.value / (Double(p.ranks) * base), model = v / (Double(p.ranks) * base1)
                let difference = model / measured - 1
                worst = max(worst, abs(difference))
                s += String(format: "| %@ (%@) | %d | %.0f %@ | %.0f%% | %.0f%% | %+.0f%% |\n", x.name, x.mode, p.ranks, p.value, x.unit,
                            100 * measured, 100 * model, 100 * difference)
            }
        }
        return (s, worst)
    }
}
