#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV: Using Iso-Value Curves"): a
/// member's sale values are gamma(p, ν) around their own mean, and ν is gamma(q, γ) across members.
/// Fitted on members with repeat purchases: their count `x` and mean repeat value `m`.
public struct GammaGammaSpend: Hashable, Sendable, Codable {
    public var p: Double
    public var q: Double
    public var gamma: Double
    /// Σ log-likelihood of the fitted members at these parameters.
    public var logLikelihood: Double

    public init(p: Double, q: Double, gamma: Double, logLikelihood: Double = .nan) {
        self.p = p
        self.q = q
        self.gamma = gamma
        self.logLikelihood = logLikelihood
    }

    /// Maximum-likelihood fit on (repeat purchases, mean repeat value) pairs with both > 0.
    public static func fit(_ members: [(frequency: Double, meanValue: Double)]) throws(LoyaltyError) -> GammaGammaSpend {
        let usable = members.filter { $0.frequency > 0 && $0.meanValue > 0 }
        guard usable.count >= 2 else {
            throw .refused(
                "not_enough_history",
                "the spend model needs at least two members with repeat purchases of positive value; it has \(usable.count)")
        }
        // Grouped by frequency: the gamma-function terms depend on x alone, so each evaluation takes
        // one logarithm per member and a few gamma functions per distinct frequency.
        var frequencies: [Double] = []
        var frequencyIndex: [Double: Int] = [:]
        var rows: [(frequency: Int, m: Double, logM: Double)] = []
        for member in usable {
            let index: Int
            if let known = frequencyIndex[member.frequency] {
                index = known
            } else {
                frequencies.append(member.frequency)
                index = frequencies.count - 1
                frequencyIndex[member.frequency] = index
            }
            rows.append((index, member.meanValue, log(member.meanValue)))
        }
        let logFrequencies = frequencies.map { log($0) }
        func logLikelihood(_ p: Double, _ q: Double, _ gamma: Double) -> Double {
            let shared = -lgamma(q) + q * log(gamma)
            let perFrequency = frequencies.indices.map { index in
                let px = p * frequencies[index]
                return (lgamma(px + q) - lgamma(px) + shared + px * logFrequencies[index], px)
            }
            var total = 0.0
            for row in rows {
                let (terms, px) = perFrequency[row.frequency]
                total += terms + (px - 1) * row.logM - (px + q) * log(frequencies[row.frequency] * row.m + gamma)
            }
            return total
        }
        let result = NelderMead.minimize(start: [0, 0, 0]) { point in
            -logLikelihood(exp(point[0]), exp(point[1]), exp(point[2]))
        }
        return GammaGammaSpend(
            p: exp(result.point[0]), q: exp(result.point[1]), gamma: exp(result.point[2]), logLikelihood: -result.value)
    }

    /// Expected value of a member's future sale given `frequency` repeat purchases of mean `meanValue`;
    /// the population mean for a member without repeat purchases.
    public func expectedSaleValue(frequency: Double, meanValue: Double) -> Double {
        guard frequency > 0, meanValue > 0 else { return populationMean }
        return p * (gamma + frequency * meanValue) / (p * frequency + q - 1)
    }

    /// `p γ / (q − 1)`; infinite when q ≤ 1 (the model then has no finite mean).
    public var populationMean: Double { q > 1 ? p * gamma / (q - 1) : .infinity }
}
