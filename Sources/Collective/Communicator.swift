import CMPI
#if canImport(Glibc)
import Glibc
#endif

/// The world of MPI ranks this process belongs to.
///
/// A process started without `mpirun` is a world of size 1 and runs the same code (Open MPI's
/// singleton init). MPI is initialised once per process with `MPI_THREAD_FUNNELED`: OpenBLAS and the
/// kernels run their own threads, but only the main thread calls MPI — the gradient reducer overlaps
/// communication with backward by progressing non-blocking requests between layers, from that thread.
///
/// MPI handles are immutable after init and every call is funneled through the main thread, hence
/// `@unchecked Sendable`.
public final class Communicator: @unchecked Sendable {
    public let handle: MPI_Comm
    /// This process's rank in `handle` and the number of ranks.
    public let rank: Int
    public let size: Int
    /// Rank and size among the ranks that share this node's memory (for threads per rank).
    public let localRank: Int
    public let localSize: Int

    public var isRoot: Bool { rank == 0 }

    nonisolated(unsafe) private static var worldInstance: Communicator?

    /// Initialises MPI (once) and returns the world communicator.
    public static func world() throws -> Communicator {
        if let w = worldInstance { return w }
        var initialized: Int32 = 0
        MPI_Initialized(&initialized)
        if initialized == 0 {
            // Started without mpirun, Open MPI's singleton init would fork a helper daemon (orted).
            // OpenBLAS's fork handler then stops its worker threads, and OpenBLAS 0.3.21 can hang
            // there when a worker is between its spin and its sleep (seen in CI: fork → blas_thread_
            // shutdown_ → pthread_join, forever). A world of one needs no daemon; it only matters to
            // MPI_Comm_spawn, which this trainer never calls. A user's own setting wins.
            setenv("OMPI_MCA_ess_singleton_isolated", "1", 0)
            var provided: Int32 = 0
            let rc = MPI_Init_thread(nil, nil, cmpi_thread_funneled(), &provided)
            if rc != MPI_SUCCESS { throw MPIError(call: "MPI_Init_thread", code: rc) }
            if provided < cmpi_thread_funneled() {
                throw MPIError(call: "MPI_Init_thread (provided thread level \(provided) < FUNNELED)", code: rc)
            }
        }
        let world: MPI_Comm = cmpi_comm_world()!
        // Errors come back as return codes, which we throw with MPI's message; a failing rank then
        // calls abort(), which takes the whole job down.
        try check(MPI_Comm_set_errhandler(world, cmpi_errors_return()), "MPI_Comm_set_errhandler")
        let w = try Communicator(handle: world)
        worldInstance = w
        return w
    }

    init(handle: MPI_Comm) throws {
        self.handle = handle
        var r: Int32 = 0, s: Int32 = 0
        try check(MPI_Comm_rank(handle, &r), "MPI_Comm_rank")
        try check(MPI_Comm_size(handle, &s), "MPI_Comm_size")
        rank = Int(r)
        size = Int(s)
        var node: MPI_Comm? = cmpi_comm_null()
        try check(MPI_Comm_split_type(handle, cmpi_comm_type_shared(), r, cmpi_info_null(), &node),
                  "MPI_Comm_split_type")
        var lr: Int32 = 0, ls: Int32 = 0
        try check(MPI_Comm_rank(node, &lr), "MPI_Comm_rank(node)")
        try check(MPI_Comm_size(node, &ls), "MPI_Comm_size(node)")
        localRank = Int(lr)
        localSize = Int(ls)
        MPI_Comm_free(&node)
    }

    public func barrier() throws {
        try check(MPI_Barrier(handle), "MPI_Barrier")
    }

    /// Ends every rank of the job with `code`. Never returns.
    public func abort(code: Int32 = 1) -> Never {
        MPI_Abort(handle, code)
        exit(code)
    }

    /// Finalises MPI; call once on the success path, after the last collective.
    public static func finalize() {
        var finalized: Int32 = 0
        MPI_Finalized(&finalized)
        if finalized == 0 { MPI_Finalize() }
    }

    /// Host name as MPI reports it.
    public static func processorName() -> String {
        var buffer = [CChar](repeating: 0, count: Int(MPI_MAX_PROCESSOR_NAME) + 1)
        var length: Int32 = 0
        MPI_Get_processor_name(&buffer, &length)
        return String(decoding: buffer[0..<Int(length)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
