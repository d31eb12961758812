/// `GET /v1/stores/{storeId}/sales?receipt=R[&sold_at=S]`: a sale another store made, as head office
/// holds it, for a return at the asking store. Refunds the asking store already made of it are left out
/// (the store adds its own from its ledger, synced or not); refunds by every other store are counted.
public struct SaleElsewhere: Codable, Hashable, Sendable {
    /// The store that sold, and the sale's `earn` entry there.
    public var storeId: String
    public var receipt: String
    public var earnSeq: Int64?
    public var card: String
    public var currency: String
    public var soldAtMilliseconds: Int64
    public var amountMinor: Int64
    public var points: Int64
    public var ruleVersion: Int
    /// What other stores' refunds of the sale took: amount and points (both ≥ 0).
    public var refundedMinor: Int64
    public var reversedPoints: Int64
    /// The receipt's redemption at the selling store, if any, and the points refunds gave back of it.
    public var redeemSeq: Int64?
    public var redeemCard: String?
    public var redeemRuleVersion: Int?
    public var redeemedPoints: Int64
    public var restoredPoints: Int64
    /// The sale's lines (absent when it was recorded without), each with what other stores' returns took.
    public var lines: [Line]?
    /// Bonuses the sale brought (the first-purchase bonus) that no other store's return took back yet: a
    /// full return takes them back, as at the store that sold.
    public var bonuses: [Bonus]?

    public struct Bonus: Codable, Hashable, Sendable {
        public var seq: Int64
        public var card: String
        public var points: Int64
        public var ruleVersion: Int

        public init(seq: Int64, card: String, points: Int64, ruleVersion: Int) {
            self.seq = seq
            self.card = card
            self.points = points
            self.ruleVersion = ruleVersion
        }

        enum CodingKeys: String, CodingKey {
            case seq, card, points
            case ruleVersion = "rule_version"
        }
    }

    public struct Line: Codable, Hashable, Sendable {
        public var sku: String
        public var amountMinor: Int64
        public var points: Int64
        public var returnedMinor: Int64
        public var reversedPoints: Int64

        public init(sku: String, amountMinor: Int64, points: Int64, returnedMinor: Int64, reversedPoints: Int64) {
            self.sku = sku
            self.amountMinor = amountMinor
            self.points = points
            self.returnedMinor = returnedMinor
            self.reversedPoints = reversedPoints
        }

        enum CodingKeys: String, CodingKey {
            case sku, points
            case amountMinor = "amount_minor"
            case returnedMinor = "returned_minor"
            case reversedPoints = "reversed_points"
        }
    }

    public init(
        storeId: String, receipt: String, earnSeq: Int64?, card: String, currency: String, soldAtMilliseconds: Int64,
        amountMinor: Int64, points: Int64, ruleVersion: Int, refundedMinor: Int64, reversedPoints: Int64,
        redeemSeq: Int64?, redeemCard: String?, redeemRuleVersion: Int?, redeemedPoints: Int64, restoredPoints: Int64,
        lines: [Line]?, bonuses: [Bonus]? = nil
    ) {
        self.bonuses = bonuses
        self.storeId = storeId
        self.receipt = receipt
        self.earnSeq = earnSeq
        self.card = card
        self.currency = currency
        self.soldAtMilliseconds = soldAtMilliseconds
        self.amountMinor = amountMinor
        self.points = points
        self.ruleVersion = ruleVersion
        self.refundedMinor = refundedMinor
        self.reversedPoints = reversedPoints
        self.redeemSeq = redeemSeq
        self.redeemCard = redeemCard
        self.redeemRuleVersion = redeemRuleVersion
        self.redeemedPoints = redeemedPoints
        self.restoredPoints = restoredPoints
        self.lines = lines
    }

    enum CodingKeys: String, CodingKey {
        case receipt, card, currency, points, lines, bonuses
        case storeId = "store_id"
        case earnSeq = "earn_seq"
        case soldAtMilliseconds = "sold_at_ms"
        case amountMinor = "amount_minor"
        case ruleVersion = "rule_version"
        case refundedMinor = "refunded_minor"
        case reversedPoints = "reversed_points"
        case redeemSeq = "redeem_seq"
        case redeemCard = "redeem_card"
        case redeemRuleVersion = "redeem_rule_version"
        case redeemedPoints = "redeemed_points"
        case restoredPoints = "restored_points"
    }
}

extension SaleElsewhere {
    /// Why the till cannot plan a return from this answer (a figure out of range), or nil: figures from the
    /// wire are bounded before any arithmetic on them.
    public var problem: String? {
        let bound = SyncEntry.maximumMagnitude
        let figures =
            [amountMinor, points, refundedMinor, reversedPoints, redeemedPoints, restoredPoints]
            + (lines ?? []).flatMap { [$0.amountMinor, $0.points, $0.returnedMinor, $0.reversedPoints] }
            + (bonuses ?? []).map(\.points)
        // Sums of many returns stay far below Int64 within 1000 × the bound of one entry.
        if figures.contains(where: { $0 < 0 || $0.magnitude > bound * 1_000 }) {
            return "a figure of the sale is negative or out of range"
        }
        if (lines?.count ?? 0) > SyncEntry.maximumLines || (bonuses?.count ?? 0) > 100 {
            return "too many lines or bonuses"
        }
        if (lines ?? []).contains(where: { $0.amountMinor == 0 }) { return "a line of amount 0" }
        return nil
    }
}
