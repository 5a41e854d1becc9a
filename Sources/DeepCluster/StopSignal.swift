#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM, SIGINT and SIGUSR1 — what schedulers send before a time limit — ask the run to finish
/// the current step on every rank, write a checkpoint and exit 0. The handler only sets a flag; the
/// flag travels in the per-step summary allreduce, so every rank stops after the same step.
public enum StopSignal {
    nonisolated(unsafe) private static var flag: sig_atomic_t = 0
    public static var requested: Bool { flag != 0 }

    public static func install() {
        var set = sigset_t()
        sigemptyset(&set)
        for sig in [SIGTERM, SIGINT, SIGUSR1] {
            signal(sig) { _ in StopSignal.flag = 1 }
            sigaddset(&set, sig)
        }
        // A blocked signal mask survives exec: a rank started from a process that blocks these
        // (some launchers and test runners do) would never see them. Unblock them explicitly.
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// For tests and benchmarks.
    public static func request() { flag = 1 }
}
