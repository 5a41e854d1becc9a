import ArgumentParser
import DeepCluster
import Datasets
import Foundation
import Tensor

/// `deepcluster train`: the DeepCluster loop on every rank. Options left out take their value from
/// --config (when given) and otherwise the defaults shown.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train",
        abstract: "Train a CNN with DeepCluster on Fashion-MNIST (default) or your data.")
    @OptionGroup(title: "What the run computes (the recipe)") var recipeOptions: RecipeOptions
    @OptionGroup(title: "How it runs and where its files go") var runFlags: RunOptionFlags

    @OptionGroup var runtime: RuntimeOptions
    @Flag(help: "Continue from the newest complete checkpoint in --checkpoint-dir; flags that change its recipe (seed, learning rate, data, ...) are refused.") var resume = false
    @Flag(name: .customLong("resume-override"), help: "With --resume: continue even though the flags change the saved recipe (the changes are logged).") var resumeOverride = false
    @Option(help: "A bundle of settings that flags given override: \(TrainingPreset.names.joined(separator: ", ")) (see README).") var preset: String?
    @Option(help: "Load the configuration from a config.json written beside checkpoints; flags given override it.") var config: String?
    @Option(name: .customLong("status-file"), help: "When the run ends (finished, or stopped by a signal), write one JSON object here (rank 0): finished, stopped (where), epochs, newest_checkpoint. Batch scripts requeue on it.") var statusFile: String?
    @Flag(help: "Print nothing but errors (no progress line, no epoch lines).") var quiet = false
    @Flag(help: "Draw the progress line under mpirun too (only when mpirun's output is a terminal).") var progress = false

    /// Every option given, in the configuration's fields (the others keep `c`'s values).
    func applyFlags(to c: inout TrainingConfig) throws {
        try recipeOptions.apply(to: &c.recipe)
        try runFlags.apply(to: &c.options)
    }

    /// The run's configuration, and what `--preset recommended` chose for the data (nil for other presets).
    func makeConfig() throws -> (config: TrainingConfig, presetChoice: String?, listed: (any ImageSource)?) {
        var presetChoice: String?
        var listed: (any ImageSource)?
        var c = TrainingConfig()
        if let path = config {
            guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("--config \(path): no such file") }
            do { c = try JSONDecoder().decode(TrainingConfig.self, from: data) } catch let e as TrainingError {
                throw ValidationError("--config \(path): \(ConfigurationFlags.describe(e))")
            } catch {
                throw ValidationError("--config \(path): not a configuration written by deepcluster (\(ConfigurationFlags.describeDecoding(error)))")
            }
        }
        do {
            // `--preset recommended --method deepcluster` is the recommended preset's DeepCluster branch.
            let presetName = preset == "recommended" && recipeOptions.method == Recipe.Method.deepcluster.rawValue ? "recommended-v1" : preset
            if let p = presetName { try TrainingPreset.apply(p, to: &c.recipe) }
            // The method's own defaults come first; the other flags override them.
            if recipeOptions.method == Recipe.Method.deepclusterV2.rawValue { TrainingPreset.applyV2Defaults(to: &c.recipe) }
            try applyFlags(to: &c)
            if presetName == "recommended" || presetName == "recommended-v1" {
                // The data-dependent values need the data (as the flags name it), listed once here and
                // reused by the run; the rules set what the flags left open, so the flags go on top again.
                let images = try DatasetLoader.load(data: c.recipe.data, labels: c.recipe.labels, format: c.recipe.format, train: true)
                listed = images
                let count = min(images.count, c.recipe.limit ?? images.count)
                let shape = RecommendedPreset.DataShape(count: count, channels: images.channels, size: images.uniformSize)
                RecommendedPreset.adapt(&c.recipe, to: shape)
                try applyFlags(to: &c)
                presetChoice = RecommendedPreset.describe(c.recipe, for: shape)
            }
            c.options.resume = resume
            c.options.resumeOverride = resumeOverride
            c.options.quiet = quiet
            c.options.progress = progress
            try c.validate()
        } catch {
            throw ValidationError(ConfigurationFlags.describe(error))
        }
        if resume && c.options.checkpointDirectory == nil { throw ValidationError("--resume needs --checkpoint-dir") }
        return (c, presetChoice, listed)
    }

    func run() throws {
        let (c, choice, listed) = try makeConfig()
        runtime.run(stoppable: true) { comm in
            let run: DeepClusterRun
            do {
                run = try DeepClusterRun(config: c, communicator: comm, fieldName: ConfigurationFlags.flag(for:), listed: listed)
            } catch let stop as StopRequested {
                // Signalled while the ranks read the checkpoint to resume: nothing has changed.
                if comm.isRoot {
                    print("stop requested: stopped \(stop.point) while resuming; nothing changed"); fflush(stdout)
                    if let path = statusFile {
                        try RunStatus(finished: false, stopped: "\(stop.point) while resuming", epochs: c.recipe.epochs,
                                      checkpointDirectory: c.options.checkpointDirectory).write(to: path)
                    }
                }
                return
            }
            if comm.isRoot && !c.options.quiet {
                if let choice { print(choice) }
                print("deepcluster train: \(run.images.count) images, --arch \(c.recipe.arch), k = \(run.model.numClasses), "
                      + "\(comm.size) rank(s) × \(BLAS.threads) thread(s), OpenBLAS \(BLAS.coreName), "
                      + "epochs \(run.startEpoch)..<\(c.recipe.epochs), seed \(c.recipe.seed)")
                fflush(stdout)
            }
            run.log = { line in print(line); fflush(stdout) }
            let finished = try run.run()
            if comm.isRoot, let path = statusFile {
                try RunStatus(finished: finished, stopped: run.stoppedAtBoundary ?? (finished ? nil : "inside or at the end of an epoch"),
                              epochs: c.recipe.epochs, checkpointDirectory: c.options.checkpointDirectory).write(to: path)
            }
        }
    }
}
