public import Foundation
import GRDB
public import LoyaltyCore

/// The member's answer to the satisfaction question, as recorded.
public struct FeedbackResult: Hashable, Sendable, Codable {
    public var card: String
    public var memberId: Int64
    public var score: Int
    public var at: String
    /// True when this answer was already recorded under the same key (a double tap): nothing was written.
    public var replayed = false
}

extension LedgerDatabase {
    /// Records the member's answer to the satisfaction question (1 poor … 5 excellent). It reaches head
    /// office in the ledger stream as a 0-point profile entry; head office averages a member's answers.
    /// - Parameter key: makes the answer idempotent (the kiosk sends one per scan, so a second tap on
    ///   the same scan keeps the first answer); nil: every call is a new answer.
    public func recordFeedback(card: CardNumber, score: Int, key: String? = nil, at now: Date? = nil) throws -> FeedbackResult {
        let now = now ?? headOfficeNow()
        guard (1...5).contains(score) else {
            throw LoyaltyError.badInput("bad_score", "the answer is a whole number from 1 (poor) to 5 (excellent), not \(score)")
        }
        try PaymentCardDetector.refuseInFreeText(key, field: "the answer's key")
        return try write { db in
            let program = try currentProgram(db)
            let holder = try cardHolder(card, program: program, db)
            let idempotencyKey = key.map { "feedback:\(card.value):\($0)" }
            if let idempotencyKey, let earlier = try Row.fetchOne(
                db, sql: "SELECT member_id, feedback_score, created_at FROM entries WHERE idempotency_key = ?", arguments: [idempotencyKey])
            {
                return FeedbackResult(
                    card: card.value, memberId: earlier[0], score: earlier[1],
                    at: Date(millisecondsSince1970: earlier[2]).chainTime(program.chainTimeZone), replayed: true)
            }
            let millis = now.millisecondsSince1970
            _ = try append(
                NewEntry(
                    memberId: holder.memberId, card: card.value, kind: .profile, points: 0, amountMinorUnits: 0,
                    receipt: "feedback-\(card.value)", idempotencyKey: idempotencyKey ?? "feedback:\(card.value):\(UUID().uuidString.lowercased())",
                    refersToSeq: nil, ruleVersion: program.version, reason: nil, feedbackScore: score),
                at: millis, db)
            return FeedbackResult(card: card.value, memberId: holder.memberId, score: score, at: Date(millisecondsSince1970: millis).chainTime(program.chainTimeZone))
        }
    }
}
