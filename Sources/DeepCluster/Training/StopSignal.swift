#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM, SIGINT and SIGUSR1 — what schedulers send before a time limit. In `train` the first one
/// asks the run to stop at the next safe point on every rank (the end of a step, or a phase boundary
/// of the epoch), write a checkpoint where one is due and exit 0: the handler only sets a flag, and
/// the flag travels in an allreduce, so every rank stops at the same point. A second signal ends the
/// process at once (exit 128 + signal). Commands with nothing to save (eval, extract, bench,
/// selfcheck) end at the first signal.
public enum StopSignal {
    nonisolated(unsafe) private static var flag: sig_atomic_t = 0
    public static var requested: Bool { flag != 0 }

    /// `deferred`: the first signal only sets the flag (train); otherwise it ends the process.
    public static func install(deferred: Bool) {
        var set = sigset_t()
        sigemptyset(&set)
        for sig in [SIGTERM, SIGINT, SIGUSR1] {
            if deferred {
                signal(sig) { s in
                    if StopSignal.flag != 0 { _exit(128 + s) }
                    StopSignal.flag = 1
                }
            } else {
                signal(sig) { s in _exit(128 + s) }
            }
            sigaddset(&set, sig)
        }
        // A blocked signal mask survives exec: a rank started from a process that blocks these
        // (some launchers and test runners do) would never see them. Unblock them explicitly.
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// For tests and benchmarks.
    public static func request() { flag = 1 }
}
