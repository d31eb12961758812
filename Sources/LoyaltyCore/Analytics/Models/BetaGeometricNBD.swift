#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One member's purchase history in the form the BG/NBD model reads (the `lifetimes` convention):
/// `frequency` repeat purchases, the last at `recency` after the first, observed for `age` since the
/// first purchase. Times in weeks.
public struct RepeatPurchaseHistory: Hashable, Sendable {
    public var frequency: Double
    public var recency: Double
    public var age: Double

    public init(frequency: Double, recency: Double, age: Double) {
        self.frequency = frequency
        self.recency = recency
        self.age = age
    }
}

/// The BG/NBD model (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way"): purchases
/// follow a Poisson process with gamma(r, α) heterogeneity while a member is alive; after each
/// purchase the member drops out with a beta(a, b) distributed probability.
public struct BetaGeometricNBD: Hashable, Sendable, Codable {
    public var r: Double
    public var alpha: Double
    public var a: Double
    public var b: Double
    /// Σ log-likelihood of the fitted histories at these parameters.
    public var logLikelihood: Double
    /// Likelihood evaluations the fit took (bounded by ``maximumFitEvaluations``).
    public var fitEvaluations = 0

    /// The fit's work bound: a likelihood with its maximum at infinity (no dropout in the data, say)
    /// would otherwise be followed for ever.
    public static let maximumFitEvaluations = 6_000

    public init(r: Double, alpha: Double, a: Double, b: Double, logLikelihood: Double = .nan) {
        self.r = r
        self.alpha = alpha
        self.a = a
        self.b = b
        self.logLikelihood = logLikelihood
    }

    /// Maximum-likelihood fit. Times are rescaled so the longest observation is 10 (as `lifetimes`
    /// does, for a well-conditioned search) and α is scaled back.
    public static func fit(_ histories: [RepeatPurchaseHistory]) throws(LoyaltyError) -> BetaGeometricNBD {
        guard histories.count >= 2, histories.contains(where: { $0.frequency > 0 }) else {
            throw .refused(
                "not_enough_history",
                "the BG/NBD model needs at least two members and one repeat purchase; it has \(histories.count) members")
        }
        for history in histories {
            guard history.frequency >= 0, history.recency >= 0, history.age >= history.recency,
                history.frequency.rounded() == history.frequency, history.age.isFinite
            else {
                throw .badInput(
                    "bad_history",
                    "each history needs a whole frequency ≥ 0 and 0 ≤ recency ≤ T (got \(history.frequency), \(history.recency), \(history.age))")
            }
        }
        let longest = histories.map(\.age).max() ?? 1
        let scale = longest > 0 ? 10 / longest : 1
        let data = CompressedHistories(histories, scale: scale)
        let result = NelderMead.minimize(start: [0, 0, 0, 0], maximumEvaluations: maximumFitEvaluations) { point in
            -data.logLikelihood(r: exp(point[0]), alpha: exp(point[1]), a: exp(point[2]), b: exp(point[3]))
        }
        let point = result.point.map { exp($0) }
        let logLikelihoodScaled = -result.value
        // Rescaling time by s changes each member's density by s^x (one factor per repeat purchase).
        let totalRepeats = histories.reduce(0) { $0 + $1.frequency }
        var model = BetaGeometricNBD(
            r: point[0], alpha: point[1] / scale, a: point[2], b: point[3],
            logLikelihood: logLikelihoodScaled + totalRepeats * log(scale))
        model.fitEvaluations = result.evaluations
        return model
    }

    /// Σ log-likelihood of `histories` at these parameters.
    public func logLikelihood(of histories: [RepeatPurchaseHistory]) -> Double {
        CompressedHistories(histories, scale: 1).logLikelihood(r: r, alpha: alpha, a: a, b: b)
    }

    /// The probability that a member with this history is still alive (Fader, Hardie & Lee 2008 note).
    public func probabilityAlive(_ history: RepeatPurchaseHistory) -> Double {
        guard history.frequency > 0 else { return 1 }
        let x = history.frequency
        let logRatio = log(a / (b + x - 1)) + (r + x) * (log(alpha + history.age) - log(alpha + history.recency))
        return 1 / (1 + exp(logRatio))
    }

    /// Expected purchases in the next `weeks` for a member with this history (eq. 10 of the 2005 paper).
    public func expectedPurchases(_ history: RepeatPurchaseHistory, weeks: Double) -> Double {
        let x = history.frequency
        let ageAlpha = alpha + history.age
        let z = weeks / (ageAlpha + weeks)
        let hypergeometric = Special.hypergeometric2F1(r + x, b + x, a + b + x - 1, z)
        let numerator = (a + b + x - 1) / (a - 1) * (1 - exp((r + x) * log(ageAlpha / (ageAlpha + weeks))) * hypergeometric)
        let denominator: Double
        if x > 0 {
            denominator = 1 + exp(log(a / (b + x - 1)) + (r + x) * (log(ageAlpha) - log(alpha + history.recency)))
        } else {
            denominator = 1
        }
        return numerator / denominator
    }
}

/// Histories grouped by identical (x, tₓ, T) with a count, with the distinct recencies and ages listed
/// once: a fit evaluates the likelihood thousands of times, and each evaluation then takes one
/// logarithm per distinct time and per distinct frequency, not several per member.
private struct CompressedHistories {
    var frequencies: [Double] = []
    var times: [Double] = []
    /// Indexes into `frequencies` and `times` (recency, age), and how many members share the row.
    var rows: [(frequency: Int32, recency: Int32, age: Int32, count: Double)] = []

    init(_ histories: [RepeatPurchaseHistory], scale: Double) {
        var frequencyIndex: [Double: Int32] = [:]
        var timeIndex: [Double: Int32] = [:]
        func index(_ value: Double, _ table: inout [Double: Int32], _ list: inout [Double]) -> Int32 {
            if let known = table[value] { return known }
            list.append(value)
            table[value] = Int32(list.count - 1)
            return Int32(list.count - 1)
        }
        var counts: [RepeatPurchaseHistory: Double] = [:]
        for history in histories { counts[history, default: 0] += 1 }
        let ordered = counts.sorted {
            ($0.key.frequency, $0.key.age, $0.key.recency) < ($1.key.frequency, $1.key.age, $1.key.recency)
        }
        for (history, count) in ordered {
            rows.append((
                index(history.frequency, &frequencyIndex, &frequencies),
                index(history.recency * scale, &timeIndex, &times), index(history.age * scale, &timeIndex, &times), count))
        }
    }

    func logLikelihood(r: Double, alpha: Double, a: Double, b: Double) -> Double {
        let logA = log(a)
        let shared = lgamma(a + b) - lgamma(b) - lgamma(r) + r * log(alpha)
        // Per frequency: the gamma-function terms, r + x, and log(a / (b + x − 1)).
        let perFrequency = frequencies.map { x in
            (lgamma(r + x) + lgamma(b + x) - lgamma(a + b + x), r + x, x > 0 ? logA - log(b + x - 1) : -Double.infinity)
        }
        let logTimes = times.map { log(alpha + $0) }
        var total = 0.0
        for row in rows {
            let (gammaTerms, rx, dropout) = perFrequency[Int(row.frequency)]
            let survived = -rx * logTimes[Int(row.age)]
            let droppedOut = dropout == -.infinity ? -Double.infinity : dropout - rx * logTimes[Int(row.recency)]
            total += row.count * (shared + gammaTerms + Special.logAddExp(survived, droppedOut))
        }
        return total
    }
}
