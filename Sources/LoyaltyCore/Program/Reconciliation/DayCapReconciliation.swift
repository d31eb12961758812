/// One sale as the per-day cap sees it: what the till granted, when, under which cap, and what refunds
/// took back of it since.
public struct CappedSale: Hashable, Sendable {
    public struct Refund: Hashable, Sendable {
        public var atMilliseconds: Int64
        /// Points the refund took back (≤ 0).
        public var points: Int64
        /// The amount it gave back (≤ 0): what is left of a sale that was granted no points is measured in money.
        public var amountMinor: Int64

        public init(atMilliseconds: Int64, points: Int64, amountMinor: Int64 = 0) {
            self.atMilliseconds = atMilliseconds
            self.points = points
            self.amountMinor = amountMinor
        }
    }

    public var storeId: String
    public var atMilliseconds: Int64
    /// The chain day of the sale (the program's time zone), e.g. `2026-12-05`.
    public var day: String
    /// Points the till granted (≥ 0).
    public var granted: Int64
    /// What the sale earns before the per-day cap (≥ `granted`): a till that capped it from a stale view (it had
    /// not heard of a refund elsewhere) granted less than the always-online program would have.
    public var uncapped: Int64
    /// The sale's amount: what is left of it after refunds, when it was granted no points.
    public var amountMinor: Int64
    /// The member's day cap under the program the sale was earned under; nil: no cap.
    public var dayCapPoints: Int64?
    public var refunds: [Refund]

    public init(
        storeId: String, atMilliseconds: Int64, day: String, granted: Int64, uncapped: Int64? = nil,
        amountMinor: Int64 = 0, dayCapPoints: Int64?, refunds: [Refund] = []
    ) {
        precondition(granted >= 0 && refunds.allSatisfy { $0.points <= 0 }, "sales grant, refunds take back")
        self.storeId = storeId
        self.atMilliseconds = atMilliseconds
        self.day = day
        self.granted = granted
        self.uncapped = max(granted, uncapped ?? granted)
        self.amountMinor = max(0, amountMinor)
        self.dayCapPoints = dayCapPoints
        self.refunds = refunds
    }

    /// Points of the sale still standing after the refunds made before `milliseconds`.
    func standing(before milliseconds: Int64) -> Int64 {
        granted + refunds.filter { $0.atMilliseconds < milliseconds }.reduce(0) { $0 + $1.points }
    }

    /// Points of the sale still standing now.
    var standing: Int64 { granted + refunds.reduce(0) { $0 + $1.points } }

    /// The part of `kept` the sale still holds after the refunds made before `milliseconds` (all of them when nil):
    /// in proportion to its points, or to its amount when it was granted none.
    func share(of kept: Int64, before milliseconds: Int64? = nil) -> Int64 {
        let counted = refunds.filter { milliseconds == nil || $0.atMilliseconds < milliseconds! }
        if granted == 0 && amountMinor > 0 {
            let left = amountMinor + counted.reduce(0) { $0 + $1.amountMinor }
            return DayCapReconciliation.share(of: kept, standing: left, of: amountMinor)
        }
        return DayCapReconciliation.share(of: kept, standing: granted + counted.reduce(0) { $0 + $1.points }, of: granted)
    }
}

/// The per-day cap as the always-online program applies it, from every store's sales of a member.
///
/// A till caps a sale by the day's points it knows of (head office's figure plus its own), so two tills
/// offline can each grant up to the cap. In sale order, the always-online program would have granted
/// each sale at most what the cap left after the earlier sales of the day (net of what refunds had taken
/// back by then); a refund takes back the same share of what the sale kept. Head office corrects the
/// difference per day with one visible entry.
public enum DayCapReconciliation {
    /// Per day, the points the member holds beyond what the always-online program gives (negative: a till capped
    /// a sale from a stale view and the member is owed points), and the stores whose sales made them.
    public struct Excess: Hashable, Sendable {
        public var day: String
        /// Points held beyond the oracle's: what the correction takes back (before earlier corrections); negative
        /// when the member is owed points.
        public var points: Int64
        public var stores: [String]
    }

    /// The excess of each day with capped sales, in day order (days without excess are listed with 0, so
    /// an earlier correction that a refund made too large can be given back).
    public static func excess(of sales: [CappedSale]) -> [Excess] {
        var byDay: [String: [CappedSale]] = [:]
        for sale in sales where sale.dayCapPoints != nil { byDay[sale.day, default: []].append(sale) }
        return byDay.keys.sorted().map { day in
            let sales = byDay[day]!.sorted { ($0.atMilliseconds, $0.storeId) < ($1.atMilliseconds, $1.storeId) }
            var kept: [Int64] = []
            for sale in sales {
                // What the day's earlier sales hold at this sale's moment, as the oracle kept them.
                var running: Int64 = 0
                for (index, earlier) in sales[..<kept.count].enumerated() {
                    running += earlier.share(of: kept[index], before: sale.atMilliseconds)
                }
                kept.append(min(sale.uncapped, max(0, sale.dayCapPoints! - running)))
            }
            var held: Int64 = 0
            var due: Int64 = 0
            for (index, sale) in sales.enumerated() {
                held += sale.standing
                due += sale.share(of: kept[index])
            }
            let stores = Set(sales.filter { $0.granted > 0 }.map(\.storeId)).sorted()
            return Excess(day: day, points: held - due, stores: stores)
        }
    }

    /// `kept × standing / granted`, rounded down: the part of the kept points a partly refunded sale still
    /// holds (all of them unrefunded, none fully refunded).
    static func share(of kept: Int64, standing: Int64, of granted: Int64) -> Int64 {
        guard granted > 0, standing < granted else { return standing <= 0 ? 0 : kept }
        guard standing > 0 else { return 0 }
        let (product, overflow) = kept.multipliedReportingOverflow(by: standing)
        return overflow ? Int64((Double(kept) * Double(standing) / Double(granted)).rounded(.down)) : product / granted
    }
}
