public import Foundation
import GRDB
public import LoyaltyCore

extension LedgerDatabase {
    /// Records the points a sale earns. The receipt is the idempotency key: a retry with the same
    /// card and amount returns the original result and writes nothing; the same receipt with a
    /// different card or amount is refused.
    ///
    /// - Parameter provisionalIfUnknown: the card is in the chain's member ranges: if this till has not
    ///   heard of it (enrolled this morning at another store), it earns as a provisional member instead
    ///   of being refused; head office attaches the points to the member.
    public func award(
        card: CardNumber, amount: Money, receipt: ReceiptReference, provisionalIfUnknown: Bool = false, at now: Date = Date()
    ) throws -> AwardResult {
        try write { db in
            let program = try currentProgram(db)
            let key = "earn:\(receipt.value)"
            // A retry first, before anything that may have changed since (a card blocked after the sale).
            if let original = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT e.seq, e.member_id, e.card, e.points, e.amount_minor, e.balance_after, e.rule_version,
                               e.reported_balance, IFNULL(e.reported_tier, m.tier)
                        FROM entries e JOIN members m ON m.id = e.member_id WHERE e.idempotency_key = ?
                        """),
                arguments: [key])
            {
                let (seq, memberId, originalCard, points, originalAmount): (Int64, Int64, String, Int64, Int64) =
                    (original[0], original[1], original[2], original[3], original[4])
                guard originalCard == card.value, originalAmount == amount.minorUnits else {
                    let earlier = Money(minorUnits: originalAmount, currency: program.currency)
                    throw LoyaltyError.refused(
                        "receipt_conflict",
                        "receipt \(receipt) already earned \(points) points for \(earlier) on card \(CardNumber.maskedValue(originalCard)); a new sale needs a new receipt reference")
                }
                return AwardResult(
                    card: card.value, memberId: memberId, receipt: receipt.value, amount: amount.decimalString,
                    currency: amount.currency.code, points: points, balance: original[7] ?? original[5], tier: original[8],
                    seq: seq, ruleVersion: original[6], replayed: true)
            }
            let millis = now.millisecondsSince1970
            let holder = try cardHolder(card, program: program, provisionalIfUnknown: provisionalIfUnknown, at: millis, db)
            try requireReceiptBelongs(to: holder.memberId, receipt: receipt, db)
            let tier = program.tier(named: holder.tier)
            let points = try program.pointsEarned(for: amount, tier: tier)
            let spendBefore = try rollingSpend(memberId: holder.memberId, at: millis, db)
            let newTier = program.tierAfterPurchase(current: tier, rollingSpendMinorUnits: spendBefore + amount.minorUnits)
            // The new entry is newer than any snapshot: the vouched balance moves by exactly its points.
            let reportedBalance = holder.vouchedBalance + points
            let written = try append(
                NewEntry(
                    memberId: holder.memberId, card: card.value, kind: .earn, points: points,
                    amountMinorUnits: amount.minorUnits, receipt: receipt.value, idempotencyKey: key, refersToSeq: nil,
                    ruleVersion: program.version, reason: nil, reportedBalance: reportedBalance, reportedTier: newTier.name),
                at: millis, db)
            if newTier != tier {
                try db.execute(sql: "UPDATE members SET tier = ? WHERE id = ?", arguments: [newTier.name, holder.memberId])
            }
            return AwardResult(
                card: card.value, memberId: holder.memberId, receipt: receipt.value, amount: amount.decimalString,
                currency: amount.currency.code, points: points, balance: reportedBalance, tier: newTier.name,
                seq: written.seq, ruleVersion: program.version, replayed: false, provisional: holder.provisional)
        }
    }
}

extension CardNumber {
    /// Masks a stored card value the same way as ``masked``.
    static func maskedValue(_ value: String) -> String {
        String(repeating: "•", count: max(0, value.count - 4)) + value.suffix(4)
    }
}
