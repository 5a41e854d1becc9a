import CMPI

/// An MPI call that returned something other than MPI_SUCCESS, with MPI's own error string.
public struct MPIError: Error, CustomStringConvertible {
    public let call: String
    public let code: Int32
    public let message: String

    public init(call: String, code: Int32) {
        self.call = call
        self.code = code
        var buffer = [CChar](repeating: 0, count: Int(cmpi_max_error_string()) + 1)
        var length: Int32 = 0
        if MPI_Error_string(code, &buffer, &length) == MPI_SUCCESS {
            message = String(decoding: buffer[0..<Int(length)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        } else {
            message = "unknown MPI error"
        }
    }

    public var description: String { "\(call) failed: \(message) (MPI error \(code))" }
}

/// Makes an MPI call — under the watchdog, when one is running — and turns its return code into a
/// thrown `MPIError`.
@inline(__always)
func check(_ code: @autoclosure () -> Int32, _ call: @autoclosure () -> String) throws {
    let status = CollectiveWatchdog.guarding(code, name: call)
    if status != MPI_SUCCESS { throw MPIError(call: call(), code: status) }
}
