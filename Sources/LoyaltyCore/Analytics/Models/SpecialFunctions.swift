#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The few special functions the models need beyond the C library's.
enum Special {
    /// `log(exp(a) + exp(b))` without overflow.
    static func logAddExp(_ a: Double, _ b: Double) -> Double {
        if a == -.infinity { return b }
        if b == -.infinity { return a }
        let high = Swift.max(a, b)
        return high + log1p(exp(-abs(a - b)))
    }

    /// Gauss's hypergeometric function ₂F₁(a, b; c; z) for 0 ≤ z < 1 by its power series, summed until
    /// a term no longer changes the sum (at most `maximumTerms`).
    static func hypergeometric2F1(_ a: Double, _ b: Double, _ c: Double, _ z: Double, maximumTerms: Int = 100_000) -> Double {
        precondition(z >= 0 && z < 1, "the series converges for 0 ≤ z < 1")
        var term = 1.0
        var sum = 1.0
        for n in 0..<maximumTerms {
            let k = Double(n)
            term *= (a + k) * (b + k) / ((c + k) * (k + 1)) * z
            sum += term
            if abs(term) <= 1e-16 * abs(sum) && k > a + b { break }
        }
        return sum
    }
}
