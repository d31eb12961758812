public import Foundation
import GRDB
public import LoyaltyCore

extension LedgerDatabase {
    /// Spends points as a discount on the sale `receipt`, never beyond the member's balance.
    /// A retry with the same receipt and points returns the original result and writes nothing.
    /// - Parameter offlineCap: when set and head office has not confirmed a sync within
    ///   ``offlineAfterSeconds``, a single redemption may not exceed this many points.
    /// A card unknown here is asked for at the next sync (``cardsToAsk(limit:)``).
    public func redeem(
        card: CardNumber, points: Int64, receipt: ReceiptReference, offlineCap: Int64? = nil, saleAmount: Money? = nil,
        at now: Date? = nil
    ) throws -> RedeemResult {
        try notingUnknownCard(card) {
            try redeemKnown(
                card: card, points: points, receipt: receipt, offlineCap: offlineCap, saleAmount: saleAmount, at: now)
        }
    }

    private func redeemKnown(
        card: CardNumber, points: Int64, receipt: ReceiptReference, offlineCap: Int64?, saleAmount: Money?, at now: Date?
    ) throws -> RedeemResult {
        let now = now ?? headOfficeNow()
        return try write { db in
            let program = try currentProgram(db)
            let key = "redeem:\(receipt.value)"
            // A retry first, before anything that may have changed since (a card blocked after the sale).
            if let original = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT seq, member_id, card, points, balance_after, reported_balance, rule_version
                        FROM entries WHERE idempotency_key = ?
                        """),
                arguments: [key])
            {
                let (seq, memberId, originalCard, spent): (Int64, Int64, String, Int64) =
                    (original[0], original[1], original[2], -(original[3] as Int64))
                guard originalCard == card.value, spent == points else {
                    throw LoyaltyError.refused(
                        "receipt_conflict",
                        "receipt \(receipt) already redeemed \(spent) points on card \(CardNumber.maskedValue(originalCard)); a new redemption needs a new receipt reference")
                }
                // The discount given then: priced by the program version the redemption was written under,
                // whatever is in force now (a program switch must not change a replayed answer).
                let then = try installedProgram(version: original[6], db) ?? program
                let discount = Money(minorUnits: spent * then.pointValueMinorUnits, currency: then.currency)
                return RedeemResult(
                    card: card.value, memberId: memberId, receipt: receipt.value, points: spent,
                    discount: discount.decimalString, currency: then.currency.code,
                    balance: original[5] ?? original[4], seq: seq, replayed: true)
            }
            let holder = try cardHolder(card, program: program, db)
            guard !holder.provisional else {
                throw LoyaltyError.refused(
                    "provisional_member",
                    "card \(card.masked) is not enrolled at this till yet, so no balance can be vouched for; it keeps earning. "
                        + "Points can be redeemed once the member is enrolled here or the till has synced with head office")
            }
            try requireReceiptBelongs(to: holder.memberId, receipt: receipt, db)
            if let offlineCap, points > offlineCap, try isOffline(at: now, db) {
                throw LoyaltyError.refused(
                    "offline_cap",
                    "the till has not reached head office recently: at most \(offlineCap) points can be redeemed at once until it syncs")
            }
            try program.checkRedemptionShare(points: points, sale: try saleForShare(receipt: receipt, given: saleAmount, program, db))
            let discount = try program.redemptionValue(points: points, vouchedBalance: holder.vouchedBalance)
            // The new entry is newer than any snapshot: the vouched balance moves by exactly its points.
            let vouchedAfter = holder.vouchedBalance - points
            assert(vouchedAfter >= 0, "a redemption never takes the vouched balance below zero")
            let written = try append(
                NewEntry(
                    memberId: holder.memberId, card: card.value, kind: .redeem, points: -points, amountMinorUnits: 0,
                    receipt: receipt.value, idempotencyKey: key, refersToSeq: nil, ruleVersion: program.version,
                    reason: nil, reportedBalance: vouchedAfter),
                at: now.millisecondsSince1970, db)
            return RedeemResult(
                card: card.value, memberId: holder.memberId, receipt: receipt.value, points: points,
                discount: discount.decimalString, currency: program.currency.code, balance: vouchedAfter,
                seq: written.seq, replayed: false)
        }
    }

    /// The sale a redemption's share is measured against: the receipt's sale when it is in the ledger,
    /// net of what was refunded (a cashier's `--sale-amount` cannot stretch it), else the amount the POS gives.
    private func saleForShare(
        receipt: ReceiptReference, given: Money?, _ program: LoyaltyProgram, _ db: Database
    ) throws -> Money? {
        let recorded = try Row.fetchOne(
            db,
            sql: """
                SELECT e.amount_minor + IFNULL((SELECT SUM(r.amount_minor) FROM entries r
                                               WHERE r.refers_to_seq = e.seq AND r.kind = 'reverse'), 0), e.amount_minor
                FROM entries e WHERE e.idempotency_key = ?
                """,
            arguments: ["earn:\(receipt.value)"])
        guard let recorded else { return given }
        let (net, gross): (Int64, Int64) = (recorded[0], recorded[1])
        guard net > 0 else {
            throw LoyaltyError.refused(
                "sale_refunded", "receipt \(receipt) is fully refunded: no points can be spent on it; use the new sale's receipt")
        }
        guard program.maximumRedemptionSharePercent != nil else { return given }
        let sale = Money(minorUnits: net, currency: program.currency)
        if let given, given.minorUnits != gross, given != sale {
            throw LoyaltyError.badInput(
                "sale_amount_mismatch",
                "receipt \(receipt) is a sale of \(sale.decimalString) \(program.currency.code) (net of refunds) in this till's ledger, not "
                    + "\(given.decimalString): give that amount, or leave --sale-amount out")
        }
        return sale
    }
}
