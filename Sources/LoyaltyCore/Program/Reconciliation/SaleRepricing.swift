/// A till prices a sale from its own view: the member's tier as it knows it, its own clock for promotions and
/// the birthday month. Head office, which sees every store, prices each sale again at the tier the member held
/// chain-wide just before it and at the time it counts (a till clock ahead counts from its arrival), and corrects
/// the difference with one visible entry per sale, in proportion to what returns left of the sale.
public enum SaleRepricing {
    /// A sale as the till priced it.
    public struct Sale: Hashable, Sendable {
        /// `STORE:SEQ`: what the correction's key names.
        public var key: String
        public var receipt: String
        /// When the sale counts chain-wide, and when the till said it happened.
        public var atMilliseconds: Int64
        public var statedAtMilliseconds: Int64
        /// The base points (lines × categories × points per unit, rounded) and the tier the till priced at.
        public var base: Int64
        public var pricedTier: String
        public var ruleVersion: Int
        public var amountMinor: Int64
        /// The amount returns took back (≤ 0).
        public var returnedMinor: Int64
        /// The points the till wrote for the sale, and what returns took back of them (≤ 0): a return by line
        /// takes what its lines earned, so what is left of the sale is measured in points (by amount when the
        /// sale earned none).
        public var points: Int64
        public var returnedPoints: Int64
        /// Whether the till priced it with the birthday month; nil when unknown (then as the chain would).
        public var pricedBirthday: Bool? = nil
        /// When the newest return of the sale was made: the share of a correction returns took is known from then.
        public var lastReturnAtMilliseconds: Int64? = nil

        public init(
            key: String, receipt: String, atMilliseconds: Int64, statedAtMilliseconds: Int64, base: Int64,
            pricedTier: String, ruleVersion: Int, amountMinor: Int64, returnedMinor: Int64, points: Int64 = 0,
            returnedPoints: Int64 = 0
        ) {
            self.points = points
            self.returnedPoints = returnedPoints
            self.key = key
            self.receipt = receipt
            self.atMilliseconds = atMilliseconds
            self.statedAtMilliseconds = statedAtMilliseconds
            self.base = base
            self.pricedTier = pricedTier
            self.ruleVersion = ruleVersion
            self.amountMinor = amountMinor
            self.returnedMinor = returnedMinor
        }
    }

    /// One row of the member's 12-month figures (head office's `hq_tier_rows`): it counts in the window at
    /// `atMilliseconds` and was known from `knownAtMilliseconds` (a return counts at its sale's time, but a sale
    /// made before the return still saw the whole sale).
    public struct FigureRow: Hashable, Sendable {
        public var kind: String
        public var points: Int64
        public var amountMinor: Int64
        public var atMilliseconds: Int64
        public var knownAtMilliseconds: Int64

        public init(
            kind: String, points: Int64, amountMinor: Int64, atMilliseconds: Int64, knownAtMilliseconds: Int64? = nil
        ) {
            self.kind = kind
            self.points = points
            self.amountMinor = amountMinor
            self.atMilliseconds = atMilliseconds
            self.knownAtMilliseconds = knownAtMilliseconds ?? atMilliseconds
        }
    }

    /// What the sale should be corrected by in all, and why.
    public struct Correction: Hashable, Sendable {
        public var sale: Sale
        public var points: Int64
        /// The difference for the whole sale, before returns took their share (the day cap counts it as granted).
        public var fullPoints: Int64 = 0
        public var chainTier: String
        public var reason: String
    }

    public static let reasonCode = "reconcile:sale_repriced"

    /// The corrections each sale should carry in all (0 where the till priced it as the chain would).
    /// - Parameters:
    ///   - sales: the member's sales priced by tills (with their base), any order.
    ///   - rows: the member's 12-month figure rows, without earlier corrections of sale prices.
    ///   - reviewFloor: the tier `tiers review` last gave the member, and when.
    ///   - program: the program a sale was priced under (its version, at its time); nil skips the sale.
    public static func corrections(
        sales: [Sale], rows: [FigureRow], reviewFloor: (tier: String, atMilliseconds: Int64)?,
        windowMilliseconds: Int64,
        birthdayMonth: Int?, birthdayKnownFromMilliseconds: Int64? = nil, flags: [String],
        chainProgram: ((Sale) -> LoyaltyProgram?)? = nil, program: (Sale) -> LoyaltyProgram?
    ) -> [Correction] {
        var added: [FigureRow] = []
        var reached: [(atMilliseconds: Int64, tier: String)] = []
        var result: [Correction] = []
        func progress(from: Int64, through: Int64, inclusive: Bool) -> TierProgress {
            var figure = TierProgress(spendMinorUnits: 0, pointsEarned: 0)
            for row in rows + added
            where row.atMilliseconds > from
                && (inclusive
                    ? row.atMilliseconds <= through && row.knownAtMilliseconds <= through
                    : row.atMilliseconds < through && row.knownAtMilliseconds < through)
            {
                figure.spendMinorUnits &+= row.amountMinor
                let earned = ["earn", "bonus"].contains(row.kind) || (row.kind == "reverse" && row.points < 0)
                if earned { figure.pointsEarned &+= row.points }
            }
            return figure
        }
        for sale in sales.sorted(by: { ($0.atMilliseconds, $0.key) < ($1.atMilliseconds, $1.key) }) {
            // A percentile tier (`top_percent`) comes with the review: the review's floor holds it.
            guard let program = program(sale), program.tiers.contains(where: { $0.name == sale.pricedTier })
            else { continue }
            let rank = { (name: String) in program.tiers.firstIndex { $0.name == name } ?? 0 }
            let from = sale.atMilliseconds - windowMilliseconds
            // The tier held just before the sale: the review's, those earlier sales reached, the figure now.
            var held = program.tier(for: progress(from: from, through: sale.atMilliseconds, inclusive: false)).name
            if let floor = reviewFloor, floor.atMilliseconds <= sale.atMilliseconds, rank(floor.tier) > rank(held) {
                held = floor.tier
            }
            for earlier in reached
            where earlier.atMilliseconds > from && earlier.atMilliseconds < sale.atMilliseconds
                && rank(earlier.tier) > rank(held)
            {
                held = earlier.tier
            }
            var points: Int64 = 0
            var fullPoints: Int64 = 0
            let moved = sale.atMilliseconds != sale.statedAtMilliseconds
            let zone = program.chainTimeZone
            let (counted, stated) = (
                SaleMoment(milliseconds: sale.atMilliseconds, timeZone: zone),
                SaleMoment(milliseconds: sale.statedAtMilliseconds, timeZone: zone)
            )
            // The birthday as the always-online till knew it then, and as this till priced the sale. A birthday
            // changed since the sale: the one known then is gone, the till's pricing of it stands.
            let knownThen = (birthdayKnownFromMilliseconds ?? .min) <= sale.atMilliseconds
            let tillBirthday: Int? =
                switch sale.pricedBirthday {
                case .some(true): stated.month
                case .some(false): nil
                case .none: birthdayMonth
                }
            let chainBirthday = knownThen ? birthdayMonth : tillBirthday
            let birthdayRule = program.earningRules?.birthdayMonthMultiplierPercent != nil
            let birthdayDiffers =
                birthdayRule && knownThen && sale.pricedBirthday != nil
                && (chainBirthday == counted.month) != sale.pricedBirthday
            // The version in force at the sale's time as counted, when the till priced by one not yet in force (its
            // clock ran ahead): its base from the amount (a sale's categories do not travel with its lines).
            let chainRules = chainProgram?(sale).flatMap { $0.version == program.version ? nil : $0 }
            if held != sale.pricedTier || moved || birthdayDiffers || chainRules != nil {
                let chain =
                    if let chainRules {
                        try? chainRules.pointsBeforeDayCap(
                            base: chainRules.basePoints(minorUnits: sale.amountMinor) ?? sale.base,
                            tier: chainRules.tier(named: held), moment: counted, birthdayMonth: chainBirthday,
                            flags: flags)
                    } else {
                        try? program.pointsBeforeDayCap(
                            base: sale.base, tier: program.tier(named: held), moment: counted,
                            birthdayMonth: chainBirthday,
                            flags: flags)
                    }
                let till = try? program.pointsBeforeDayCap(
                    base: sale.base, tier: program.tier(named: sale.pricedTier), moment: stated,
                    birthdayMonth: sale.pricedBirthday == nil ? chainBirthday : tillBirthday, flags: flags)
                // (An unknown pricing of the birthday is taken as the chain's: it changes nothing.)
                if let chain, let till, sale.amountMinor > 0 {
                    // What returns left of the sale keeps its share of the difference.
                    let (kept, whole) =
                        sale.points > 0
                        ? (max(0, sale.points + sale.returnedPoints), sale.points)
                        : (max(0, sale.amountMinor + sale.returnedMinor), sale.amountMinor)
                    fullPoints = chain - till
                    let scaled = (chain - till).multipliedFullWidth(by: min(kept, whole))
                    points = whole.dividingFullWidth(scaled).quotient
                }
            }
            // The whole difference was known with the sale; the share returns took, from the newest return on (a
            // later sale saw the whole correction, as it saw the whole sale).
            if fullPoints != 0 {
                added.append(
                    FigureRow(kind: "bonus", points: fullPoints, amountMinor: 0, atMilliseconds: sale.atMilliseconds))
            }
            if points != fullPoints {
                added.append(
                    FigureRow(
                        kind: "bonus", points: points - fullPoints, amountMinor: 0, atMilliseconds: sale.atMilliseconds,
                        knownAtMilliseconds: sale.lastReturnAtMilliseconds ?? sale.atMilliseconds))
            }
            let why =
                chainRules != nil
                ? "priced by program version \(program.version), not yet in force at the time it counts"
                : held != sale.pricedTier
                    ? "priced at \(sale.pricedTier), the tier the member held across the chain then was \(held)"
                    : moved
                        ? "dated ahead of head office's clock, priced at the time it arrived"
                        : birthdayDiffers
                            ? (sale.pricedBirthday == true
                                ? "priced with a birthday month the chain did not know then"
                                : "priced without the member's birthday month, which the chain knew")
                            : "priced at \(sale.pricedTier), the tier the member held across the chain then"
            result.append(
                Correction(
                    sale: sale, points: points, fullPoints: fullPoints, chainTier: held,
                    reason: "\(reasonCode): sale \(sale.receipt) \(why)"))
            reached.append(
                (
                    sale.atMilliseconds,
                    program.tier(for: progress(from: from, through: sale.atMilliseconds, inclusive: true)).name
                ))
        }
        return result
    }
}
