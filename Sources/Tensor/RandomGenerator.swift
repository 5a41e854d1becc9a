/// A small, fast, seedable generator (xoshiro256**, seeded through SplitMix64) with the draws the
/// trainer needs. One generator per purpose, derived from (seed, purpose, epoch, rank), so that a run
/// repeats bit for bit whatever else draws numbers.
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    private var s0, s1, s2, s3: UInt64

    public init(seed: UInt64) {
        var sm = seed
        func splitmix() -> UInt64 {
            sm &+= 0x9E37_79B9_7F4A_7C15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitmix(); s1 = splitmix(); s2 = splitmix(); s3 = splitmix()
    }

    /// A generator for one purpose: the same (seed, purpose, a, b) always gives the same stream.
    public init(seed: UInt64, purpose: Purpose, _ a: Int = 0, _ b: Int = 0) {
        var h = seed &* 0x9E37_79B9_7F4A_7C15
        for v in [UInt64(purpose.rawValue), UInt64(bitPattern: Int64(a)), UInt64(bitPattern: Int64(b))] {
            h = (h ^ v) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 33
        }
        self.init(seed: h)
    }

    public enum Purpose: UInt64, Sendable {
        case initialization = 1, topLayer, dropout, augmentation, kmeansInit, kmeansRepair, sampler, synthetic, probe, permutation, layout, gallery
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1).
    @inline(__always)
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    @inline(__always)
    public mutating func uniformFloat() -> Float { Float(next() >> 40) * 0x1.0p-24 }

    /// Uniform integer in 0..<n.
    @inline(__always)
    public mutating func below(_ n: Int) -> Int { Int(next(upperBound: UInt64(n))) }

    /// Standard normal (Box–Muller).
    public mutating func normal() -> Double {
        var u1 = uniform()
        while u1 <= 0 { u1 = uniform() }
        let u2 = uniform()
        return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
    }

    /// Fills `n` floats from N(0, std).
    public mutating func fillNormal(_ p: UnsafeMutablePointer<Float>, count n: Int, std: Double) {
        for i in 0..<n { p[i] = Float(normal() * std) }
    }

    /// `count` distinct values of 0..<n (partial Fisher–Yates over a sparse swap table).
    public mutating func distinct(_ count: Int, of n: Int) -> [Int] {
        precondition(count <= n)
        var swapped: [Int: Int] = [:]
        var out = [Int]()
        out.reserveCapacity(count)
        for i in 0..<count {
            let j = i + below(n - i)
            let vj = swapped[j] ?? j
            let vi = swapped[i] ?? i
            swapped[j] = vi
            out.append(vj)
        }
        return out
    }

    public mutating func shuffle<T>(_ a: inout [T]) {
        if a.count < 2 { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            let j = below(i + 1)
            if i != j { a.swapAt(i, j) }
        }
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#else
import Darwin
@inline(__always) func _log(_ x: Double) -> Double { Darwin.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif
