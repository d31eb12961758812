extension SaleLine {
    /// The most lines one sale may have.
    public static let maximumLines = 1_000

    /// A sale line as a till or the POS API hands it over: SKU and category of 1 to 64 characters (neither
    /// holds a payment card number: lines are stored), an amount above zero.
    public static func checked(sku: String, category: String, amount text: String, currency: Currency) throws -> SaleLine {
        guard (1...64).contains(sku.count), (1...64).contains(category.count) else {
            throw LoyaltyError.badInput("bad_line", "a sale line needs a SKU and a category of 1 to 64 characters each")
        }
        try refusePaymentCards(sku: sku, category: category)
        let amount = try Money(parsing: text, currency: currency)
        guard amount.minorUnits > 0 else { throw LoyaltyError.badInput("bad_line", "a sale line's amount must be above zero") }
        return SaleLine(sku: sku, category: category, amountMinor: amount.minorUnits)
    }

    /// Refuses a SKU or category that holds a bank card number (a card swiped into the wrong field):
    /// sale lines are stored with the sale.
    public static func refusePaymentCards(sku: String, category: String) throws(LoyaltyError) {
        try PaymentCardDetector.refuseInFreeText(sku, field: "a sale line's SKU")
        try PaymentCardDetector.refuseInFreeText(category, field: "a sale line's category")
    }

    /// The sale amount `lines` add up to, when the till gives lines without an amount.
    public static func total(of lines: [SaleLine], currency: Currency) throws -> Money {
        guard !lines.isEmpty else {
            throw LoyaltyError.badInput("missing_amount", "give the sale amount or its lines (SKU, category and amount each)")
        }
        guard lines.count <= maximumLines else { throw LoyaltyError.badInput("bad_line", "a sale has at most \(maximumLines) lines") }
        // Each line is at most the largest amount and there are at most 1000: the sum cannot overflow.
        let total = lines.reduce(Int64(0)) { $0 + $1.amountMinor }
        guard total <= Money.maximumMinorUnits else { throw LoyaltyError.badInput("bad_amount", "the lines add up to more than any sale can be") }
        return Money(minorUnits: total, currency: currency)
    }
}
