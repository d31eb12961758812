import ArgumentParser
import LedgerStore
import LoyaltyCore

struct Award: LedgerCommand {
    static let configuration = CommandConfiguration(
        abstract: "Award the points a sale earns.",
        discussion: "The receipt is the sale's idempotency key: retrying with the same receipt and amount writes nothing and prints the original result.")

    @Argument(help: "The member card number.") var card: String
    @Option(help: ArgumentHelp("The sale amount, e.g. 12.50.", valueName: "amount")) var amount: String
    @Option(help: ArgumentHelp("The POS receipt reference of the sale.", valueName: "ref")) var receipt: String
    @OptionGroup var global: GlobalOptions

    func execute(_ ledger: LedgerDatabase) throws -> CommandOutput {
        let rules = try global.cardRules()
        let card = try rules.memberCard(typed: self.card)
        let receipt = try ReceiptReference(receipt)
        let amount = try Money(parsing: amount, currency: ledger.program().currency)
        // A card from the chain's ranges that this till has not heard of still earns (provisionally).
        let result = try ledger.award(
            card: card, amount: amount, receipt: receipt, provisionalIfUnknown: rules.isChainMemberCard(card))
        let human =
            result.replayed
            ? "Already recorded: receipt \(result.receipt) earned \(result.points) points. Nothing new was written. Balance after it: \(result.balance) points."
            : "Awarded \(result.points) points to card \(result.card) for \(result.amount) \(result.currency) (receipt \(result.receipt)). Balance: \(result.balance) points, tier \(result.tier)."
                + (result.provisional ? " The card is not enrolled at this till yet: it earns now, and redeems once enrolled or synced." : "")
        return CommandOutput(json: result, human: human)
    }
}
