import CMPI

/// Blocking collectives. Buffers are contiguous Swift arrays or buffer pointers; in-place forms use
/// MPI_IN_PLACE so no second buffer is allocated.
extension Communicator {
    /// Element-wise reduction of `buffer` across ranks, result on every rank, in place.
    public func allreduce<T: MPIScalar>(_ buffer: UnsafeMutableBufferPointer<T>, op: ReduceOp) throws {
        let n = try mpiCount(buffer.count, "MPI_Allreduce")
        guard n > 0 else { return }
        try check(MPI_Allreduce(cmpi_in_place(), buffer.baseAddress, n, T.mpiDatatype, op.handle, handle),
                  "MPI_Allreduce(\(buffer.count) elements)")
    }

    public func allreduce<T: MPIScalar>(_ array: inout [T], op: ReduceOp) throws {
        try array.withUnsafeMutableBufferPointer { try allreduce($0, op: op) }
    }

    public func allreduce<T: MPIScalar>(_ value: T, op: ReduceOp) throws -> T {
        var a = [value]
        try allreduce(&a, op: op)
        return a[0]
    }

    /// Reduction onto `root` only (in place there; other ranks' buffers are unchanged).
    public func reduce<T: MPIScalar>(_ array: inout [T], op: ReduceOp, root: Int) throws {
        let n = try mpiCount(array.count, "MPI_Reduce")
        guard n > 0 else { return }
        if rank == root {
            try array.withUnsafeMutableBufferPointer {
                try check(MPI_Reduce(cmpi_in_place(), $0.baseAddress, n, T.mpiDatatype, op.handle, Int32(root), handle),
                          "MPI_Reduce")
            }
        } else {
            try array.withUnsafeMutableBufferPointer {
                try check(MPI_Reduce($0.baseAddress, nil, n, T.mpiDatatype, op.handle, Int32(root), handle),
                          "MPI_Reduce")
            }
        }
    }

    /// `root`'s buffer copied to every rank.
    public func broadcast<T: MPIScalar>(_ buffer: UnsafeMutableBufferPointer<T>, root: Int) throws {
        let n = try mpiCount(buffer.count, "MPI_Bcast")
        guard n > 0 else { return }
        try check(MPI_Bcast(buffer.baseAddress, n, T.mpiDatatype, Int32(root), handle), "MPI_Bcast")
    }

    public func broadcast<T: MPIScalar>(_ array: inout [T], root: Int) throws {
        try array.withUnsafeMutableBufferPointer { try broadcast($0, root: root) }
    }

    /// Every rank's `local` (same length everywhere) concatenated in rank order.
    public func allgather<T: MPIScalar>(_ local: [T]) throws -> [T] {
        let n = try mpiCount(local.count, "MPI_Allgather")
        var out = [T](unsafeUninitializedCapacity: local.count * size) { _, c in c = local.count * size }
        try local.withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBufferPointer { dst in
                try check(MPI_Allgather(src.baseAddress, n, T.mpiDatatype, dst.baseAddress, n, T.mpiDatatype, handle),
                          "MPI_Allgather")
            }
        }
        return out
    }

    /// Every rank's `local` (lengths may differ) concatenated in rank order, on `root` only; the
    /// other ranks get an empty array (and never hold the whole).
    public func gatherv<T: MPIScalar>(_ local: [T], root: Int) throws -> [T] {
        let counts32 = try allgather([try mpiCount(local.count, "MPI_Gatherv")])
        var displs = [Int32](repeating: 0, count: size)
        var total = 0
        for r in 0..<size {
            displs[r] = try mpiCount(total, "MPI_Gatherv displacement")
            total += Int(counts32[r])
        }
        let mine = rank == root ? total : 0
        var out = [T](unsafeUninitializedCapacity: mine) { _, c in c = mine }
        try local.withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBufferPointer { dst in
                try check(MPI_Gatherv(src.baseAddress, Int32(local.count), T.mpiDatatype,
                                      dst.baseAddress, counts32, displs, T.mpiDatatype, Int32(root), handle),
                          "MPI_Gatherv")
            }
        }
        return out
    }

    /// Every rank's `local` (lengths may differ) concatenated in rank order.
    public func allgatherv<T: MPIScalar>(_ local: [T]) throws -> [T] {
        let counts32 = try allgather([try mpiCount(local.count, "MPI_Allgatherv")])
        var displs = [Int32](repeating: 0, count: size)
        var total = 0
        for r in 0..<size {
            displs[r] = try mpiCount(total, "MPI_Allgatherv displacement")
            total += Int(counts32[r])
        }
        var out = [T](unsafeUninitializedCapacity: total) { _, c in c = total }
        try local.withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBufferPointer { dst in
                try check(MPI_Allgatherv(src.baseAddress, Int32(local.count), T.mpiDatatype,
                                         dst.baseAddress, counts32, displs, T.mpiDatatype, handle),
                          "MPI_Allgatherv")
            }
        }
        return out
    }
}
