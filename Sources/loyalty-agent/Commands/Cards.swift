import ArgumentParser
import LedgerStore
import LoyaltyCore

/// A member's cards at this till: a phone barcode beside the plastic card, a second card.
struct Cards: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A member's cards: add one, list them.", subcommands: [Add.self, List.self])

    struct Add: AsyncLedgerCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add NEW to the member holding EXISTING (both earn and redeem on one balance).",
            discussion: "Head office and every other store learn the new card after their next sync.")
        @Argument(help: "A card the member already holds.") var existing: String
        @Argument(help: "The card to add (unused).") var new: String
        @OptionGroup var sync: SyncOptions
        @OptionGroup var global: GlobalOptions

        func execute(_ ledger: LedgerDatabase) async throws -> CommandOutput {
            let rules = try global.cardRules()
            let existing = try rules.memberCard(typed: self.existing)
            let new = try rules.memberCard(typed: self.new)
            guard existing != new else {
                throw LoyaltyError.badInput("same_card", "EXISTING and NEW are the same card; give the card to add")
            }
            // Either card may be another store's member's (`--pull-scope store`): head office first, as `enroll` does.
            await sync.learnBeforeDeciding(ledger: ledger, cards: [existing, new])
            let added = try ledger.addCard(new, toMemberOf: existing)
            let holds = added.cards.joined(separator: ", ")
            return CommandOutput(
                json: added,
                human: added.replayed
                    ? "The member already holds card \(new.value) (nothing changed); their cards: \(holds)."
                    : "Card \(new.value) added; the member now holds \(holds).")
        }
    }

    struct List: LedgerCommand {
        static let configuration = CommandConfiguration(
            abstract: "The cards of the member holding CARD, and their status.")
        @Argument(help: "Any card of the member.") var card: String
        @OptionGroup var global: GlobalOptions

        struct Result: Encodable {
            var memberId: Int64
            var cards: [String]
        }

        func execute(_ ledger: LedgerDatabase) throws -> CommandOutput {
            let member = try ledger.member(card: try global.memberCard(card))
            return CommandOutput(
                json: Result(memberId: member.memberId, cards: member.cards),
                human: "Member \(member.memberId) holds \(member.cards.joined(separator: ", ")).")
        }
    }
}
