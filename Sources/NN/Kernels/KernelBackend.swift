import COneDNN
import Foundation

/// Which code computes the convolutions: the im2col + sgemm reference, or oneDNN's primitives.
/// The layers choose through this seam; the trainer above never sees which ran.
public enum KernelBackend: String, Sendable, CaseIterable {
    case reference
    case onednn

    /// The backend new convolutions use (`--kernels`; oneDNN unless told otherwise).
    nonisolated(unsafe) public static var current: KernelBackend = .onednn
    /// Arithmetic of oneDNN's convolutions (`--precision`).
    nonisolated(unsafe) public static var precision: Precision = .fp32

    /// Under `.onednn` in fp32, inference's 3×3 and 5×5 stride-1 convolutions (extraction, eval) run on Winograd
    /// (F(4×4, 3×3), F(2×2, 5×5); WinogradConvolution) instead of oneDNN's direct kernels (`--no-winograd` turns it off).
    nonisolated(unsafe) public static var winogradInference = true
    /// The same for training's 3×3 and 5×5 stride-1 convolutions: forward, ∂x and ∂w on Winograd's tiles
    /// (`--no-winograd-training` keeps them on oneDNN). 1.08× the step at 28 px, 1.27× at 224 px (README).
    nonisolated(unsafe) public static var winogradTraining = true

    /// Where notes go (a shape that fell back to the reference kernels, ...). The CLI points it at
    /// rank 0's log; by default notes are kept in `notes` only.
    nonisolated(unsafe) public static var noteHandler: ((String) -> Void)?
    public static var notes: [String] { noteLock.withLock { noteList } }
    nonisolated(unsafe) private static var noteList: [String] = []
    private static let noteLock = NSLock()

    static func note(_ line: String) {
        noteLock.withLock { noteList.append(line) }
        noteHandler?(line)
    }

    /// Threads of oneDNN's OpenMP pool in this process (the rank's share of the cores).
    public static func setThreads(_ threads: Int) { dc_onednn_set_threads(Int32(max(1, threads))) }

    /// The instruction set oneDNN dispatches to on this CPU ("avx2", "avx512_core_bf16", ...).
    public static var instructionSet: String { String(cString: dc_onednn_isa()) }
    /// The oneDNN library's version.
    public static var oneDNNVersion: String { String(cString: dc_onednn_version()) }
    /// True when this CPU computes bf16 natively (AVX512-BF16 or AMX).
    public static var hasNativeBF16: Bool { dc_onednn_has_bf16() != 0 }

    /// Checks a backend and precision can run here, then makes them the process-wide choice.
    public static func select(_ backend: KernelBackend, precision: Precision) throws {
        try validate(backend, precision: precision)
        current = backend
        self.precision = precision
    }

    /// Checks a backend and precision can run here; the error is one line for the user.
    public static func validate(_ backend: KernelBackend, precision: Precision) throws {
        if precision == .bf16 {
            guard backend == .onednn else { throw KernelError.unsupported("--precision bf16 needs --kernels onednn") }
            guard hasNativeBF16 else {
                throw KernelError.unsupported("--precision bf16 needs a CPU with AVX512-BF16 or AMX; this one runs oneDNN's \(instructionSet) kernels")
            }
        }
    }
}

/// The arithmetic of convolutions and Linear layers.
public enum Precision: String, Sendable, CaseIterable {
    case fp32
    /// bf16 inputs and weights, fp32 accumulation, fp32 master weights and gradients.
    case bf16
}

public enum KernelError: Error, CustomStringConvertible {
    /// A oneDNN call returned an error status; the text names the primitive and the shape.
    case onednn(String)
    case unsupported(String)
    public var description: String {
        switch self {
        case let .onednn(s): return s
        case let .unsupported(s): return s
        }
    }
}
