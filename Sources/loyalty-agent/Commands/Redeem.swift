import ArgumentParser
import LedgerStore
import LoyaltyCore

struct Redeem: LedgerCommand {
    static let configuration = CommandConfiguration(
        abstract: "Spend points as a discount on a sale; refused beyond the member's balance.")

    @Argument(help: "The member card number.") var card: String
    @Option(help: "Points to redeem.") var points: String
    @Option(help: ArgumentHelp("The POS receipt reference of the sale.", valueName: "ref")) var receipt: String
    @OptionGroup var global: GlobalOptions

    func execute(_ ledger: LedgerDatabase) throws -> CommandOutput {
        let card = try CardNumber(card)
        let receipt = try ReceiptReference(receipt)
        guard let points = Int64(points), points > 0 else {
            throw LoyaltyError.badInput("bad_points", "points to redeem must be a whole number greater than zero, e.g. 500")
        }
        let result = try ledger.redeem(card: card, points: points, receipt: receipt)
        let human =
            result.replayed
            ? "Already recorded: receipt \(result.receipt) redeemed \(result.points) points. Nothing new was written."
            : "Redeemed \(result.points) points from card \(result.card): discount \(result.discount) \(result.currency) (receipt \(result.receipt)). Balance: \(result.balance) points."
        return CommandOutput(json: result, human: human)
    }
}
