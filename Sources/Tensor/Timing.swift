import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// The project's one clock. `now()` measures durations (monotonic, unaffected by clock changes);
/// `wallClock()` stamps instants that ranks of one node compare with each other (CLOCK_REALTIME).
/// Collective's watchdog keeps its own nanosecond count, which it stores in an atomic.
public enum Timing {
    /// Monotonic seconds since an arbitrary origin.
    public static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// CLOCK_REALTIME in seconds.
    public static func wallClock() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
