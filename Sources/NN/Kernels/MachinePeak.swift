import COneDNN
import Dispatch

/// The FMA and bf16 peaks of this process's cores, measured (Sources/COneDNN/machine_peak.c).
public enum MachinePeak {
    /// GFLOP/s of `threads` threads each running independent FMAs for `seconds` at the same time.
    public static func fmaGFLOPs(threads: Int, seconds: Double = 0.3) -> Double {
        onEveryThread(threads) { dc_fma_peak_gflops(seconds) }
    }
    /// GFLOP/s of `threads` threads each running independent bf16 dot products (AVX512-BF16); 0 without it.
    public static func bf16GFLOPs(threads: Int, seconds: Double = 0.3) -> Double {
        onEveryThread(threads) { dc_bf16_peak_gflops(seconds) }
    }
    /// Vector lanes of the measurement: 16 (AVX-512), 8 (AVX2), 0 (neither).
    public static var lanes: Int { Int(dc_fma_peak_lanes()) }

    /// The sum of `measure` run on `threads` threads at once.
    private static func onEveryThread(_ threads: Int, _ measure: @Sendable () -> Double) -> Double {
        let n = max(1, threads)
        let results = UnsafeMutableBufferPointer<Double>.allocate(capacity: n)
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: n) { i in results[i] = measure() }
        return results.reduce(0, +)
    }
}
