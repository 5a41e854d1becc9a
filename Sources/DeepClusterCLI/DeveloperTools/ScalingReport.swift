import Foundation

/// The figures of a scaling sweep: for each series (a benchmark under weak or strong scaling) its
/// throughput at each rank count and the efficiency throughput(N) / (N × throughput(1)) — for strong
/// scaling that is speedup ÷ N, for weak scaling t(1) / t(N). Written as JSON, Markdown and SVG.
struct ScalingReport {
    /// `value` is the median of `samples` (one a round) when the sweep ran several rounds.
    struct Point: Codable { var ranks: Int; var value: Double; var efficiency: Double?; var seconds: Double?; var samples: [Double]? }
    struct Series: Codable { var name: String; var mode: String; var unit: String; var points: [Point] }
    struct Stage: Codable { var ranks: Int; var total: Double; var extract: Double; var pca: Double; var kmeans: Double; var train: Double }

    var date: String
    var machine: [String: String]
    var threadsPerRank: Int
    var series: [Series] = []
    var allreduce: [[String: Double]] = []
    var epochStages: [Stage] = []

    /// Fills in each series' efficiency against its one-rank point.
    mutating func computeEfficiency() {
        for i in series.indices {
            guard let base = series[i].points.first(where: { $0.ranks == 1 })?.value, base > 0 else { continue }
            for j in series[i].points.indices {
                let p = series[i].points[j]
                series[i].points[j].efficiency = p.value / (Double(p.ranks) * base)
            }
        }
    }

    func json() throws -> Data {
        struct Out: Codable {
            var date: String; var machine: [String: String]; var threads_per_rank: Int
            var series: [Series]; var allreduce: [[String: Double]]; var epoch_stages: [Stage]
        }
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try e.encode(Out(date: date, machine: machine, threads_per_rank: threadsPerRank, series: series,
                                allreduce: allreduce, epoch_stages: epochStages))
    }

    func markdown() -> String {
        let ranks = Array(Set(series.flatMap { $0.points.map(\.ranks) })).sorted()
        var s = "# Scaling, \(date)\n\n"
        s += "Machine: \(machine.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: "; ")). "
        s += "\(threadsPerRank) BLAS thread(s) per rank. Efficiency = throughput(N) / (N × throughput(1)); "
        s += "with several rounds, each figure is the median and [the range] over them.\n\n"
        s += "| series | scaling | unit | " + ranks.map { "\($0) rank\($0 == 1 ? "" : "s")" }.joined(separator: " | ") + " |\n"
        s += "|---|---|---|" + ranks.map { _ in "---|" }.joined() + "\n"
        for x in series {
            s += "| \(x.name) | \(x.mode) | \(x.unit) | "
            s += ranks.map { n in
                guard let p = x.points.first(where: { $0.ranks == n }) else { return "–" }
                func f(_ x: Double) -> String { x >= 100 ? String(format: "%.0f", x) : String(format: "%.3g", x) }
                let v = f(p.value), spread = p.samples.flatMap { $0.count > 1 ? " [\(f($0.min()!))–\(f($0.max()!))]" : nil } ?? ""
                return (p.efficiency.map { v + String(format: " (%.0f%%)", 100 * $0) } ?? v) + spread
            }.joined(separator: " | ") + " |\n"
        }
        if !epochStages.isEmpty {
            s += "\nOne epoch, seconds by stage:\n\n| ranks | total | extract | PCA | k-means | train |\n|---|---|---|---|---|---|\n"
            for e in epochStages {
                s += String(format: "| %d | %.1f | %.1f | %.2f | %.2f | %.1f |\n", e.ranks, e.total, e.extract, e.pca, e.kmeans, e.train)
            }
        }
        if !allreduce.isEmpty {
            s += "\nAllreduce (float32, in place):\n\n| ranks | bytes | seconds | bytes/s |\n|---|---|---|---|\n"
            for a in allreduce {
                s += String(format: "| %.0f | %.0f | %.5f | %.3g |\n", a["ranks"] ?? 0, a["size_bytes"] ?? 0, a["seconds"] ?? 0, a["bytes_per_s"] ?? 0)
            }
        }
        return s
    }

    /// Efficiency against rank count, one line per series, with the 90% goal drawn.
    func svg() -> String {
        let w = 640.0, h = 360.0, left = 50.0, right = 220.0, top = 30.0, bottom = 40.0
        let ranks = Array(Set(series.flatMap { $0.points.map(\.ranks) })).sorted()
        let maxRank = Double(ranks.last ?? 1)
        let maxEff = max(1.1, series.flatMap { $0.points.compactMap(\.efficiency) }.max() ?? 1)
        func x(_ r: Double) -> Double { left + (maxRank > 1 ? (r - 1) / (maxRank - 1) : 0.5) * (w - left - right) }
        func y(_ e: Double) -> Double { top + (1 - e / maxEff) * (h - top - bottom) }
        let colours = ["steelblue", "darkorange", "seagreen", "crimson", "purple", "saddlebrown", "gray", "teal"]
        var s = #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(Int(w))" height="\#(Int(h))" font-family="sans-serif" font-size="11">"#
        s += #"<rect width="100%" height="100%" fill="white"/>"#
        s += #"<text x="\#((w - right + left) / 2)" y="18" text-anchor="middle" font-weight="bold">Scaling efficiency, \#(date)</text>"#
        s += String(format: #"<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="none" stroke="gray"/>"#, left, top, w - left - right, h - top - bottom)
        for e in stride(from: 0.0, through: maxEff, by: 0.25) {
            s += String(format: #"<text x="%.0f" y="%.1f" text-anchor="end">%.0f%%</text>"#, left - 4, y(e) + 4, 100 * e)
        }
        s += String(format: #"<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" stroke="black" stroke-dasharray="4,3"/>"#, left, w - right, y(0.9), y(0.9))
        s += String(format: #"<text x="%.0f" y="%.1f">90%% goal</text>"#, w - right + 4, y(0.9) + 4)
        for r in ranks { s += String(format: #"<text x="%.1f" y="%.0f" text-anchor="middle">%d</text>"#, x(Double(r)), h - bottom + 16, r) }
        s += #"<text x="\#((w - right + left) / 2)" y="\#(h - 6)" text-anchor="middle">ranks</text>"#
        for (i, series) in series.enumerated() {
            let c = colours[i % colours.count]
            let pts = series.points.compactMap { p in p.efficiency.map { (Double(p.ranks), $0) } }
            let path = pts.map { String(format: "%.1f,%.1f", x($0.0), y($0.1)) }.joined(separator: " ")
            s += #"<polyline fill="none" stroke="\#(c)" stroke-width="2" points="\#(path)"/>"#
            for p in pts { s += String(format: #"<circle cx="%.1f" cy="%.1f" r="3" fill="%@"/>"#, x(p.0), y(p.1), c) }
            s += String(format: #"<text x="%.0f" y="%.0f" fill="%@">%@ (%@)</text>"#, w - right + 4, top + 28 + Double(i) * 16, c, series.name, series.mode)
        }
        return s + "</svg>\n"
    }
}
