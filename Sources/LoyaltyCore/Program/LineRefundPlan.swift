/// One line of a recorded sale, with what earlier returns already took back.
public struct SaleLineState: Hashable, Sendable {
    public var sku: String
    public var amountMinor: Int64
    /// What the line earned (its share of the sale's points).
    public var points: Int64
    public var returnedMinor: Int64
    public var reversedPoints: Int64

    public init(sku: String, amountMinor: Int64, points: Int64, returnedMinor: Int64 = 0, reversedPoints: Int64 = 0) {
        self.sku = sku
        self.amountMinor = amountMinor
        self.points = points
        self.returnedMinor = returnedMinor
        self.reversedPoints = reversedPoints
    }
}

/// A returned line: which article (`sku`) and how much of it (minor units).
public struct LineReturn: Hashable, Sendable {
    public var sku: String
    public var amountMinor: Int64

    public init(sku: String, amountMinor: Int64) {
        self.sku = sku
        self.amountMinor = amountMinor
    }
}

/// What a return takes from each line of a sale: per line cumulative and pro rata, exactly what the
/// line earned once all of it is back, so returns in any split add up to what each line earned.
public struct LineRefundPlan: Hashable, Sendable {
    public struct Part: Hashable, Sendable {
        public var line: Int
        public var amountMinor: Int64
        public var points: Int64
    }

    public var parts: [Part]
    public var amountMinor: Int64 { parts.reduce(0) { $0 + $1.amountMinor } }
    public var points: Int64 { parts.reduce(0) { $0 + $1.points } }

    /// Plans the return of `returns` (nil: everything that remains of every line).
    public static func plan(_ lines: [SaleLineState], returns: [LineReturn]?) throws(LoyaltyError) -> LineRefundPlan {
        var taking = [Int64](repeating: 0, count: lines.count)
        if let returns {
            guard !returns.isEmpty else { throw .badInput("bad_line", "name at least one returned line (SKU:AMOUNT)") }
            for wanted in returns {
                guard wanted.amountMinor > 0 else {
                    throw .badInput("bad_line", "a returned line's amount must be above zero (\(wanted.sku))")
                }
                let candidates = lines.indices.filter { lines[$0].sku == wanted.sku }
                guard !candidates.isEmpty else {
                    throw .refused(
                        "unknown_line", "the sale has no line \(wanted.sku); check the article against the receipt")
                }
                var left = wanted.amountMinor
                for index in candidates where left > 0 {
                    let room = lines[index].amountMinor - lines[index].returnedMinor - taking[index]
                    let take = min(room, left)
                    taking[index] += take
                    left -= take
                }
                guard left == 0 else {
                    let room =
                        candidates.reduce(Int64(0)) { $0 + lines[$1].amountMinor - lines[$1].returnedMinor }
                        - wanted.amountMinor + left
                    throw .refused(
                        "over_refund",
                        "only \(max(0, room)) minor units of \(wanted.sku) are left to return; return at most that")
                }
            }
        } else {
            taking = lines.map { $0.amountMinor - $0.returnedMinor }
        }
        var parts: [Part] = []
        for (index, line) in lines.enumerated() where taking[index] > 0 {
            let returnedAfter = line.returnedMinor + taking[index]
            let reversedAfter =
                returnedAfter >= line.amountMinor
                ? line.points : Int64(Int128(line.points) * Int128(returnedAfter) / Int128(line.amountMinor))
            // Never negative: another store's return may have taken more of the line than this return counts.
            parts.append(Part(line: index, amountMinor: taking[index], points: max(0, reversedAfter - line.reversedPoints)))
        }
        guard !parts.isEmpty else {
            throw .refused(
                "already_refunded", "every line of this sale is already returned; nothing is left to take back")
        }
        return LineRefundPlan(parts: parts)
    }
}
