public import LoyaltyCore

/// A sale another store made, as head office described it for a return here: what it earned and
/// redeemed, per line when it was recorded with lines, and what other stores' returns already took.
/// This till's own returns of it are not in it: the ledger adds them, synced or not.
public struct SoldElsewhere: Hashable, Sendable {
    public var storeId: String
    public var receipt: ReceiptReference
    /// The member's card on the sale.
    public var card: String
    public var currencyCode: String
    /// The sale's `earn` entry at the selling store, and the program version it was priced under.
    public var earnSeq: Int64?
    public var ruleVersion: Int
    /// The receipt's redemption at the selling store.
    public var redeemSeq: Int64?
    public var redeemCard: String?
    public var redeemRuleVersion: Int?
    /// Sale, earned and redeemed figures with other stores' refunds of them.
    public var state: SaleRefundState
    /// The sale's lines with other stores' returns of them; empty for a sale without lines.
    public var lines: [SaleLineState]
    /// Bonuses the sale brought that no other store took back: a full return here takes them back.
    public var bonuses: [Bonus]

    public struct Bonus: Hashable, Sendable {
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
    }

    public init(
        storeId: String, receipt: ReceiptReference, card: String, currencyCode: String, earnSeq: Int64?,
        ruleVersion: Int,
        redeemSeq: Int64?, redeemCard: String?, redeemRuleVersion: Int?, state: SaleRefundState, lines: [SaleLineState],
        bonuses: [Bonus] = []
    ) {
        self.bonuses = bonuses
        self.storeId = storeId
        self.receipt = receipt
        self.card = card
        self.currencyCode = currencyCode
        self.earnSeq = earnSeq
        self.ruleVersion = ruleVersion
        self.redeemSeq = redeemSeq
        self.redeemCard = redeemCard
        self.redeemRuleVersion = redeemRuleVersion
        self.state = state
        self.lines = lines
    }
}
