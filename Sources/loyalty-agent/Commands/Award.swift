import ArgumentParser
import LedgerStore
import LoyaltyCore

struct Award: LedgerCommand {
    static let configuration = CommandConfiguration(
        abstract: "Award the points a sale earns.",
        discussion: "The receipt is the sale's idempotency key: retrying with the same receipt and amount writes nothing and prints the original result.")

    @Argument(help: "The member card number.") var card: String
    @Option(help: ArgumentHelp("The sale amount, e.g. 12.50 (default: the sum of the --line amounts).", valueName: "amount"))
    var amount: String?
    @Option(help: ArgumentHelp("The POS receipt reference of the sale.", valueName: "ref")) var receipt: String
    @Option(
        name: .customLong("line"),
        help: ArgumentHelp(
            "A sale line, repeatable: the program's excluded categories and category multipliers apply per line.",
            valueName: "SKU:CATEGORY:AMOUNT"))
    var lines: [String] = []
    @Option(
        help: ArgumentHelp(
            "The sale as JSON from a file, or '-' for stdin: {\"amount\": \"12.50\", \"lines\": [{\"sku\": \"…\", "
                + "\"category\": \"fresh\", \"amount\": \"3.49\"}]} (amount optional when lines are given).",
            valueName: "file"))
    var sale: String?
    @OptionGroup var global: GlobalOptions

    func execute(_ ledger: LedgerDatabase) throws -> CommandOutput {
        let rules = try global.cardRules()
        let card = try rules.memberCard(typed: self.card)
        let receipt = try ReceiptReference(receipt)
        let currency = try ledger.program().currency
        var saleLines = try lines.map { try Self.line($0, currency: currency) }
        var amountText = self.amount
        if let sale {
            guard lines.isEmpty, self.amount == nil else {
                throw LoyaltyError.badInput("bad_sale", "give the sale either as --sale JSON or as --amount/--line, not both")
            }
            let document = try SaleDocument.read(sale)
            amountText = document.amount
            saleLines = try (document.lines ?? []).map {
                try SaleLine.checked(sku: $0.sku, category: $0.category, amount: $0.amount, currency: currency)
            }
        }
        guard saleLines.count <= SaleLine.maximumLines else {
            throw LoyaltyError.badInput("bad_line", "a sale has at most \(SaleLine.maximumLines) lines")
        }
        let amount = try amountText.map { try Money(parsing: $0, currency: currency) } ?? SaleLine.total(of: saleLines, currency: currency)
        // A card from the chain's ranges that this till has not heard of still earns (provisionally).
        let result = try ledger.award(
            card: card, amount: amount, receipt: receipt, lines: saleLines.isEmpty ? nil : saleLines,
            provisionalIfUnknown: rules.isChainMemberCard(card))
        let human =
            result.replayed
            ? "Already recorded: receipt \(result.receipt) earned \(result.points) points. Nothing new was written. Balance after it: \(result.balance) points."
            : "Awarded \(result.points) points to card \(result.card) for \(result.amount) \(result.currency) (receipt \(result.receipt)). Balance: \(result.balance) points, tier \(result.tier)."
                + (result.provisional ? " The card is not enrolled at this till yet: it earns now, and redeems once enrolled or synced." : "")
        var detail = ""
        if let breakdown = result.breakdown {
            var parts = ["base \(breakdown.base)"]
            if breakdown.tier > 0 { parts.append("tier +\(breakdown.tier)") }
            parts += breakdown.promotions.map { "\($0.name) +\($0.points)" }
            if breakdown.birthday > 0 { parts.append("birthday month +\(breakdown.birthday)") }
            if breakdown.capped > 0 { parts.append("capped −\(breakdown.capped)") }
            detail = "\n  points: " + parts.joined(separator: ", ") + " = \(breakdown.points)"
        }
        if let bonus = result.firstPurchaseBonus {
            detail += "\n  first purchase: +\(bonus) bonus points (in the balance)"
        }
        for code in result.couponsIssued ?? [] {
            detail += "\n  coupon issued: \(code) (hand it to the member)"
        }
        return CommandOutput(json: result, human: human + detail)
    }

    /// `SKU:CATEGORY:AMOUNT`, e.g. `4006381333931:fresh:3.49`.
    static func line(_ text: String, currency: Currency) throws -> SaleLine {
        let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 else {
            throw LoyaltyError.badInput("bad_line", "a sale line is SKU:CATEGORY:AMOUNT, e.g. 4006381333931:fresh:3.49")
        }
        return try SaleLine.checked(sku: parts[0], category: parts[1], amount: parts[2], currency: currency)
    }
}
