import ArgumentParser
import Foundation
import HeadOffice

extension Cards {
    /// `loyalty-hq cards resolve CARD`: an operator has checked a listed card conflict and keeps the card
    /// where head office holds it (one person, or the other member was given a new card).
    struct ResolveConflict: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "resolve",
            abstract:
                "Mark a card's conflicts (`report card-conflicts`) checked: the card stays with the member head office holds it on.",
            discussion: """
                For two people on one card, block it instead (`cards block`) and give each a card of their own; for one \
                person with two records, `members merge`. Recorded in the audit trail with who and why.
                """)
        @Argument var card: String
        @Option(help: "Why (kept in the audit trail).") var reason: String
        @Option(help: "Who (default: $USER).") var by: String?
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let card = try await OperatorInput.memberCard(self.card, storage)
            let actor = try OperatorInput.actor(by)
            let reason = try OperatorInput.reason(reason)
            let resolved = try await storage.withStore { store, _ in
                let resolved = try await store.resolveCardConflicts(card: card, now: Date())
                if resolved > 0 {
                    try await store.recordAudit(
                        actor: actor, action: "cards resolve",
                        detail: "card \(card): \(resolved) conflict(s) checked, the card stays with its member",
                        reason: reason,
                        now: Date())
                }
                return resolved
            }
            guard resolved > 0 else {
                throw CommandFailure(
                    code: "no_conflict",
                    message: "card \(card) has no open conflict; `loyalty-hq report card-conflicts` lists them",
                    exitCode: 1)
            }
            Output.out(
                storage.json
                    ? Output.json(["card": card, "status": "resolved", "conflicts": "\(resolved)"])
                    : "Card \(card): \(resolved) conflict(s) marked checked; the card stays with the member head office holds it on."
            )
        }
    }
}
