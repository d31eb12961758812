public import Foundation
import GRDB
public import LoyaltyCore

extension LedgerDatabase {
    /// Whether this ledger holds a sale (or redemption) with `receipt`: its return is taken here.
    public func holdsSale(receipt: ReceiptReference) throws -> Bool {
        try read { db in
            try Bool.fetchOne(
                db, sql: "SELECT 1 FROM entries WHERE receipt = ? AND kind IN ('earn', 'redeem') LIMIT 1",
                arguments: [receipt.value]) ?? false
        }
    }

    /// A return of another store's sale retried here with the same return receipt: what it did the first
    /// time (no need to reach head office again), or nil when this return is new.
    /// A retry asking for another return (other lines or amount, another store) is `receipt_conflict`.
    public func returnElsewhereReplay(
        receipt: ReceiptReference, returnReceipt: ReceiptReference?, amount: Money?, lines: [LineReturn]? = nil,
        soldAt: String? = nil
    ) throws -> RefundResult? {
        guard let returnReceipt else { return nil }
        return try read { db in
            try returnElsewhereReplay(
                keyPrefix: Self.elsewhereKey(receipt, returnReceipt.value), receipt: receipt,
                returnId: returnReceipt.value, amount: amount, lines: lines, soldAt: soldAt,
                program: try currentProgram(db), db)
        }
    }

    /// Takes a return here of a sale another store made (`sale`, from head office): the same plan as a
    /// return at the selling store (by line, or pro rata), counting every store's returns of it. The
    /// reverse entries name the selling store's sale; head office counts them against it.
    public func refundElsewhere(
        _ sale: SoldElsewhere, amount: Money?, lines: [LineReturn]?, returnReceipt: ReceiptReference?,
        at now: Date? = nil
    ) throws -> RefundResult {
        let now = now ?? headOfficeNow()
        return try write { db in
            let program = try currentProgram(db)
            // Amounts are the receipt's, in the sale's currency; after the program changed currency only the
            // whole sale can be returned here (no amounts to type).
            let currency = (try? Currency.named(sale.currencyCode)) ?? program.currency
            guard currency.code == sale.currencyCode,
                amount.map({ $0.currency == currency }) ?? true,
                currency == program.currency || (amount == nil && lines == nil)
            else {
                throw LoyaltyError.badInput(
                    "wrong_currency",
                    "the sale was made in \(sale.currencyCode); this till counts in \(program.currency.code): return the "
                        + "whole sale (no amount or lines), or ask head office for an adjustment (`loyalty-hq members adjust`)")
            }
            let returnId = returnReceipt?.value ?? MachineToken.uuid()
            let keyPrefix = Self.elsewhereKey(sale.receipt, returnId)
            if let earlier = try returnElsewhereReplay(
                keyPrefix: keyPrefix, receipt: sale.receipt, returnId: returnId, amount: amount, lines: lines,
                soldAt: sale.storeId, program: program, db)
            {
                return earlier
            }
            // One return reference, one return: not also a return of this store's own sale of the receipt.
            if try returnReferenceUsed(keyPrefix: Self.returnKey(sale.receipt, returnId), db) {
                throw LoyaltyError.refused(
                    "receipt_conflict",
                    "return \(returnId) was a return of this store's own sale of receipt \(sale.receipt), not of store "
                        + "\(sale.storeId)'s; a different return needs a new return reference")
            }
            let millis = now.millisecondsSince1970
            let card = try CardNumber(sale.card)
            if try Int64.fetchOne(db, sql: "SELECT 1 FROM cards WHERE number = ?", arguments: [card.value]) == nil {
                // Head office holds the member; this till has not heard of them (its pull has not brought them yet).
                _ = try cardHolder(card, program: program, provisionalIfUnknown: true, at: millis, db)
            }
            let holder = try cardHolder(card, program: program, db, allowBlocked: true)
            var state = sale.state
            var saleLines = sale.lines
            // This till's own earlier returns of the sale (head office left them out: they may not have synced).
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT elsewhere_seq, points, amount_minor, returned_lines FROM entries
                    WHERE elsewhere_store = ? AND elsewhere_seq IN (?, ?) AND kind = 'reverse'
                    """,
                arguments: [sale.storeId, sale.earnSeq ?? -1, sale.redeemSeq ?? -1])
            {
                let seq: Int64 = row[0]
                if seq == sale.earnSeq {
                    state.refundedMinorUnits -= row[2] as Int64
                    state.reversedEarnPoints -= row[1] as Int64
                    let parts = (row[3] as String?).flatMap {
                        try? JSONDecoder().decode([OutboxEntry.ReturnedLine].self, from: Data($0.utf8))
                    }
                    for part in parts ?? [] where saleLines.indices.contains(part.line) {
                        saleLines[part.line].returnedMinor += part.amountMinor
                        saleLines[part.line].reversedPoints += part.points
                    }
                } else {
                    state.restoredRedeemPoints += row[1] as Int64
                }
            }
            let (plan, lineParts) = try Self.planRefund(
                receipt: sale.receipt, state: state, saleLines: saleLines, amount: amount, lines: lines)
            var after = state
            after.refundedMinorUnits += plan.refundMinorUnits
            after.reversedEarnPoints += plan.reverseEarnPoints
            after.restoredRedeemPoints += plan.restoreRedeemPoints
            // A retry answers as the first time, without head office: the one fact it cannot recount is kept.
            let answer = ReturnAnswer(
                request: ReturnAnswer.request(amount: amount, lines: lines), fullyRefunded: after.isFullyRefunded,
                soldAt: sale.storeId
            ).stored
            if let earnSeq = sale.earnSeq, plan.refundMinorUnits > 0 || plan.reverseEarnPoints > 0 {
                let returned = lineParts.map {
                    OutboxEntry.ReturnedLine(line: $0.line, amountMinor: $0.amountMinor, points: $0.points)
                }
                _ = try append(
                    NewEntry(
                        memberId: holder.memberId, card: card.value, kind: .reverse, points: -plan.reverseEarnPoints,
                        amountMinorUnits: -plan.refundMinorUnits, receipt: sale.receipt.value,
                        idempotencyKey: keyPrefix + ":earn",
                        refersToSeq: nil, ruleVersion: sale.ruleVersion, reason: "refund \(returnId)",
                        saleAnswer: answer,
                        elsewhereStore: sale.storeId, elsewhereSeq: earnSeq,
                        returnedLines: returned.isEmpty
                            ? nil : String(decoding: try JSONEncoder().encode(returned), as: UTF8.self)),
                    at: millis, db)
            }
            if let redeemSeq = sale.redeemSeq, plan.restoreRedeemPoints > 0 {
                let redeemCard = try CardNumber(sale.redeemCard ?? sale.card)
                let redeemHolder = try cardHolder(redeemCard, program: program, db, allowBlocked: true)
                _ = try append(
                    NewEntry(
                        memberId: redeemHolder.memberId, card: redeemCard.value, kind: .reverse,
                        points: plan.restoreRedeemPoints,
                        amountMinorUnits: 0, receipt: sale.receipt.value, idempotencyKey: keyPrefix + ":redeem",
                        refersToSeq: nil,
                        ruleVersion: sale.redeemRuleVersion ?? sale.ruleVersion, reason: "refund \(returnId)",
                        saleAnswer: answer, elsewhereStore: sale.storeId, elsewhereSeq: redeemSeq),
                    at: millis, db)
            }
            // The bonuses the sale brought (first purchase) go back with its full refund, as at the store that sold.
            var reversedBonus: Int64 = 0
            if after.isFullyRefunded {
                for bonus in sale.bonuses
                where try Int64.fetchOne(
                    db,
                    sql: "SELECT 1 FROM entries WHERE elsewhere_store = ? AND elsewhere_seq = ? AND kind = 'reverse'",
                    arguments: [sale.storeId, bonus.seq]) == nil
                {
                    let bonusCard = try CardNumber(bonus.card)
                    let bonusHolder = try cardHolder(bonusCard, program: program, db, allowBlocked: true)
                    _ = try append(
                        NewEntry(
                            memberId: bonusHolder.memberId, card: bonusCard.value, kind: .reverse,
                            points: -bonus.points,
                            amountMinorUnits: 0, receipt: sale.receipt.value,
                            idempotencyKey: keyPrefix + ":bonus:\(bonus.seq)",
                            refersToSeq: nil, ruleVersion: bonus.ruleVersion,
                            reason: "refund \(returnId): bonus of the sale",
                            elsewhereStore: sale.storeId, elsewhereSeq: bonus.seq),
                        at: millis, db)
                    reversedBonus -= bonus.points
                }
            }
            // The day's count is recounted at the next award: a refund of today's sale frees the day cap.
            try db.execute(sql: "UPDATE members SET earned_day = NULL WHERE id = ?", arguments: [holder.memberId])
            return RefundResult(
                card: card.value, memberId: holder.memberId, receipt: sale.receipt.value, returnReceipt: returnId,
                refundAmount: Money(minorUnits: plan.refundMinorUnits, currency: currency).decimalString,
                currency: currency.code, reversedPoints: -plan.reverseEarnPoints,
                restoredPoints: plan.restoreRedeemPoints, reversedBonusPoints: reversedBonus,
                balance: try shownBalance(card: card.value, program: program, db),
                fullyRefunded: after.isFullyRefunded, replayed: false, soldAtStore: sale.storeId)
        }
    }

    /// The idempotency keys of a return here of another store's sale start with this.
    static func elsewhereKey(_ receipt: ReceiptReference, _ returnId: String) -> String {
        // The receipt's length first: receipts and return references may hold ':', and must not run together.
        "refund-elsewhere:\(receipt.value.utf8.count):\(receipt.value):\(returnId)"
    }

    private func returnElsewhereReplay(
        keyPrefix: String, receipt: ReceiptReference, returnId: String, amount: Money?, lines: [LineReturn]?,
        soldAt: String?, program: LoyaltyProgram, _ db: Database
    ) throws -> RefundResult? {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT card, member_id, points, amount_minor, elsewhere_store, sale_answer,
                       idempotency_key BETWEEN ?1 || ':bonus:' AND ?1 || ':bonus;' AS bonus
                FROM entries
                WHERE idempotency_key IN (?1 || ':earn', ?1 || ':redeem')
                   OR idempotency_key BETWEEN ?1 || ':bonus:' AND ?1 || ':bonus;'
                ORDER BY seq
                """,
            arguments: [keyPrefix])
        guard let first = rows.first else { return nil }
        let recorded = RecordedReturn(rows)
        try recorded.requireSame(
            amount: amount, lines: lines, returnId: returnId, receipt: receipt, currency: program.currency)
        let store: String? = first["elsewhere_store"]
        if let soldAt, soldAt != store {
            throw LoyaltyError.refused(
                "receipt_conflict",
                "return \(returnId) was a return of receipt \(receipt) sold at store \(store ?? "?"), not at \(soldAt); "
                    + "a different return needs a new return reference")
        }
        let card: String = first["card"]
        return RefundResult(
            card: card, memberId: first["member_id"], receipt: receipt.value, returnReceipt: returnId,
            refundAmount: Money(minorUnits: recorded.refundedMinor, currency: program.currency).decimalString,
            currency: program.currency.code, reversedPoints: recorded.reversedPoints,
            restoredPoints: recorded.restoredPoints,
            reversedBonusPoints: recorded.reversedBonusPoints,
            balance: try shownBalance(card: card, program: program, db),
            fullyRefunded: recorded.answer?.fullyRefunded ?? false, replayed: true, soldAtStore: store)
    }
}
