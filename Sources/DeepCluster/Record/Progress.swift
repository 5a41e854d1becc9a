import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Rank 0's progress within an epoch: a line redrawn in place with steps, loss, images/s and ETA
/// when standard output is a terminal; nothing otherwise (the per-epoch line is printed either way).
/// Under mpirun a rank's stdout is a pty of Open MPI's even when the user redirected mpirun's output
/// to a file, so there the line is drawn only when asked for (--progress).
struct Progress {
    let total: Int
    let enabled: Bool
    private let start = Date()
    private var last = Date.distantPast

    init(total: Int, enabled: Bool, forced: Bool) {
        self.total = total
        let underMPIRun = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] != nil
        self.enabled = enabled && (forced || (isatty(STDOUT_FILENO) == 1 && !underMPIRun))
    }

    mutating func update(step: Int, loss: Double, images: Int) {
        guard enabled, Date().timeIntervalSince(last) > 0.25 || step == total else { return }
        last = Date()
        let elapsed = Date().timeIntervalSince(start)
        let eta = step > 0 ? elapsed / Double(step) * Double(total - step) : 0
        let width = 24, filled = total > 0 ? width * step / total : width
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = String(format: "\r  [%@] %d/%d  loss %.3f  %.0f img/s  ETA %.0fs ", bar, step, total, loss,
                          Double(images) / max(elapsed, 1e-9), eta)
        Console.output(line)
    }

    func clear() {
        guard enabled else { return }
        Console.output("\r" + String(repeating: " ", count: 90) + "\r")
    }
}
