import CMPI

/// Element types that travel through the collectives, with their MPI datatype.
public protocol MPIScalar {
    static var mpiDatatype: MPI_Datatype { get }
}

extension Float: MPIScalar { public static var mpiDatatype: MPI_Datatype { cmpi_float() } }
extension Double: MPIScalar { public static var mpiDatatype: MPI_Datatype { cmpi_double() } }
extension Int32: MPIScalar { public static var mpiDatatype: MPI_Datatype { cmpi_int32() } }
extension Int64: MPIScalar { public static var mpiDatatype: MPI_Datatype { cmpi_int64() } }
extension UInt8: MPIScalar { public static var mpiDatatype: MPI_Datatype { cmpi_uint8() } }

/// Reduction operators the collectives accept.
public enum ReduceOp: Sendable {
    case sum, max, min

    var handle: MPI_Op {
        switch self {
        case .sum: return cmpi_sum()
        case .max: return cmpi_max()
        case .min: return cmpi_min()
        }
    }
}

/// MPI counts are Int32; refuse a buffer that would overflow one instead of truncating it.
@inline(__always)
func mpiCount(_ n: Int, _ call: String) throws -> Int32 {
    guard n >= 0, n <= Int(Int32.max) else {
        throw CollectiveError.countTooLarge(call: call, count: n)
    }
    return Int32(n)
}

public enum CollectiveError: Error, CustomStringConvertible {
    case countTooLarge(call: String, count: Int)
    case sizeMismatch(call: String, expected: Int, got: Int)

    public var description: String {
        switch self {
        case let .countTooLarge(call, count):
            return "\(call): \(count) elements exceed MPI's Int32 count; split the buffer"
        case let .sizeMismatch(call, expected, got):
            return "\(call): expected \(expected) elements, got \(got)"
        }
    }
}
