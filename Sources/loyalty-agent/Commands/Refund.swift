import ArgumentParser
import LedgerStore
import LoyaltyCore
import SyncClient

struct Refund: AsyncLedgerCommand {
    static let configuration = CommandConfiguration(
        abstract: "Take back the points of a returned sale; give back points it redeemed.",
        discussion: """
            Without --amount the whole remaining sale is refunded. A sale recorded with lines is returned by line \
            (--line SKU:AMOUNT, repeatable): each returned line gives back exactly what it earned (a gift card that \
            earned nothing takes nothing back). A sale without lines is refunded by amount, pro rata. Never more \
            than was earned. A sale another store made is returned here too, by the same rules, while head office             answers: it tells this till what the sale earned and what other stores' returns took (--sold-at names the             store when the receipt reference is not unique in the chain).
            """)

    @Option(help: ArgumentHelp("The POS receipt reference of the original sale.", valueName: "ref")) var receipt: String
    @Option(help: ArgumentHelp("The refunded amount, e.g. 5.00 (default: all that remains).", valueName: "amount")) var amount: String?
    @Option(
        name: .customLong("line"),
        help: ArgumentHelp("A returned line of a sale recorded with lines, repeatable: its SKU and the amount returned.", valueName: "sku:amount"))
    var lines: [String] = []
    @Option(help: ArgumentHelp("The POS reference of this return; a retry with the same one refunds once.", valueName: "ref"))
    var returnReceipt: String?
    @Option(help: ArgumentHelp("The store that made the sale, when it was another store (default: found by receipt).", valueName: "store"))
    var soldAt: String?
    @OptionGroup var sync: SyncOptions
    @OptionGroup var global: GlobalOptions

    func execute(_ ledger: LedgerDatabase) async throws -> CommandOutput {
        let receipt = try ReceiptReference(receipt)
        let returnReceipt = try returnReceipt.map(ReceiptReference.init)
        let currency = try ledger.program().currency
        let amount = try amount.map { text throws(LoyaltyError) in try Money(parsing: text, currency: currency) }
        let returned = try lines.map { text throws(LoyaltyError) -> LineReturn in
            guard let colon = text.lastIndex(of: ":"), colon != text.startIndex else {
                throw LoyaltyError.badInput("bad_line", "--line takes SKU:AMOUNT, e.g. apples:3.49, not '\(text)'")
            }
            return LineReturn(
                sku: String(text[..<colon]), amountMinor: try Money(parsing: String(text[text.index(after: colon)...]), currency: currency).minorUnits)
        }
        let lines = returned.isEmpty ? nil : returned
        let result: RefundResult
        let ownSale = try (soldAt == nil || soldAt == ledger.assignedStoreId) && ledger.holdsSale(receipt: receipt)
        if ownSale, !sync.headOfficeConfigured {
            // This store's own sale, no head office to ask: from the ledger alone.
            result = try ledger.refund(receipt: receipt, amount: amount, lines: lines, returnReceipt: returnReceipt)
        } else if sync.headOfficeConfigured {
            result = try await SyncOptions.withClient(ledger: ledger, settings: sync.settings(for: ledger)) {
                try await ReturnAnywhere(ledger: ledger, headOffice: $0).refund(
                    receipt: receipt, soldAt: soldAt, amount: amount, lines: lines, returnReceipt: returnReceipt)
            }
        } else {
            result = try await ReturnAnywhere(ledger: ledger, headOffice: nil).refund(
                receipt: receipt, soldAt: soldAt, amount: amount, lines: lines, returnReceipt: returnReceipt)
        }
        var human = result.replayed ? "Already recorded: " : "Refunded "
        human += "\(result.refundAmount) \(result.currency) of receipt \(result.receipt)"
        if let store = result.soldAtStore { human += " (sold at store \(store))" }
        human += ": \(result.reversedPoints.magnitude) points taken back"
        if result.restoredPoints > 0 { human += ", \(result.restoredPoints) redeemed points given back" }
        if let voided = result.voidedCoupons { human += ", coupons voided: \(voided.joined(separator: ", "))" }
        if result.reversedBonusPoints < 0 { human += ", \(result.reversedBonusPoints.magnitude) bonus points of the sale taken back" }
        human += ". Balance: \(result.balance) points."
        if result.fullyRefunded { human += " The sale is now fully refunded." }
        if result.balance < 0 { human += " The member's balance is negative: they had already spent these points." }
        return CommandOutput(json: result, human: human)
    }
}
