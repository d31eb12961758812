/// `POST /v1/sales`: a sale for a member; the receipt is its idempotency key.
struct SaleRequest: StrictRequest {
    static let fields = ["card", "receipt", "amount", "lines"]
    static let nestedFields = ["lines": ["sku", "category", "amount"]]

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
struct RedemptionRequest: StrictRequest {
    static let fields = ["card", "receipt", "points", "sale_amount"]

    var card: String
    var receipt: String
    var points: Int64
    /// The sale's amount, when the program limits the share of a sale points may pay.
    var saleAmount: String?
}

/// `POST /v1/refunds`: a return of (part of) the sale `receipt`; `return_receipt` makes retries safe.
struct RefundRequest: StrictRequest {
    static let fields = ["receipt", "return_receipt", "amount", "lines", "sold_at"]
    static let nestedFields = ["lines": ["sku", "amount"]]

    var receipt: String
    var returnReceipt: String
    /// Decimal string; absent: all that remains of the sale (or the sum of `lines`).
    var amount: String?
    /// The returned lines of a sale recorded with lines: each gives back what it earned.
    var lines: [ReturnedLine]?
    /// The store that made the sale, when another store did and the receipt alone is ambiguous.
    var soldAt: String?

    struct ReturnedLine: Decodable {
        var sku: String
        var amount: String
    }
}

/// `POST /v1/enrolments`: a new member holding `card` (a card that earned as a walk-in keeps its points).
struct EnrolmentRequest: StrictRequest {
    static let fields = ["card", "name", "birthday", "referred_by"]
    var card: String
    var name: String?
    /// `YYYY-MM-DD`.
    var birthday: String?
    /// The card of the member who brought them.
    var referredBy: String?
}

/// `POST /v1/members/{card}/profile`: a new name and/or birthday (the newest change wins chain-wide).
struct ProfileRequest: StrictRequest {
    static let fields = ["name", "birthday"]
    var name: String?
    var birthday: String?
}

/// `POST /v1/members/{card}/cards`: a further card for the member (a phone barcode, a second card).
struct AddedCardRequest: StrictRequest {
    static let fields = ["card"]
    var card: String
}

/// `POST /v1/coupons/{code}/use`: a coupon used on the member's sale `receipt`.
struct CouponUseRequest: StrictRequest {
    static let fields = ["card", "receipt"]
    var card: String
    var receipt: String
}
