/// `POST /v1/sales`: a sale for a member; the receipt is its idempotency key.
struct SaleRequest: Decodable {
    struct Line: Decodable {
        var sku: String
        var category: String
        var amount: String
    }

    var card: String
    var receipt: String
    /// Decimal string; optional when `lines` are given (their sum).
    var amount: String?
    var lines: [Line]?
}

/// `POST /v1/redemptions`: points as a discount on the sale `receipt`.
struct RedemptionRequest: Decodable {
    var card: String
    var receipt: String
    var points: Int64
    /// The sale's amount, when the program limits the share of a sale points may pay.
    var saleAmount: String?
}

/// `POST /v1/refunds`: a return of (part of) the sale `receipt`; `return_receipt` makes retries safe.
struct RefundRequest: Decodable {
    var receipt: String
    var returnReceipt: String
    /// Decimal string; absent: all that remains of the sale (or the sum of `lines`).
    var amount: String?
    /// The returned lines of a sale recorded with lines: each gives back what it earned.
    var lines: [ReturnedLine]?

    struct ReturnedLine: Decodable {
        var sku: String
        var amount: String
    }
}
