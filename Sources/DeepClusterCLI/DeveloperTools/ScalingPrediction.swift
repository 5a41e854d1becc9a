import ArgumentParser
import DeepCluster
import Foundation

/// `bench scaling --predict`: measures on this node what `ScalingModel` needs (one short job each),
/// predicts every stage's efficiency at the asked rank counts over the given network, and sets the
/// prediction beside every point the sweep measured here (this node's own link).
struct ScalingPrediction {
    var model: ScalingModel
    var counts: [Int]

    /// The five measurements, each through `launch(ranks, benchArguments)`.
    static func measure(steps: Int, threads: Int, launch: (Int, [String]) throws -> [[String: Any]]) throws -> (ScalingModel.Measurements, ScalingModel.Link) {
        let t = ["--threads", "\(threads)", "--json"]
        func first(_ lines: [[String: Any]], _ bench: String) throws -> [String: Any] {
            guard let j = lines.first(where: { $0["bench"] as? String == bench }) else { throw ValidationError("scaling: no \(bench) figures") }
            return j
        }
        func number(_ j: [String: Any], _ key: String) throws -> Double {
            guard let v = j[key] as? Double ?? (j[key] as? Int).map(Double.init) else { throw ValidationError("scaling: no \(key) in \(j)") }
            return v
        }
        let one = try first(launch(1, ["step", "--batch-size", "64", "--steps", "\(steps)"] + t), "step")
        let two = try first(launch(2, ["step", "--batch-size", "128", "--steps", "\(steps)"] + t), "step")
        let extract = try first(launch(1, ["extract", "--batch-size", "256", "--steps", "\(steps)"] + t), "extract")
        let cluster = try first(launch(1, ["cluster", "--points", "60000", "--dim", "64", "--input-dim", "256", "--k", "100",
                                           "--iterations", "20"] + t), "cluster")
        let sizes = [262_144, 4_194_304]   // floats: 1 MiB and 16 MiB
        let reduce = try launch(2, ["allreduce", "--sizes"] + sizes.map(String.init) + ["--reps", "10"] + t)
            .filter { $0["bench"] as? String == "allreduce" }
        guard reduce.count == 2 else { throw ValidationError("scaling: bench allreduce gave \(reduce.count) sizes") }
        // Two ranks, ring: T = 2α + s/β.
        let s0 = try number(reduce[0], "size_bytes"), t0 = try number(reduce[0], "seconds")
        let s1 = try number(reduce[1], "size_bytes"), t1 = try number(reduce[1], "seconds")
        let beta = max((s1 - s0) / max(t1 - t0, 1e-9), 1)
        let node = ScalingModel.Link(latency: max(0, (t0 - s0 / beta) / 2), bytesPerSecond: beta)
        var m = ScalingModel.Measurements(
            stepSeconds: try number(one, "step_seconds"), batchPerRank: 64, gradientBytes: Int(try number(one, "gradient_bytes")),
            hiddenFraction: two["hidden_fraction"] as? Double ?? 0, extractSecondsPerImage: 1 / (try number(extract, "images_per_s")),
            kmeansSecondsPerPointPass: try number(cluster, "kmeans_seconds") / (60000 * 21), k: 100, dimension: 64, kmeansIterations: 20,
            featureDimension: 256)
        // The 2-rank step's compute (its time less the exposed part of its allreduce) against the 1-rank step's.
        let exposed = (1 - m.hiddenFraction) * ScalingModel(measured: m, nodeLink: node, network: node, coresPerNode: 2, threadsPerRank: 1,
                                                            imagesPerRank: 1, images: 1).allreduceSeconds(bytes: m.gradientBytes, ranks: 2)
        m.sharedNodeSlowdown = max(1, (try number(two, "step_seconds") - exposed) / m.stepSeconds)
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
                "shared_node_slowdown": m.sharedNodeSlowdown,
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
            case "extraction, 256 images/rank": return Double(r) / (m.extractSecondsPerImage * local.crowding(r))
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
