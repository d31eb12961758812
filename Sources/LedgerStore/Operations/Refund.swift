public import Foundation
import GRDB
public import LoyaltyCore

extension LedgerDatabase {
    /// Takes back the points of a returned sale and gives back points the sale redeemed. A sale recorded
    /// with lines gives back per line exactly what each returned line earned; a sale without lines pro
    /// rata to the amount; never more than was earned.
    ///
    /// - Parameters:
    ///   - amount: the refunded amount; `nil` refunds whatever remains of the sale (or the sum of `lines`).
    ///   - lines: the returned lines of a sale recorded with lines (nil: all that remains).
    ///   - returnReceipt: the POS reference of the return itself; a retry with the same one refunds once.
    ///     `nil` treats every call as a new return.
    ///   - elsewhere: what returns at other stores took of this sale (head office's figures, when it
    ///     answered): counted with this store's own returns.
    public func refund(
        receipt: ReceiptReference, amount: Money?, lines: [LineReturn]? = nil, returnReceipt: ReceiptReference?,
        elsewhere: SoldElsewhere? = nil, at now: Date? = nil
    ) throws -> RefundResult {
        let now = now ?? headOfficeNow()
        return try write { db in
            let program = try currentProgram(db)
            let sale = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT seq, kind, \(Self.holderOfEntryCard("entries")) AS member_id, card, points, amount_minor, rule_version
                        FROM entries WHERE receipt = ? AND kind IN ('earn', 'redeem')
                        """),
                arguments: [receipt.value])
            guard let first = sale.first else {
                throw LoyaltyError.refused(
                    "unknown_receipt",
                    "no sale with receipt \(receipt) is in this store's ledger; check the receipt reference")
            }
            let earn = sale.first { $0["kind"] == "earn" }
            let redeem = sale.first { $0["kind"] == "redeem" }
            // Amounts are the receipt's, in the currency the sale was made in (its program version's).
            let currency = try installedProgram(version: (earn ?? first)["rule_version"], db)?.currency ?? program.currency
            if let amount, amount.currency != currency {
                throw LoyaltyError.badInput(
                    "wrong_currency",
                    "receipt \(receipt) was paid in \(currency.code), the amount is in \(amount.currency.code)"
                        + (currency != program.currency
                            ? "; the program has since changed to \(program.currency.code): return the whole sale "
                                + "(no --amount or lines), or ask head office for an adjustment (`loyalty-hq members adjust`)"
                            : ""))
            }
            if lines != nil, currency != program.currency {
                throw LoyaltyError.badInput(
                    "wrong_currency",
                    "receipt \(receipt) was paid in \(currency.code), before the program changed to \(program.currency.code): "
                        + "return the whole sale (no lines), or ask head office for an adjustment (`loyalty-hq members adjust`)")
            }
            // The result describes the sale's member (the earn's, else the redemption's). Each reversal
            // below goes to the card of the entry it reverses and the member holding that card now, never to
            // another: after a sync, head office may hold the card on another member than at the sale (a card
            // conflict), and it counts the sale there (found by attack: the return went to the old member).
            let owner = earn ?? first
            let memberId: Int64 = owner["member_id"]
            let card: String = owner["card"]
            let returnId = returnReceipt?.value ?? MachineToken.uuid()
            let keyPrefix = Self.returnKey(receipt, returnId)
            // Returns recorded before that had `refund:RECEIPT:RETURN`: theirs only when the entries name this
            // receipt and this return.
            let olderKeyPrefix = "refund:\(receipt.value):\(returnId)"

            // A retried return: report what it did the first time.
            let earlier = try Row.fetchAll(
                db.cachedStatement(
                    // A key range, not LIKE: receipts may hold '%' or '_', which LIKE would read as wildcards.
                    sql: """
                        SELECT points, amount_minor, balance_after, sale_answer,
                               idempotency_key BETWEEN ?1 || ':bonus:' AND ?1 || ':bonus;'
                               OR idempotency_key BETWEEN ?2 || ':bonus:' AND ?2 || ':bonus;' AS bonus
                        FROM entries
                        WHERE idempotency_key IN (?1 || ':earn', ?1 || ':redeem')
                           OR idempotency_key BETWEEN ?1 || ':bonus:' AND ?1 || ':bonus;'
                           OR ((idempotency_key IN (?2 || ':earn', ?2 || ':redeem')
                                OR idempotency_key BETWEEN ?2 || ':bonus:' AND ?2 || ':bonus;')
                               AND receipt = ?3 AND (reason = 'refund ' || ?4 OR reason = 'refund ' || ?4 || ': bonus of the sale'))
                        ORDER BY seq
                        """),
                arguments: [keyPrefix, olderKeyPrefix, receipt.value, returnId])
            if !earlier.isEmpty {
                let recorded = RecordedReturn(earlier)
                try recorded.requireSame(
                    amount: amount, lines: lines, returnId: returnId, receipt: receipt, currency: currency)
                let state = try refundState(receipt: receipt, earn: earn, redeem: redeem, db)
                return RefundResult(
                    card: card, memberId: memberId, receipt: receipt.value, returnReceipt: returnId,
                    refundAmount: Money(minorUnits: recorded.refundedMinor, currency: currency).decimalString,
                    currency: currency.code, reversedPoints: recorded.reversedPoints,
                    restoredPoints: recorded.restoredPoints, reversedBonusPoints: recorded.reversedBonusPoints,
                    balance: try shownBalance(card: card, program: program, db), fullyRefunded: state.isFullyRefunded,
                    replayed: true)
            }

            // Found by review: one return reference named a return of another store's sale of this receipt
            // and then a second, different return of this store's own.
            if try returnReferenceUsed(keyPrefix: Self.elsewhereKey(receipt, returnId), db) {
                throw LoyaltyError.refused(
                    "receipt_conflict",
                    "return \(returnId) was a return of receipt \(receipt) sold at another store, not of this store's sale; "
                        + "a different return needs a new return reference")
            }
            var state = try refundState(receipt: receipt, earn: earn, redeem: redeem, db)
            var saleLines = try earn.map { try saleLineStates(earnSeq: $0["seq"], db) } ?? []
            if let elsewhere, elsewhere.earnSeq == earn?["seq"], elsewhere.redeemSeq == redeem?["seq"] {
                state.refundedMinorUnits += elsewhere.state.refundedMinorUnits
                state.reversedEarnPoints += elsewhere.state.reversedEarnPoints
                state.restoredRedeemPoints += elsewhere.state.restoredRedeemPoints
                for (index, line) in elsewhere.lines.enumerated() where saleLines.indices.contains(index) {
                    saleLines[index].returnedMinor += line.returnedMinor
                    saleLines[index].reversedPoints += line.reversedPoints
                }
            }
            let (plan, lineParts) = try Self.planRefund(
                receipt: receipt, state: state, saleLines: saleLines, amount: amount, lines: lines)
            // Kept with the return: a retry under the same return reference must ask the same.
            let answer = ReturnAnswer(
                request: ReturnAnswer.request(amount: amount, lines: lines),
                fullyRefunded: state.refundedMinorUnits + plan.refundMinorUnits >= state.saleMinorUnits
            ).stored
            let millis = now.millisecondsSince1970
            if let earn, plan.refundMinorUnits > 0 || plan.reverseEarnPoints > 0 {
                let reversal = try append(
                    NewEntry(
                        memberId: earn["member_id"], card: earn["card"], kind: .reverse,
                        points: -plan.reverseEarnPoints,
                        amountMinorUnits: -plan.refundMinorUnits, receipt: receipt.value,
                        // A refund is computed from what the sale earned, under the sale's program version.
                        idempotencyKey: keyPrefix + ":earn", refersToSeq: earn["seq"],
                        ruleVersion: earn["rule_version"],
                        reason: "refund \(returnId)", saleAnswer: answer),
                    at: millis, db)
                for part in lineParts {
                    try db.execute(
                        sql:
                            "INSERT INTO line_returns (reverse_seq, earn_seq, line, amount_minor, points) VALUES (?, ?, ?, ?, ?)",
                        arguments: [reversal.seq, earn["seq"] as Int64, part.line, part.amountMinor, part.points])
                }
            }
            if let redeem, plan.restoreRedeemPoints > 0 {
                _ = try append(
                    NewEntry(
                        memberId: redeem["member_id"], card: redeem["card"], kind: .reverse,
                        points: plan.restoreRedeemPoints,
                        amountMinorUnits: 0, receipt: receipt.value, idempotencyKey: keyPrefix + ":redeem",
                        refersToSeq: redeem["seq"], ruleVersion: redeem["rule_version"], reason: "refund \(returnId)",
                        saleAnswer: answer),
                    at: millis, db)
            }
            // The day's count is recounted at the next award: a refund of today's sale frees the day cap.
            try db.execute(sql: "UPDATE members SET earned_day = NULL WHERE id = ?", arguments: [memberId])
            var after = state
            after.refundedMinorUnits += plan.refundMinorUnits
            after.reversedEarnPoints += plan.reverseEarnPoints
            after.restoredRedeemPoints += plan.restoreRedeemPoints
            // Bonuses the sale brought (the first-purchase bonus) go back with its full refund: a partial
            // refund still leaves a purchase.
            var reversedBonus: Int64 = 0
            var voided: [String] = []
            if let earn, after.isFullyRefunded {
                let bonuses = try Row.fetchAll(
                    db.cachedStatement(
                        sql: """
                            SELECT b.seq, \(Self.holderOfEntryCard("b")) AS member_id, b.card, b.points, b.rule_version,
                                   b.reason
                            FROM entries b
                            WHERE b.refers_to_seq = ? AND b.kind = 'bonus'
                              AND NOT EXISTS (SELECT 1 FROM entries r WHERE r.refers_to_seq = b.seq AND r.kind = 'reverse')
                            """),
                    arguments: [earn["seq"] as Int64])
                for bonus in bonuses {
                    let bonusSeq: Int64 = bonus["seq"]
                    let points = try Self.bonusStillHeld(
                        points: bonus["points"], reason: bonus["reason"], memberId: bonus["member_id"], db)
                    guard points > 0 else { continue }
                    _ = try append(
                        NewEntry(
                            memberId: bonus["member_id"], card: bonus["card"], kind: .reverse,
                            points: -points,
                            amountMinorUnits: 0, receipt: receipt.value,
                            idempotencyKey: keyPrefix + ":bonus:\(bonusSeq)",
                            refersToSeq: bonusSeq, ruleVersion: bonus["rule_version"],
                            reason: "refund \(returnId): bonus of the sale"),
                        at: millis, db)
                    reversedBonus -= points
                }
                voided = try voidCoupons(
                    issuedBySeq: earn["seq"], receipt: receipt.value, refundKey: keyPrefix, at: millis, db)
            }
            return RefundResult(
                card: card, memberId: memberId, receipt: receipt.value, returnReceipt: returnId,
                refundAmount: Money(minorUnits: plan.refundMinorUnits, currency: currency).decimalString,
                currency: currency.code, reversedPoints: -plan.reverseEarnPoints,
                restoredPoints: plan.restoreRedeemPoints, reversedBonusPoints: reversedBonus,
                voidedCoupons: voided.isEmpty ? nil : voided,
                balance: try shownBalance(card: card, program: program, db),
                fullyRefunded: after.isFullyRefunded, replayed: false)
        }
    }

    /// What a return takes: by line for a sale recorded with lines, else pro rata to the amount.
    static func planRefund(
        receipt: ReceiptReference, state: SaleRefundState, saleLines: [SaleLineState], amount: Money?,
        lines: [LineReturn]?
    ) throws -> (RefundPlan, [LineRefundPlan.Part]) {
        if saleLines.isEmpty {
            if lines != nil {
                throw LoyaltyError.badInput(
                    "no_lines",
                    "receipt \(receipt) was recorded without lines: refund it by amount (--amount), not by line")
            }
            return (try RefundPlan.plan(state, amountMinorUnits: amount?.minorUnits), [])
        }
        let remaining = state.saleMinorUnits - state.refundedMinorUnits
        if lines == nil, let amount, amount.minorUnits != remaining {
            throw LoyaltyError.badInput(
                "lines_needed",
                "receipt \(receipt) was sold with lines: name the returned lines (--line SKU:AMOUNT) so the return takes "
                    + "back what they earned, or leave --amount out to refund all that remains")
        }
        let linePlan = try LineRefundPlan.plan(saleLines, returns: lines)
        if let amount, amount.minorUnits != linePlan.amountMinor {
            throw LoyaltyError.badInput(
                "lines_mismatch",
                "the returned lines add up to another amount than --amount; give one or make them agree")
        }
        // What the returned lines earned, not a share of the whole sale's points.
        let plan = try RefundPlan.plan(state, amountMinorUnits: linePlan.amountMinor, lineTakeBack: linePlan.points)
        return (plan, linePlan.parts)
    }

    /// The member's balance as every command shows it: head office's snapshot plus this till's newer
    /// entries (the till's own sum is only its share).
    func shownBalance(card: String, program: LoyaltyProgram, _ db: Database) throws -> Int64 {
        try cardHolder(CardNumber(card), program: program, db, allowBlocked: true).vouchedBalance
    }

    /// The lines of the sale `earnSeq` (none when it was recorded without lines), with what returns took.
    private func saleLineStates(earnSeq: Int64, _ db: Database) throws -> [SaleLineState] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT l.sku, l.amount_minor, l.points, IFNULL(SUM(r.amount_minor), 0), IFNULL(SUM(r.points), 0)
                FROM sale_lines l LEFT JOIN line_returns r ON r.earn_seq = l.earn_seq AND r.line = l.line
                WHERE l.earn_seq = ? GROUP BY l.line ORDER BY l.line
                """,
            arguments: [earnSeq]
        ).map {
            SaleLineState(sku: $0[0], amountMinor: $0[1], points: $0[2], returnedMinor: $0[3], reversedPoints: $0[4])
        }
    }

    /// What the sale earned and redeemed, and what earlier refunds already gave back.
    private func refundState(
        receipt: ReceiptReference, earn: Row?, redeem: Row?, _ db: Database
    ) throws -> SaleRefundState {
        func reversed(of row: Row?) throws -> (points: Int64, amount: Int64) {
            guard let row else { return (0, 0) }
            let sums = try Row.fetchOne(
                db.cachedStatement(
                    sql:
                        "SELECT IFNULL(SUM(points), 0), IFNULL(SUM(amount_minor), 0) FROM entries WHERE refers_to_seq = ? AND kind = 'reverse'"
                ),
                arguments: [row["seq"] as Int64])!
            return (sums[0], sums[1])
        }
        let earnReversed = try reversed(of: earn)
        let redeemRestored = try reversed(of: redeem)
        return SaleRefundState(
            saleMinorUnits: earn?["amount_minor"] ?? 0, earnedPoints: earn?["points"] ?? 0,
            redeemedPoints: -(redeem?["points"] ?? 0), refundedMinorUnits: -earnReversed.amount,
            reversedEarnPoints: -earnReversed.points, restoredRedeemPoints: redeemRestored.points)
    }
}

extension LedgerDatabase {
    /// The key prefix of a return of this store's sale: the receipt's length first, as receipts and return
    /// references may hold ':' and must not run together.
    static func returnKey(_ receipt: ReceiptReference, _ returnId: String) -> String {
        "refund:\(receipt.value.utf8.count):\(receipt.value):\(returnId)"
    }

    /// What a full return takes back of a bonus its sale brought: all of it, except a once-per-member grant that
    /// head office already took back (paid by two tills): only what the member still holds of the grant, as this
    /// till knows it (found by attack: the till took the bonus back a second time; the other sale still stands).
    static func bonusStillHeld(points: Int64, reason: String?, memberId: Int64, _ db: Database) throws -> Int64 {
        guard let grant = OncePerMemberGrant.allCases.first(where: { $0.tillReason == reason }) else { return points }
        let held =
            try Int64.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT IFNULL((SELECT SUM(b.points + IFNULL((SELECT SUM(r.points) FROM entries r
                                                                     WHERE r.refers_to_seq = b.seq AND r.kind = 'reverse'), 0))
                                       FROM entries b WHERE b.member_id = ?1 AND b.kind = 'bonus' AND b.reason = ?2), 0)
                             + IFNULL((SELECT SUM(h.points) FROM head_office_entries h
                                       WHERE h.member_id = ?1 AND substr(h.reason, 1, length(?3)) = ?3), 0)
                        """),
                arguments: [memberId, reason, "reconcile:\(grant.rawValue)_"]) ?? points
        return min(points, max(0, held))
    }

    /// Whether entries of a return keyed `keyPrefix` (its `:earn`, `:redeem` and `:bonus:…` entries) exist.
    func returnReferenceUsed(keyPrefix: String, _ db: Database) throws -> Bool {
        try db.cachedStatement(sql: "SELECT 1 FROM entries WHERE idempotency_key >= ?1 || ':' AND idempotency_key < ?1 || ';' LIMIT 1")
            .firstRow([.text(keyPrefix)]) { _ in true } ?? false
    }

    /// SQL: the member holding the card of the entry aliased `alias` now (else the entry's member).
    static func holderOfEntryCard(_ alias: String) -> String {
        "IFNULL((SELECT c.member_id FROM cards c WHERE c.number = \(alias).card), \(alias).member_id)"
    }
}
