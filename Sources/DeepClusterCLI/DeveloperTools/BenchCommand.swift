import ArgumentParser

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench",
        abstract: "Benchmarks of ../shared/BENCHMARKS.md: training step, extraction, k-means, allreduce, one epoch.",
        discussion: "Run under mpirun for several ranks. --json prints one JSON object per line (rank 0).",
        subcommands: [BenchStep.self, BenchExtract.self, BenchKMeans.self, BenchCluster.self, BenchAllreduce.self, BenchEpoch.self, BenchInput.self, BenchScaling.self])
}

struct CommonBenchOptions: ParsableArguments {
    @OptionGroup var runtime: RuntimeOptions
    @Flag(help: "One JSON object per line.") var json = false
}
