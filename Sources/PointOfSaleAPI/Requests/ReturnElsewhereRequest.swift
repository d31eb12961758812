public import LoyaltyCore

/// A return the POS asked for of a sale this ledger does not hold (another store made it), or of a sale
/// it names another store for: taken through head office by whoever the router was given.
public struct ReturnElsewhereRequest: Sendable {
    public var receipt: ReceiptReference
    /// The store that sold, when the POS named it.
    public var soldAt: String?
    public var amount: Money?
    public var lines: [LineReturn]?
    public var returnReceipt: ReceiptReference
}
