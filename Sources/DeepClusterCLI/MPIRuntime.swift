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

    static func run(threads: Int?, kernels: KernelOptions? = nil, collectiveTimeout: Double? = nil, _ body: (Communicator) throws -> Void) -> Never {
        let comm: Communicator
        do { comm = try Communicator.world() } catch {
            FileHandle.standardError.write(Data("deepcluster: \(error)\n".utf8))
            exit(1)
        }
        let t = threads ?? max(1, ProcessInfo.processInfo.activeProcessorCount / max(comm.localSize, 1))
        BLAS.threads = t
        Parallel.threads = t
        KernelBackend.setThreads(t)
        installSignalHandlers()
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
            let line = comm.size > 1 ? "deepcluster: rank \(comm.rank): \(error)\n" : "deepcluster: \(error)\n"
            // When every rank hits the same error (a bad file), rank 0's line is the one to read:
            // it aborts the job before the others print.
            if comm.rank != 0 { usleep(500_000) }
            FileHandle.standardError.write(Data(line.utf8))
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
            FileHandle.standardError.write(Data("\(prefix)\(e)\n".utf8))
        }
        Communicator.finalize()
        exit(2)
    }

    static func installSignalHandlers() { StopSignal.install() }

    /// Prints on rank 0 only.
    static func say(_ comm: Communicator, _ line: String) {
        if comm.isRoot { print(line); fflush(stdout) }
    }
}
