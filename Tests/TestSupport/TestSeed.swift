import Foundation

/// Seeds for randomised tests: every run prints its seed, and `LOYALTY_TEST_SEED=N` replays it.
public enum TestSeed {
    /// `LOYALTY_TEST_SEED` when set, else `fallback` (or a fresh seed from the clock); printed either way.
    public static func make(_ test: String, fallback: UInt64? = nil) -> UInt64 {
        let seed =
            ProcessInfo.processInfo.environment["LOYALTY_TEST_SEED"].flatMap(UInt64.init)
            ?? fallback ?? UInt64(Date().timeIntervalSince1970 * 1_000_000)
        print("\(test): seed \(seed) (replay with LOYALTY_TEST_SEED=\(seed))")
        return seed
    }
}
