import ArgumentParser
import Foundation
import LedgerStore
import LoyaltyCore

struct Redeem: AsyncLedgerCommand {
    static let configuration = CommandConfiguration(
        abstract: "Spend points as a discount on a sale; refused beyond the member's balance.")

    @Argument(help: "The member card number.") var card: String
    @Option(help: "Points to redeem.") var points: String
    @Option(help: ArgumentHelp("The POS receipt reference of the sale.", valueName: "ref")) var receipt: String
    @Option(help: ArgumentHelp("While the till has not reached head office for 15 minutes, refuse redemptions above this many points (default: $LOYALTY_OFFLINE_REDEEM_CAP).", valueName: "points"))
    var offlineCap: Int64?
    @Option(help: ArgumentHelp("The sale's amount, when the program limits the share of a sale points may pay.", valueName: "amount"))
    var saleAmount: String?
    @OptionGroup var hub: StoreHubOptions
    @OptionGroup var sync: SyncOptions
    @OptionGroup var global: GlobalOptions

    func execute(_ ledger: LedgerDatabase) async throws -> CommandOutput {
        let card = try global.memberCard(card)
        let receipt = try ReceiptReference(receipt)
        guard let points = Int64(points), points > 0 else {
            throw LoyaltyError.badInput("bad_points", "points to redeem must be a whole number greater than zero, e.g. 500")
        }
        let cap = offlineCap ?? ProcessInfo.processInfo.environment["LOYALTY_OFFLINE_REDEEM_CAP"].flatMap { Int64($0) }
            ?? AgentConfigFile.current.withLock { $0.int("offline_redeem_cap") }.map(Int64.init)
        if let cap, cap < 0 { throw LoyaltyError.badInput("bad_option", "--offline-cap takes a number of points ≥ 0") }
        let sale = try saleAmount.map { try Money(parsing: $0, currency: ledger.program().currency) }
        // In a store with a hub: the store's other tills' redemptions first (a member cannot spend the same
        // points at two tills), and this one to the hub at once. A hub out of reach: this till decides alone.
        let hubSettings = try hub.configured(ledger) ? try sync.storeSecretSettings(for: ledger) : nil
        let result = try await hub.withRedemption(ledger: ledger, settings: hubSettings, card: card, points: points, receipt: receipt) {
            try ledger.redeem(card: card, points: points, receipt: receipt, offlineCap: cap, saleAmount: sale)
        }
        let human =
            result.replayed
            ? "Already recorded: receipt \(result.receipt) redeemed \(result.points) points. Nothing new was written."
            : "Redeemed \(result.points) points from card \(result.card): discount \(result.discount) \(result.currency) (receipt \(result.receipt)). Balance: \(result.balance) points."
        return CommandOutput(json: result, human: human)
    }
}
