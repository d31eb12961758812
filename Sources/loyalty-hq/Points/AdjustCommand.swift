import ArgumentParser
import Foundation
import HeadOffice
import LoyaltyCore
import SyncProtocol

/// `loyalty-hq members adjust CARD --points N --reason WHY`: a manual correction (goodwill, a till's
/// mistake), written as head office's own `adjust` entry; the stores show it with the member after
/// their next sync.
struct Adjust: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add (or with a minus sign take) points on a member's balance, with the reason.",
        discussion: """
            Written once as head office's own `adjust` entry and kept in the audit trail with who and why; the \
            member's stores receive it at their next sync. A balance never goes below zero by an adjustment. With \
            --key, a repeated command (a script run twice) writes nothing the second time.
            """)
    @Argument(help: "Any card of the member.") var card: String
    @Option(help: "Points to add; negative takes points (e.g. --points=-50).") var points: Int64
    @Option(help: "Why (required; kept with the entry and in the audit trail).") var reason: String
    @Option(help: "A key that makes the command safe to repeat (letters, digits, '-', '_').") var key: String?
    @Option(help: "Who (default: $USER).") var by: String?
    @OptionGroup var storage: StorageOptions

    struct Body: Encodable {
        var card: String
        var points: Int64
        var balance: Int64
        var reason: String
        var status: String
    }

    func run() async throws {
        let card = try await OperatorInput.memberCard(self.card, storage)
        let actor = try OperatorInput.actor(by)
        guard let reason = try OperatorInput.reason(reason), !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw CommandFailure(
                code: "bad_text", message: "--reason says why the points change (it is required)", exitCode: 2)
        }
        guard points != 0, points.magnitude <= SyncEntry.maximumMagnitude else {
            throw CommandFailure(
                code: "bad_points",
                message: "--points takes a whole number other than 0, at most \(SyncEntry.maximumMagnitude) either way",
                exitCode: 2)
        }
        if let key {
            guard (1...64).contains(key.count),
                key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
            else {
                throw CommandFailure(
                    code: "bad_key", message: "--key is 1 to 64 letters, digits, '-' or '_'", exitCode: 2)
            }
            // Kept in head office's entries and sent to the stores: never a bank card number.
            try OperatorInput.text(key, option: "--key")
        }
        let (points, idempotencyKey) = (points, "adjust:manual:\(key ?? MachineToken.uuid())")
        let (member, written) = try await storage.withStore { store, _ -> (HeadOfficeMember, Bool) in
            guard let member = try await store.member(card: card, now: Date()) else {
                throw CommandFailure(
                    code: "unknown_card", message: "no member holds the card ending \(card.suffix(4)) at head office; check the number",
                    exitCode: 1)
            }
            // A key already used: the same adjustment again changes nothing (a retried script, whatever the
            // balance is now); another one under the key is refused, never dropped silently.
            if key != nil, let earlier = try await store.issuedEntry(idempotencyKey: idempotencyKey) {
                guard earlier.memberId == member.memberId, earlier.points == points,
                    earlier.reason == "manual: \(reason)"
                else {
                    throw CommandFailure(
                        code: "key_conflict",
                        message: "--key \(key ?? "") was used for another adjustment (\(earlier.points) points on card "
                            + "\(earlier.card), \(earlier.reason)); give a new key for a new adjustment",
                        exitCode: 1)
                }
                return (member, false)
            }
            guard !member.blocked else {
                throw CommandFailure(
                    code: "blocked_card", message: "card \(card) is blocked; adjust through another card of the member",
                    exitCode: 1)
            }
            guard points > 0 || member.balance + points >= 0 else {
                throw CommandFailure(
                    code: "over_balance",
                    message: member.balance > 0
                        ? "the member has \(member.balance) points; an adjustment takes at most that many"
                        : "the member has \(member.balance) points: there is nothing to take", exitCode: 1)
            }
            let now = Date()
            let written = try await store.issue(
                [
                    IssuedEntryRequest(
                        memberId: member.memberId, card: member.card, kind: .adjust, points: points,
                        reason: "manual: \(reason)",
                        idempotencyKey: idempotencyKey, createdAtMilliseconds: Int64(now.timeIntervalSince1970 * 1000))
                ], actor: actor, now: now)
            if written > 0 {
                try await store.recordAudit(
                    actor: actor, action: "members adjust",
                    detail: "card \(member.card) \(points > 0 ? "+" : "")\(points) points", reason: reason, now: now)
            }
            return (try await store.member(card: card, now: now) ?? member, written > 0)
        }
        let status = written ? "adjusted" : "unchanged"
        if storage.json {
            Output.out(
                Output.json(Body(card: card, points: points, balance: member.balance, reason: reason, status: status)))
        } else if written {
            Output.out(
                "\(points > 0 ? "Added" : "Took") \(points.magnitude) points \(points > 0 ? "to" : "from") card \(card): balance "
                    + "\(member.balance) points. Its stores show it after their next sync.")
        } else {
            Output.out("Adjustment \(key ?? "") was made before; nothing changed. Balance \(member.balance) points.")
        }
    }
}
