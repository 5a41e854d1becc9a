import ArgumentParser
import Collective

/// What every command that runs on the ranks takes: threads per rank, the kernels and their
/// precision, and how long a rank may wait for the others. Declared once; each command holds it as
/// an option group and starts its ranks through `run`.
struct RuntimeOptions: ParsableArguments {
    @Option(help: "BLAS threads per rank (default: cores ÷ ranks on the node).") var threads: Int?
    @OptionGroup var kernels: KernelOptions
    @Option(name: .customLong("collective-timeout"), help: "Seconds a rank may wait in one MPI call for the others before it exits with an error, so a lost host ends the job instead of hanging it; 0 never (default: \(Int(MPIRuntime.defaultCollectiveTimeout)), or DEEPCLUSTER_COLLECTIVE_TIMEOUT).") var collectiveTimeout: Double?

    func validate() throws {
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1, got \(t)") }
        if let t = collectiveTimeout, !(t >= 0 && t <= 7 * 86_400) {
            throw ValidationError("--collective-timeout must be between 0 and 604800 seconds (a week), got \(t)")
        }
    }

    /// Starts MPI with these settings and runs `body` on every rank (`MPIRuntime.run`).
    func run(stoppable: Bool = false, describe: @escaping (Error) -> String = ConfigurationFlags.describe,
             _ body: (Communicator) throws -> Void) -> Never {
        MPIRuntime.run(threads: threads, kernels: kernels, collectiveTimeout: collectiveTimeout, stoppable: stoppable,
                       describe: describe, body)
    }
}
