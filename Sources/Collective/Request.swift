import CMPI

/// A non-blocking collective in flight. The buffer it was started on must stay alive and untouched
/// until `wait()` returns or `test()` answers true.
public final class Request {
    private var handle: MPI_Request?
    private let call: String

    init(handle: MPI_Request?, call: String) {
        self.handle = handle
        self.call = call
    }

    public var isComplete: Bool { handle == cmpi_request_null() }

    /// Progresses the operation; true once it has completed.
    @discardableResult
    public func test() throws -> Bool {
        if isComplete { return true }
        var flag: Int32 = 0
        try check(MPI_Test(&handle, &flag, cmpi_status_ignore()), "MPI_Test(\(call))")
        return flag != 0
    }

    /// Blocks until the operation has completed.
    public func wait() throws {
        if isComplete { return }
        try check(MPI_Wait(&handle, cmpi_status_ignore()), "MPI_Wait(\(call))")
    }
}

extension Communicator {
    /// Starts an in-place allreduce and returns at once; progress it with `test()`, finish with `wait()`.
    public func iallreduce<T: MPIScalar>(_ buffer: UnsafeMutableBufferPointer<T>, op: ReduceOp) throws -> Request {
        let n = try mpiCount(buffer.count, "MPI_Iallreduce")
        var request: MPI_Request? = cmpi_request_null()
        try check(MPI_Iallreduce(cmpi_in_place(), buffer.baseAddress, n, T.mpiDatatype, op.handle, handle, &request),
                  "MPI_Iallreduce(\(buffer.count) elements)")
        return Request(handle: request, call: "MPI_Iallreduce")
    }
}
