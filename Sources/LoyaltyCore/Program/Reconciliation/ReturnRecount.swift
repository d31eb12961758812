/// What every store's returns of one sale should have taken back together, counted as one always-online
/// till would have: per line, or pro rata, cumulative, never more than was earned. Returns taken at two
/// stores from a stale view (the other's return not yet at head office) can take a line twice, or round
/// apart; head office corrects the difference.
public enum ReturnRecount {
    /// One return of the sale: amount (≤ 0) and points (≤ 0) as its entry carries them, and per line
    /// what it took (nil when it was not a return by line).
    public struct Return: Sendable {
        public var amountMinor: Int64
        public var points: Int64
        public var lines: [(line: Int, amountMinor: Int64)]?

        public init(amountMinor: Int64, points: Int64, lines: [(line: Int, amountMinor: Int64)]?) {
            self.amountMinor = amountMinor
            self.points = points
            self.lines = lines
        }
    }

    /// The points (≥ 0) the returns should have taken back in all, or nil when the facts do not say (a
    /// sale with lines whose returns do not all name their lines, or lines head office never received).
    /// - Parameters:
    ///   - lines: the sale's lines (amount, points), nil when it was recorded without.
    public static func expectedTakeBack(
        saleMinor: Int64, earnedPoints: Int64, lines: [(amountMinor: Int64, points: Int64)]?, returns: [Return]
    ) -> Int64? {
        guard saleMinor > 0, earnedPoints >= 0 else { return nil }
        if let lines {
            var returned = [Int64](repeating: 0, count: lines.count)
            for taken in returns {
                guard let parts = taken.lines else { return nil }
                for part in parts {
                    guard returned.indices.contains(part.line) else { return nil }
                    returned[part.line] += part.amountMinor
                }
            }
            return zip(lines, returned).reduce(0) { sum, pair in
                let (line, back) = pair
                guard line.amountMinor > 0 else { return sum }
                return sum
                    + (back >= line.amountMinor
                        ? line.points : Rounding.down.scale(line.points, by: back, dividedBy: line.amountMinor))
            }
        }
        guard returns.allSatisfy({ $0.lines == nil }) else { return nil }
        let refunded = min(saleMinor, -returns.reduce(0) { $0 + $1.amountMinor })
        return refunded >= saleMinor
            ? earnedPoints : Rounding.down.scale(earnedPoints, by: max(0, refunded), dividedBy: saleMinor)
    }
}
