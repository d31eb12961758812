/// What every store's returns of one sale should have taken back and given back together, counted as one
/// always-online till would have: earned points per line or pro rata, redeemed points pro rata to the
/// amount returned, cumulative, never more than the sale earned or redeemed. Returns taken at two stores
/// from a stale view (the other's return not yet at head office) can take a line twice, give redeemed
/// points back twice, or round apart; head office corrects the difference.
public enum ReturnRecount {
    /// One return of the sale: amount (≤ 0) and points (≤ 0) as its entry carries them, and per line
    /// what it took (nil when it was not a return by line).
    public struct Return: Sendable {
        public var amountMinor: Int64
        public var points: Int64
        public var lines: [(line: Int, amountMinor: Int64)]?
        /// When the return was taken (the store's time).
        public var atMilliseconds: Int64

        public init(amountMinor: Int64, points: Int64, lines: [(line: Int, amountMinor: Int64)]?, atMilliseconds: Int64 = 0) {
            self.amountMinor = amountMinor
            self.points = points
            self.lines = lines
            self.atMilliseconds = atMilliseconds
        }
    }

    /// What the returns should have done in all.
    public struct Expected: Hashable, Sendable {
        /// Earned points taken back (≥ 0).
        public var takeBack: Int64
        /// Redeemed points given back (≥ 0).
        public var restore: Int64
        /// The amount returned, each line (or the sale) counted at most once.
        public var returnedMinor: Int64
    }

    /// The figures, or nil when the facts do not say (a sale with lines whose returns do not all name
    /// their lines, or lines head office never received).
    /// - Parameters:
    ///   - lines: the sale's lines (amount, points), nil when it was recorded without.
    ///   - redeemedPoints: what the receipt's redemption spent (≥ 0).
    public static func expected(
        saleMinor: Int64, earnedPoints: Int64, redeemedPoints: Int64, lines: [(amountMinor: Int64, points: Int64)]?,
        returns: [Return]
    ) -> Expected? {
        guard saleMinor > 0, earnedPoints >= 0, redeemedPoints >= 0 else { return nil }
        var takeBack: Int64 = 0
        var returnedMinor: Int64 = 0
        if let lines {
            var returned = [Int64](repeating: 0, count: lines.count)
            for taken in returns {
                guard let parts = taken.lines else { return nil }
                for part in parts {
                    guard returned.indices.contains(part.line), part.amountMinor >= 0 else { return nil }
                    returned[part.line] += part.amountMinor
                }
            }
            for (line, back) in zip(lines, returned) where line.amountMinor > 0 && line.points >= 0 {
                let counted = min(back, line.amountMinor)
                returnedMinor += counted
                takeBack +=
                    counted >= line.amountMinor
                    ? line.points : Rounding.down.scale(line.points, by: counted, dividedBy: line.amountMinor)
            }
        } else {
            guard returns.allSatisfy({ $0.lines == nil }) else { return nil }
            returnedMinor = min(saleMinor, max(0, -returns.reduce(0) { $0 + $1.amountMinor }))
            takeBack =
                returnedMinor >= saleMinor
                ? earnedPoints : Rounding.down.scale(earnedPoints, by: returnedMinor, dividedBy: saleMinor)
        }
        let restore =
            returnedMinor >= saleMinor
            ? redeemedPoints : Rounding.down.scale(redeemedPoints, by: returnedMinor, dividedBy: saleMinor)
        return Expected(takeBack: takeBack, restore: restore, returnedMinor: returnedMinor)
    }

    /// A redemption made with no sale on its receipt, given back (by any number of returns): once, all of it.
    public static func givingBackARedemption(redeemedPoints: Int64) -> Expected? {
        guard redeemedPoints >= 0 else { return nil }
        return Expected(takeBack: 0, restore: redeemedPoints, returnedMinor: 0)
    }

    /// What each return should have taken back, in the order they were taken: the always-online figure
    /// after it less the figure before it, at its time. Nil when ``expected(saleMinor:earnedPoints:redeemedPoints:lines:returns:)``
    /// cannot say. The per-day cap counts a sale's returns so, at the moments the program would have.
    public static func takenBackByReturn(
        saleMinor: Int64, earnedPoints: Int64, redeemedPoints: Int64, lines: [(amountMinor: Int64, points: Int64)]?,
        returns: [Return]
    ) -> [(atMilliseconds: Int64, points: Int64)]? {
        let ordered = returns.enumerated().sorted { ($0.element.atMilliseconds, $0.offset) < ($1.element.atMilliseconds, $1.offset) }
            .map(\.element)
        var taken: [(atMilliseconds: Int64, points: Int64)] = []
        var before: Int64 = 0
        for count in ordered.indices {
            guard
                let after = expected(
                    saleMinor: saleMinor, earnedPoints: earnedPoints, redeemedPoints: redeemedPoints, lines: lines,
                    returns: Array(ordered[...count]))?.takeBack
            else { return nil }
            taken.append((ordered[count].atMilliseconds, after - before))
            before = after
        }
        return taken
    }
}
