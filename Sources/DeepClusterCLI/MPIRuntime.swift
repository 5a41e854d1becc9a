import Collective
import DeepCluster
import Foundation
import NN
import Tensor

/// Starts MPI, gives the rank its threads, runs the command, and makes every exit path end in
/// MPI_Finalize (success) or MPI_Abort (failure on any rank: the whole job goes down at once).
enum MPIRuntime {
    /// Seconds a rank may wait in one MPI call before it gives up (--collective-timeout, or the
    /// DEEPCLUSTER_COLLECTIVE_TIMEOUT variable for every command; 0 disables).
    static let defaultCollectiveTimeout = 600.0

    static func run(threads: Int?, kernels: KernelOptions? = nil, collectiveTimeout: Double? = nil, stoppable: Bool = false,
                    describe: (Error) -> String = ConfigurationFlags.describe, _ body: (Communicator) throws -> Void) -> Never {
        let comm: Communicator
        do { comm = try Communicator.world() } catch {
            Console.error("deepcluster: \(error)\n")
            exit(1)
        }
        let t = threads ?? max(1, ProcessInfo.processInfo.activeProcessorCount / max(comm.localSize, 1))
        BLAS.threads = t
        Parallel.threads = t
        KernelBackend.setThreads(t)
        StopSignal.install(deferred: stoppable)
        let rank = comm.rank
        KernelBackend.noteHandler = { line in
            if rank == 0 { print("note: \(line)"); fflush(stdout) }
        }
        let timeout = collectiveTimeout ?? ProcessInfo.processInfo.environment["DEEPCLUSTER_COLLECTIVE_TIMEOUT"].flatMap(Double.init)
            ?? defaultCollectiveTimeout
        if comm.size > 1 { CollectiveWatchdog.start(timeout: timeout, rank: comm.rank) }
        agreeOnKernels(comm, kernels)
        do {
            try body(comm)
            Communicator.finalize()
            exit(0)
        } catch {
            let line = comm.size > 1 ? "deepcluster: rank \(comm.rank): \(describe(error))\n" : "deepcluster: \(describe(error))\n"
            // When every rank hits the same error (a bad file, a refused resume), rank 0's line is the
            // one to read: it aborts the job while the others wait. A rank that fails alone (rank 0
            // then waits for it in a collective) prints after the wait and takes the job down itself.
            if comm.rank != 0 {
                // Open MPI's abort from rank 0 reaches this rank as SIGTERM (our handler only notes it and
                // cuts the sleep short): the job is already going down with rank 0's line, so stay quiet.
                let signalledBefore = StopSignal.requested
                usleep(2_000_000)
                if !signalledBefore && StopSignal.requested { exit(1) }
            }
            Console.error(line)
            if comm.size > 1 { comm.abort(code: 1) }
            exit(1)
        }
    }

    /// Applies --kernels/--precision on every rank. A choice this CPU cannot run is the same mistake on
    /// every rank, so the lowest rank that hit it prints one line and every rank exits 2 together (no
    /// rank is left waiting in a collective when only some hosts lack the instructions).
    static func agreeOnKernels(_ comm: Communicator, _ kernels: KernelOptions?) {
        var failure: Error?
        do {
            if let k = kernels { try k.apply() } else { try KernelBackend.select(.onednn, precision: .fp32) }
        } catch { failure = error }
        let first = (try? comm.allreduce(Int32(failure == nil ? Int32.max : Int32(comm.rank)), op: .min)) ?? Int32(comm.rank)
        guard first != Int32.max else { return }
        if Int32(comm.rank) == first, let e = failure {
            let prefix = comm.size > 1 && first != 0 ? "deepcluster: rank \(first): " : "deepcluster: "
            Console.error("\(prefix)\(e)\n")
        }
        Communicator.finalize()
        exit(2)
    }

    /// Prints on rank 0 only.
    static func say(_ comm: Communicator, _ line: String) {
        if comm.isRoot { print(line); fflush(stdout) }
    }
}
