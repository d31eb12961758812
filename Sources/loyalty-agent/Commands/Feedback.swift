import ArgumentParser
import LedgerStore
import LoyaltyCore

struct Feedback: LedgerCommand {
    static let configuration = CommandConfiguration(
        abstract: "Record a member's answer to the satisfaction question (1 poor … 5 excellent).",
        discussion: "The answer reaches head office with the next sync, where it counts as attitudinal loyalty.")

    @Argument(help: "The member card number.") var card: String
    @Option(help: "The answer, 1 to 5.") var score: Int
    @OptionGroup var global: GlobalOptions

    func execute(_ ledger: LedgerDatabase) throws -> CommandOutput {
        let card = try global.memberCard(card)
        let result = try ledger.recordFeedback(card: card, score: score)
        return CommandOutput(json: result, human: "Thank you: answer \(result.score)/5 recorded for member \(result.memberId).")
    }
}
