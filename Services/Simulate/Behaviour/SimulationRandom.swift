import Foundation

/// xoshiro256** seeded through SplitMix64: small, fast, and the same sequence on every platform, which
/// `SystemRandomNumberGenerator` is not. Each machine owns one stream, so adding a machine to the plant does
/// not change what the others do.
struct SimulationRandom: RandomNumberGenerator, Equatable, Sendable {
    private var s0, s1, s2, s3: UInt64

    /// The stream for `stream` (a machine's index) of the run seeded with `seed`.
    init(seed: UInt64, stream: UInt64 = 0) {
        // SplitMix64 spreads any seed (including 0) over the 256-bit state, as the xoshiro authors recommend.
        var splitMix = seed ^ (stream &* 0xD1B5_4A32_D192_ED03)
        func next() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = next(); s1 = next(); s2 = next(); s3 = next()
    }

    mutating func next() -> UInt64 {
        let result = rotate(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotate(s3, 45)
        return result
    }

    private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1) with 53 random bits.
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Standard normal (Box–Muller; one of the pair is discarded to keep the state a plain value).
    mutating func normal() -> Double {
        let u1 = max(uniform(), .leastNonzeroMagnitude)
        let u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }

    /// Normal with the given mean and standard deviation.
    mutating func normal(mean: Double, sd: Double) -> Double { mean + sd * normal() }

    /// A positive duration with the given mean and standard deviation (log-normal: repair and changeover
    /// times are skewed, with a long tail and never negative).
    mutating func duration(_ distribution: Distribution) -> Double {
        guard distribution.mean > 0 else { return 0 }
        guard distribution.sd > 0 else { return distribution.mean }
        let ratio = distribution.sd / distribution.mean
        let sigma2 = log(1 + ratio * ratio)
        let mu = log(distribution.mean) - sigma2 / 2
        return exp(mu + sigma2.squareRoot() * normal())
    }

    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool { uniform() < p }
}

/// A mean and a standard deviation, as the plant file gives durations and cycle times.
struct Distribution: Equatable, Sendable {
    var mean: Double
    var sd: Double
}
