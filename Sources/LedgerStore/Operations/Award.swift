public import Foundation
import GRDB
public import LoyaltyCore

extension LedgerDatabase {
    /// Records the points a sale earns. The receipt is the idempotency key: a retry with the same
    /// card and amount returns the original result and writes nothing; the same receipt with a
    /// different card or amount is refused.
    public func award(card: CardNumber, amount: Money, receipt: ReceiptReference, at now: Date = Date()) throws -> AwardResult {
        try write { db in
            let program = try currentProgram(db)
            let holder = try cardHolder(card, program: program, db)
            let key = "earn:\(receipt.value)"
            if let original = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT seq, member_id, card, points, amount_minor, balance_after, rule_version FROM entries WHERE idempotency_key = ?"),
                arguments: [key])
            {
                let (seq, memberId, originalCard, points, originalAmount, balanceAfter, ruleVersion): (Int64, Int64, String, Int64, Int64, Int64, Int) =
                    (original[0], original[1], original[2], original[3], original[4], original[5], original[6])
                guard originalCard == card.value, originalAmount == amount.minorUnits else {
                    let earlier = Money(minorUnits: originalAmount, currency: program.currency)
                    throw LoyaltyError.refused(
                        "receipt_conflict",
                        "receipt \(receipt) already earned \(points) points for \(earlier) on card \(CardNumber.maskedValue(originalCard)); a new sale needs a new receipt reference")
                }
                return AwardResult(
                    card: card.value, memberId: memberId, receipt: receipt.value, amount: amount.decimalString,
                    currency: amount.currency.code, points: points, balance: balanceAfter, tier: holder.tier, seq: seq,
                    ruleVersion: ruleVersion, replayed: true)
            }
            let millis = now.millisecondsSince1970
            let tier = program.tier(named: holder.tier)
            let points = try program.pointsEarned(for: amount, tier: tier)
            let spendBefore = try rollingSpend(memberId: holder.memberId, at: millis, db)
            let written = try append(
                NewEntry(
                    memberId: holder.memberId, card: card.value, kind: .earn, points: points,
                    amountMinorUnits: amount.minorUnits, receipt: receipt.value, idempotencyKey: key, refersToSeq: nil,
                    ruleVersion: program.version, reason: nil),
                at: millis, db)
            let newTier = program.tierAfterPurchase(current: tier, rollingSpendMinorUnits: spendBefore + amount.minorUnits)
            if newTier != tier {
                try db.execute(sql: "UPDATE members SET tier = ? WHERE id = ?", arguments: [newTier.name, holder.memberId])
            }
            return AwardResult(
                card: card.value, memberId: holder.memberId, receipt: receipt.value, amount: amount.decimalString,
                currency: amount.currency.code, points: points,
                // The new entry is newer than any snapshot: the vouched balance moves by exactly its points.
                balance: holder.vouchedBalance + points, tier: newTier.name,
                seq: written.seq, ruleVersion: program.version, replayed: false)
        }
    }
}

extension CardNumber {
    /// Masks a stored card value the same way as ``masked``.
    static func maskedValue(_ value: String) -> String {
        String(repeating: "•", count: max(0, value.count - 4)) + value.suffix(4)
    }
}
