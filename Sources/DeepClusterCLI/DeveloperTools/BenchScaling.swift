import ArgumentParser
import DeepCluster
import Foundation

/// The scaling sweep of ../shared/BENCHMARKS.md: for each rank count, `mpirun -np N deepcluster bench …`
/// under weak scaling (fixed work per rank) and strong scaling (fixed total work), then one report —
/// scaling.json, scaling.md and scaling.svg — with each series' efficiency. Runs outside mpirun: it
/// starts the jobs itself, one after another.
struct BenchScaling: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "scaling",
        abstract: "Sweep rank counts over the benchmarks (weak and strong scaling) and write scaling.json, .md and .svg.")
    @Option(help: "Rank counts, comma-separated (default: 1,2,4).") var ranks = "1,2,4"
    @Option(help: "BLAS threads per rank, the same at every rank count (default: 1).") var threads = 1
    @Option(help: "Output directory (default: benchmarks/results/scaling).") var out = "benchmarks/results/scaling"
    @Option(help: "The mpirun command and its options; -np N and the benchmark follow (default: mpirun --oversubscribe --bind-to none).")
    var mpirun = "mpirun --oversubscribe --bind-to none"
    @Option(name: .customLong("epoch-images"), help: "Images of the one-epoch benchmark, 0 to skip it (default: 10000).") var epochImages = 10000
    @Option(help: "Timed steps of the step and extraction benchmarks (default: 10).") var steps = 10
    @Option(help: "What the report says the machine is (default: hostname, CPU model and cores).") var machine: String?
    @Option(help: "Also predict each stage's efficiency at these rank counts, e.g. 16,64,256,1024, from measurements on this node (see ScalingModel).") var predict: String?
    @Flag(name: .customLong("predict-only"), help: "With --predict: measure what the model needs and predict, without the sweep.") var predictOnly = false
    @Option(help: "The network between nodes for --predict: \(ScalingModel.Link.presets.map(\.name).joined(separator: ", ")) (default: 10gbe), unless --link-gbps is given.") var network = "10gbe"
    @Option(name: .customLong("link-gbps"), help: "The network's bandwidth in Gbit/s (overrides --network).") var linkGbps: Double?
    @Option(name: .customLong("link-latency-us"), help: "The network's latency in µs (with --link-gbps; default 25).") var linkLatencyUs = 25.0
    @Option(name: .customLong("cores-per-node"), help: "Cores of each node for --predict (default: this machine's).") var coresPerNode: Int?
    @Option(help: "Rounds of the sweep (and of --predict's measurements), one rank count after another in each; every figure is the median over the rounds (default: 1).")
    var repeats = 1
    @Option(name: .customLong("measure-mpirun"), help: "The mpirun command for --predict's measurements on this node (default: the --mpirun command; with --network-sweep, mpirun --oversubscribe --bind-to none).")
    var measureMpirun: String?
    @Flag(name: .customLong("network-sweep"), help: "The sweep's --mpirun puts each rank on its own host over the network given by --link-gbps and --link-latency-us, the hosts sharing this machine's cores (Launch/netns-cluster.sh): check the prediction for that network.")
    var networkSweep = false

    func run() throws {
        let counts = ranks.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !counts.isEmpty, counts.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--ranks takes counts like 1,2,4") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let date = ISO8601DateFormatter().string(from: Date())
        var report = ScalingReport(date: date, machine: machineInfo(), threadsPerRank: threads)
        let predictCounts = try predict.map { text -> [Int] in
            let c = text.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !c.isEmpty, c.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--predict takes counts like 16,64,256,1024") }
            return c
        }
        let link: (name: String, link: ScalingModel.Link)
        if let g = linkGbps {
            guard g > 0, linkLatencyUs >= 0 else { throw ValidationError("--link-gbps must be positive and --link-latency-us not negative") }
            link = (String(format: "a %.3g Gbit/s, %.3g µs link", g, linkLatencyUs), ScalingModel.Link(gbps: g, latencyMicroseconds: linkLatencyUs))
        } else {
            guard let p = ScalingModel.Link.presets.first(where: { $0.name == network }) else {
                throw ValidationError("--network must be one of \(ScalingModel.Link.presets.map(\.name).joined(separator: ", ")), got '\(network)'")
            }
            link = (p.name, p.link)
        }
        if predictOnly && predictCounts == nil { throw ValidationError("--predict-only needs --predict") }
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        if networkSweep && (predictCounts == nil || linkGbps == nil) {
            throw ValidationError("--network-sweep needs --predict and the network's --link-gbps (and --link-latency-us)")
        }
        let onThisNode = measureMpirun ?? (networkSweep ? "mpirun --oversubscribe --bind-to none" : mpirun)
        let measureLaunch = { (n: Int, args: [String]) in try launch(n, args, mpirun: onThisNode) }
        var figures: [String: [String: Double]]?
        if !predictOnly {
            let t = ["--threads", "\(threads)", "--json"]
            let plans: [(name: String, mode: String, unit: String, args: (Int) -> [String], value: ([String: Any]) -> Double?)] = [
                ("training step, 64 images/rank", "weak", "images/s", { ["step", "--batch-size", "\(64 * $0)", "--steps", "\(steps)"] + t },
                 { $0["bench"] as? String == "step" ? $0["images_per_s"] as? Double : nil }),
                ("training step, batch 256", "strong", "images/s", { _ in ["step", "--batch-size", "256", "--steps", "\(steps)"] + t },
                 { $0["bench"] as? String == "step" ? $0["images_per_s"] as? Double : nil }),
                ("extraction, 256 images/rank", "weak", "images/s", { _ in ["extract", "--batch-size", "256", "--steps", "\(steps)"] + t },
                 { $0["images_per_s"] as? Double }),
                ("k-means k=100, 60,000 points", "strong", "points/s", { _ in ["kmeans", "--points", "60000", "--clusters", "100"] + t },
                 Self.kmeansPointsPerSecond),
                ("k-means k=100, 15,000 points/rank", "weak", "points/s", { ["kmeans", "--points", "\(15000 * $0)", "--clusters", "100"] + t },
                 Self.kmeansPointsPerSecond),
            ]
            // Round after round, each series at every count and then (with --predict) the model's own
            // jobs, so that drift of a shared machine falls on every figure alike; medians over rounds.
            var values = [[Int: [Double]]](repeating: [:], count: plans.count)
            var modelRounds: [[String: [String: Double]]] = []
            for round in 0..<repeats {
                for (i, plan) in plans.enumerated() {
                    for n in counts {
                        let lines = try launch(n, plan.args(n))
                        if let v = lines.compactMap(plan.value).first {
                            values[i][n, default: []].append(v)
                            print(String(format: "scaling: round %d, %@ (%@), %d rank(s): %.1f %@", round + 1, plan.name, plan.mode, n, v, plan.unit)); fflush(stdout)
                        }
                    }
                }
                if predictCounts != nil {
                    modelRounds.append(try ScalingPrediction.measure(steps: steps, threads: threads, repeats: 1, launch: measureLaunch))
                }
            }
            for (i, plan) in plans.enumerated() {
                let points = counts.compactMap { n in values[i][n].map { ScalingReport.Point(ranks: n, value: $0.median, samples: $0) } }
                report.series.append(ScalingReport.Series(name: plan.name, mode: plan.mode, unit: plan.unit, points: points))
            }
            if !modelRounds.isEmpty {
                figures = Dictionary(uniqueKeysWithValues: Set(modelRounds.flatMap(\.keys)).map { key in
                    (key, ScalingPrediction.medianFigures(modelRounds.compactMap { $0[key] }))
                })
            }
            for n in counts where n > 1 {
                for j in try launch(n, ["allreduce", "--sizes", "1048576", "16777216", "--reps", "10"] + t) {
                    report.allreduce.append(["ranks": Double(n), "size_bytes": j["size_bytes"] as? Double ?? 0,
                                             "seconds": j["seconds"] as? Double ?? 0, "bytes_per_s": j["bytes_per_s"] as? Double ?? 0])
                }
            }
            if epochImages > 0 {
                var series = ScalingReport.Series(name: "one epoch, \(epochImages) images", mode: "strong", unit: "images/s", points: [])
                for n in counts {
                    guard let j = try launch(n, ["epoch", "--limit", "\(epochImages)"] + t).first,
                          let s = j["seconds"] as? [String: Any], let total = s["total"] as? Double else { continue }
                    func v(_ k: String) -> Double { s[k] as? Double ?? 0 }
                    report.epochStages.append(.init(ranks: n, total: total, extract: v("extract"), pca: v("pca"), kmeans: v("kmeans"), train: v("train")))
                    series.points.append(.init(ranks: n, value: Double(epochImages) / total, seconds: total))
                    print(String(format: "scaling: one epoch, %d rank(s): %.1f s", n, total)); fflush(stdout)
                }
                report.series.append(series)
            }
            report.computeEfficiency()
        }
        var markdown = predictOnly ? "" : report.markdown()
        if let counts = predictCounts {
            let (measured, nodeLink) = try ScalingPrediction.model(from: figures ?? ScalingPrediction.measure(
                steps: steps, threads: threads, repeats: repeats, launch: measureLaunch))
            let cores = coresPerNode ?? ProcessInfo.processInfo.activeProcessorCount
            let model = ScalingModel(measured: measured, nodeLink: nodeLink, network: link.link, coresPerNode: cores,
                                     threadsPerRank: threads, imagesPerRank: 15000, images: 60000)
            let prediction = ScalingPrediction(model: model, counts: counts)
            markdown += "\n" + prediction.markdown(networkName: "\(link.name), \(cores) cores per node")
            var json = prediction.json(networkName: link.name)
            if !predictOnly {
                // The sweep ran on this node (its own link), or one rank per host over the given network
                // with every host on this machine's cores.
                let here = ProcessInfo.processInfo.activeProcessorCount
                var swept = ScalingModel(measured: measured, nodeLink: nodeLink, network: networkSweep ? link.link : nodeLink,
                                         coresPerNode: networkSweep ? threads : here, threadsPerRank: threads,
                                         imagesPerRank: 15000, images: 60000, nodes: networkSweep ? nil : 1)
                if networkSweep { swept.sharedCores = here }
                let check = ScalingPrediction.check(report.series, local: swept)
                markdown += "\n" + check.markdown + String(format: "\nLargest difference between predicted and measured efficiency: %.0f%%.\n", 100 * check.worst)
                json["largest_error_here"] = check.worst
            }
            try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
                .write(to: URL(fileURLWithPath: "\(out)/prediction.json"))
        }
        if !predictOnly {
            try report.json().write(to: URL(fileURLWithPath: "\(out)/scaling.json"))
            try Data(report.svg().utf8).write(to: URL(fileURLWithPath: "\(out)/scaling.svg"))
        }
        try Data(markdown.utf8).write(to: URL(fileURLWithPath: "\(out)/\(predictOnly ? "prediction" : "scaling").md"))
        print(markdown)
        print("scaling: wrote \(out)/" + (predictOnly ? "prediction.md, prediction.json" : "scaling.json, scaling.md, scaling.svg") + (predictCounts != nil && !predictOnly ? ", prediction.json" : ""))
    }

    /// A k-means line's throughput: points ÷ seconds (the PCA line of the same bench is skipped).
    static func kmeansPointsPerSecond(_ j: [String: Any]) -> Double? {
        guard j["bench"] as? String == "kmeans", let n = j["n"] as? Double, let s = j["seconds"] as? Double else { return nil }
        return n / s
    }

    /// Runs `mpirun … -np n deepcluster bench ARGS` and returns its JSON lines.
    func launch(_ n: Int, _ args: [String], mpirun: String? = nil) throws -> [[String: Any]] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).standardized.path
        let prefix = (mpirun ?? self.mpirun).split(separator: " ").map(String.init)
        p.arguments = prefix + ["-np", "\(n)", exe, "bench"] + args
        var env = ProcessInfo.processInfo.environment.filter { k, _ in !["OMPI_COMM", "OMPI_MCA_ess", "PMIX_"].contains { k.hasPrefix($0) } }
        if getuid() == 0 { env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"; env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1" }
        p.environment = env
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw ValidationError("scaling: `\(p.arguments!.joined(separator: " "))` exited with status \(p.terminationStatus)")
        }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
    }

    func machineInfo() -> [String: String] {
        if let m = machine { return ["machine": m] }
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?.split(separator: "\n")
            .first { $0.hasPrefix("model name") }.map { String($0.split(separator: ":", maxSplits: 1)[1]).trimmingCharacters(in: .whitespaces) } ?? "?"
        return ["host": ProcessInfo.processInfo.hostName, "cpu": cpu, "cores": "\(ProcessInfo.processInfo.activeProcessorCount)",
                "openblas_coretype": ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "unset"]
    }
}
