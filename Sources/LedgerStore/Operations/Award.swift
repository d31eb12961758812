public import Foundation
import GRDB
import Synchronization
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
        card: CardNumber, amount: Money, receipt: ReceiptReference, lines: [SaleLine]? = nil, provisionalIfUnknown: Bool = false,
        at now: Date? = nil
    ) throws -> AwardResult {
        let now = now ?? headOfficeNow()
        // Found by attack: a zero sale reached the ledger's CHECK and was reported as a storage failure.
        guard amount.minorUnits > 0 else {
            throw LoyaltyError.badInput("zero_amount", "a sale amount must be greater than zero; a return is `refund`")
        }
        if let lines {
            guard !lines.isEmpty, lines.allSatisfy({ $0.amountMinor > 0 }) else {
                throw LoyaltyError.badInput("bad_line", "each sale line needs an amount above zero")
            }
            // Lines are stored with the sale: a bank card number never reaches the ledger.
            for line in lines { try SaleLine.refusePaymentCards(sku: line.sku, category: line.category) }
            let (total, overflow) = lines.reduce((Int64(0), false)) { sum, line in
                let (value, over) = sum.0.addingReportingOverflow(line.amountMinor)
                return (value, sum.1 || over)
            }
            guard !overflow, total == amount.minorUnits else {
                let sum = overflow ? "more than any sale can be" : Money(minorUnits: total, currency: amount.currency).decimalString
                throw LoyaltyError.badInput(
                    "lines_mismatch",
                    "the sale lines add up to \(sum), the amount says \(amount.decimalString); give one or make them agree")
            }
            // A return names its lines by SKU: two lines under one SKU could not be told apart, and the
            // return would take back the other line's points.
            var seen = Set<String>()
            if let twice = lines.first(where: { !seen.insert($0.sku).inserted }) {
                throw LoyaltyError.badInput(
                    "duplicate_sku",
                    "SKU \(twice.sku) is on two lines of this sale; give one line per SKU (add the quantities' amounts together)")
            }
        }
        return try write { db in
            let program = try currentProgram(db)
            guard amount.currency == program.currency else {
                throw LoyaltyError.badInput(
                    "currency_mismatch", "the amount is in \(amount.currency.code), the program in force counts \(program.currency.code)")
            }
            let key = "earn:\(receipt.value)"
            // A retry first, before anything that may have changed since (a card blocked after the sale).
            let retried = try db.cachedStatement(
                sql: """
                    SELECT e.seq, e.member_id, e.card, e.points, e.amount_minor, e.balance_after, e.rule_version,
                           e.reported_balance, IFNULL(e.reported_tier, m.tier), m.provisional, e.sale_answer
                    FROM entries e JOIN members m ON m.id = e.member_id WHERE e.idempotency_key = ?
                    """
            ).firstRow([.text(key)]) { row in
                (
                    seq: row.int64(0), memberId: row.int64(1), card: row.text(2), points: row.int64(3), amount: row.int64(4),
                    balance: row.optionalInt64(7) ?? row.int64(5), ruleVersion: Int(row.int64(6)), tier: row.text(8),
                    provisional: row.bool(9), answer: row.optionalText(10)
                )
            }
            if let original = retried {
                let answer = try original.answer.map { try JSONDecoder().decode(SaleAnswer.self, from: Data($0.utf8)) }
                let (seq, memberId, originalCard, points, originalAmount) =
                    (original.seq, original.memberId, original.card, original.points, original.amount)
                // The same sale again names the same lines (or none, as the first time): other lines are another sale.
                let storedLines = try Row.fetchAll(
                    db, sql: "SELECT sku, category, amount_minor FROM sale_lines WHERE earn_seq = ? ORDER BY line", arguments: [seq]
                ).map { SaleLine(sku: $0[0], category: $0[1], amountMinor: $0[2]) }
                let linesDiffer = lines.map { Set($0) != Set(storedLines) } ?? false
                guard originalCard == card.value, originalAmount == amount.minorUnits, !linesDiffer else {
                    let earlier = Money(minorUnits: originalAmount, currency: program.currency)
                    throw LoyaltyError.refused(
                        "receipt_conflict",
                        "receipt \(receipt) already earned \(points) points for \(earlier) on card \(CardNumber.maskedValue(originalCard))"
                            + (linesDiffer ? " with other lines" : "") + "; a new sale needs a new receipt reference")
                }
                return AwardResult(
                    card: card.value, memberId: memberId, receipt: receipt.value, amount: amount.decimalString,
                    currency: amount.currency.code, points: points, balance: original.balance, tier: original.tier,
                    seq: seq, ruleVersion: original.ruleVersion, replayed: true,
                    // Said as the first answer said it, whatever happened since (the walk-in enrolled since).
                    provisional: answer?.provisional ?? original.provisional,
                    breakdown: answer?.breakdown,
                    firstPurchaseBonus: try db.cachedStatement(sql: "SELECT points FROM entries WHERE idempotency_key = ?")
                        .firstRow([.text("bonus:first-purchase:\(receipt.value)")]) { $0.int64(0) },
                    couponsIssued: try couponsIssued(bySale: seq, memberId: memberId, db))
            }
            let millis = now.millisecondsSince1970
            let holder = try cardHolder(card, program: program, provisionalIfUnknown: provisionalIfUnknown, at: millis, db)
            try requireReceiptBelongs(to: holder.memberId, receipt: receipt, db)
            var progress = try rollingProgress(holder: holder, at: millis, pointsToo: program.tiersCountPoints, keep: true, db)
            // The tier the member holds, or the one their figures reach under this version when higher (found by
            // attack: a version lowering a threshold gave the tier at head office at once, here only after a sale).
            let tier = program.tierAfterPurchase(current: program.tier(named: holder.tier), progress: progress)
            // The rules, when the program has any, decide the points below.
            var points = program.earningRules == nil && lines == nil ? try program.pointsEarned(for: amount, tier: tier) : 0
            var breakdown: EarningBreakdown?
            var dayCounted: String?
            var earnedToday: Int64 = 0
            var standing: SaleStanding?
            let needsStanding = Self.needsStanding(program)
            if program.earningRules != nil || lines != nil {
                let rules = program.earningRules ?? EarningRules()
                let moment = Self.saleMoment(now, timeZone: rules.timeZone)
                // One read of the member's row: the birthday, the points of their latest earning day and,
                // when the program needs them, what the first-purchase bonus and the coupons ask.
                let member = try db.cachedStatement(sql: needsStanding ? Self.memberRowWithStanding : Self.memberRow)
                    .firstRow([.integer(holder.memberId)]) { row in
                        (
                            birthday: row.optionalText(0), earnedDay: row.optionalText(1), earnedDayPoints: row.optionalInt64(2),
                            flags: row.optionalText(3),
                            standing: needsStanding
                                ? SaleStanding(
                                    enrolledAt: row.int64(4), boughtBefore: row.bool(5), holdsACard: row.bool(6),
                                    chainVisits: row.optionalInt64(7) ?? 0, chainVisitsThroughSeq: row.int64(8))
                                : nil
                        )
                    }
                if needsStanding { standing = member?.standing }
                let birthday = member?.birthday
                if rules.perMemberDayCapPoints != nil {
                    earnedToday = try member?.earnedDay == moment.day
                        ? member?.earnedDayPoints ?? 0
                        : pointsEarnedBefore(holder: holder, day: moment.day, now: now, timeZone: rules.timeZone, db)
                    dayCounted = moment.day
                }
                let computed = try program.earning(
                    lines: lines ?? [SaleLine(sku: "", category: "", amountMinor: amount.minorUnits)], tier: tier, moment: moment,
                    birthdayMonth: birthday.flatMap(BirthdayMonthDay.init)?.month, earnedToday: earnedToday,
                    flags: member?.flags.map { $0.split(separator: ",").map(String.init) } ?? [])
                points = computed.points
                breakdown = computed
            }
            if needsStanding && standing == nil { standing = try saleStanding(memberId: holder.memberId, db) }
            var firstPurchaseBonus: Int64?
            if let standing { firstPurchaseBonus = self.firstPurchaseBonus(for: holder, standing: standing, program: program) }
            // The sale counts at once: its spend, and its points with the bonus it brings.
            progress.spendMinorUnits += amount.minorUnits
            progress.pointsEarned += points + (firstPurchaseBonus ?? 0)
            let newTier = program.tierAfterPurchase(current: tier, progress: progress)
            // The new entries are newer than any snapshot: the vouched balance moves by exactly their points.
            let reportedBalance = holder.vouchedBalance + points + (firstPurchaseBonus ?? 0)
            let written = try append(
                NewEntry(
                    memberId: holder.memberId, card: card.value, kind: .earn, points: points,
                    amountMinorUnits: amount.minorUnits, receipt: receipt.value, idempotencyKey: key, refersToSeq: nil,
                    ruleVersion: program.version, reason: Self.promotionReason(breakdown), reportedBalance: reportedBalance,
                    reportedTier: newTier.name,
                    saleAnswer: SaleAnswer(
                        breakdown: breakdown, provisional: holder.provisional, pricedTier: tier.name,
                        base: breakdown == nil ? program.basePoints(minorUnits: amount.minorUnits) : nil
                    ).storedJSON),
                at: millis, db)
            if let lines {
                // What each line earned, so a return of a line takes back exactly that.
                let shares = program.linePoints(lines, totalPoints: points)
                for (index, line) in lines.enumerated() {
                    try db.cachedStatement(
                        sql: "INSERT INTO sale_lines (earn_seq, line, sku, category, amount_minor, points) VALUES (?, ?, ?, ?, ?, ?)"
                    ).execute(arguments: [written.seq, index, line.sku, line.category, line.amountMinor, shares[index]])
                }
            }
            if let firstPurchaseBonus {
                _ = try append(
                    NewEntry(
                        memberId: holder.memberId, card: card.value, kind: .bonus, points: firstPurchaseBonus, amountMinorUnits: 0,
                        receipt: receipt.value, idempotencyKey: "bonus:first-purchase:\(receipt.value)", refersToSeq: written.seq,
                        ruleVersion: program.version, reason: "first-purchase bonus"),
                    at: millis, db)
            }
            var coupons: [String] = []
            if let standing {
                coupons = try issueEarlyVisitCoupons(
                    memberId: holder.memberId, standing: standing, program: program, saleSeq: written.seq, receipt: receipt.value,
                    at: millis, db)
            }
            if let dayCounted {
                // The member's row is written anyway (the balance): the day's count adds no page to the commit.
                try db.cachedStatement(sql: "UPDATE members SET earned_day = ?, earned_day_points = ? WHERE id = ?")
                    .execute(arguments: [dayCounted, earnedToday + points, holder.memberId])
            }
            if newTier.name != holder.tier {
                try db.execute(sql: "UPDATE members SET tier = ? WHERE id = ?", arguments: [newTier.name, holder.memberId])
            }
            return AwardResult(
                card: card.value, memberId: holder.memberId, receipt: receipt.value, amount: amount.decimalString,
                currency: amount.currency.code, points: points, balance: reportedBalance, tier: newTier.name,
                seq: written.seq, ruleVersion: program.version, replayed: false, provisional: holder.provisional,
                breakdown: breakdown, firstPurchaseBonus: firstPurchaseBonus, couponsIssued: coupons.isEmpty ? nil : coupons)
        }
    }

    /// What a sale's first answer said beyond its entry, kept for a retry (NULL: no breakdown, not provisional).
    struct SaleAnswer: Codable {
        var breakdown: EarningBreakdown?
        var provisional: Bool
        /// The tier the sale was priced at (travels with the sale: head office prices it again at the chain's tier).
        var pricedTier: String?
        /// The base points of a sale priced without rules (with rules, the breakdown's).
        var base: Int64?

        /// The JSON kept with the entry (read back by `JSONDecoder`); nil when there is nothing beyond the
        /// entry to keep. Written by hand: it is on the award path, where `JSONEncoder` cost more than a
        /// statement (see the ledger benchmark).
        var storedJSON: String? {
            guard breakdown != nil || provisional || pricedTier != nil else { return nil }
            var json = "{\"provisional\":\(provisional)"
            if let breakdown {
                let promotions = breakdown.promotions.map {
                    "{\"name\":\(Self.quoted($0.name)),\"multiplierPercent\":\($0.multiplierPercent),\"points\":\($0.points)}"
                }
                json += ",\"breakdown\":{\"eligibleMinor\":\(breakdown.eligibleMinor),\"base\":\(breakdown.base),"
                    + "\"tier\":\(breakdown.tier),\"promotions\":[\(promotions.joined(separator: ","))],"
                    + "\"birthday\":\(breakdown.birthday),\"capped\":\(breakdown.capped),\"points\":\(breakdown.points)}"
            }
            if let base { json += ",\"base\":\(base)" }
            if let pricedTier { json += ",\"pricedTier\":\(Self.quoted(pricedTier))" }
            return json + "}"
        }

        /// A JSON string literal: quotes, backslashes and control characters escaped.
        static func quoted(_ text: String) -> String {
            var result = "\""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": result += "\\\""
                case "\\": result += "\\\\"
                case _ where scalar.value < 0x20: result += String(format: "\\u%04x", scalar.value)
                default: result.unicodeScalars.append(scalar)
                }
            }
            return result + "\""
        }
    }

    /// The codes of the coupons a sale earned, as its first answer listed them (nil: none).
    func couponsIssued(bySale seq: Int64, memberId: Int64, _ db: Database) throws -> [String]? {
        let codes = try String.fetchAll(
            db, sql: "SELECT code FROM coupons WHERE member_id = ? AND issued_by_seq = ? ORDER BY issued_at, code",
            arguments: [memberId, seq])
        return codes.isEmpty ? nil : codes
    }

    /// `promotion: NAME, ...` when promotions added points to the sale: head office counts such sales
    /// as incentive-driven (the mercenary loyalty type).
    static func promotionReason(_ breakdown: EarningBreakdown?) -> String? {
        let names = (breakdown?.promotions ?? []).filter { $0.points > 0 }.map(\.name)
        return names.isEmpty ? nil : String(("promotion: " + names.joined(separator: ", ")).prefix(200))
    }

    /// What the first-purchase bonus and the early-visit coupons ask of a member, read in one statement
    /// before the sale is written; nil when the program has neither.
    struct SaleStanding {
        var enrolledAt: Int64
        /// An earn entry here, or sales at head office's last pull.
        var boughtBefore: Bool
        /// Whether the member holds a card (here or at head office's last word): a coupon needs an owner
        /// who can show one.
        var holdsACard: Bool
        /// Head office's count of the member's sales since enrolling, and the store seq it includes.
        var chainVisits: Int64
        var chainVisitsThroughSeq: Int64
    }

    /// Whether the program has a first-purchase bonus or early-visit coupons.
    static func needsStanding(_ program: LoyaltyProgram) -> Bool {
        (program.bonuses?.firstPurchasePoints ?? 0) > 0 || (program.coupons ?? []).contains { $0.trigger != .enrolment }
    }

    static let memberRow = """
        SELECT m.birthday, m.earned_day, m.earned_day_points, s.flags
        FROM members m LEFT JOIN member_snapshots s ON s.member_id = m.id WHERE m.id = ?
        """
    static let memberRowWithStanding = """
        SELECT m.birthday, m.earned_day, m.earned_day_points, s.flags, m.enrolled_at,
               EXISTS (SELECT 1 FROM entries e WHERE e.member_id = m.id AND e.kind = 'earn') OR IFNULL(s.purchases, 0) > 0
               OR EXISTS (SELECT 1 FROM store_peer_entries p JOIN cards pc ON pc.number = p.card
                          WHERE pc.member_id = m.id AND p.kind = 'earn')
               OR EXISTS (SELECT 1 FROM members g LEFT JOIN member_snapshots gs ON gs.member_id = g.id
                          WHERE g.merged_into = m.id AND (IFNULL(gs.purchases, 0) > 0
                                OR EXISTS (SELECT 1 FROM entries ge WHERE ge.member_id = g.id AND ge.kind = 'earn'))),
               s.first_card IS NOT NULL OR EXISTS (SELECT 1 FROM cards c WHERE c.member_id = m.id),
               s.sales_since_enrolment, CASE WHEN s.sales_since_enrolment IS NULL THEN 0 ELSE s.includes_store_seq END
        FROM members m LEFT JOIN member_snapshots s ON s.member_id = m.id WHERE m.id = ?
        """

    func saleStanding(memberId: Int64, _ db: Database) throws -> SaleStanding? {
        try db.cachedStatement(sql: Self.memberRowWithStanding).firstRow([.integer(memberId)]) { row in
            SaleStanding(
                enrolledAt: row.int64(4), boughtBefore: row.bool(5), holdsACard: row.bool(6),
                chainVisits: row.optionalInt64(7) ?? 0, chainVisitsThroughSeq: row.int64(8))
        }
    }

    /// The program's first-purchase bonus if this sale is the member's first anywhere: no earn entry of
    /// theirs here and none at any store head office knows of. A provisional card gets none (this till
    /// cannot tell).
    func firstPurchaseBonus(for holder: CardHolder, standing: SaleStanding, program: LoyaltyProgram) -> Int64? {
        guard let bonus = program.bonuses?.firstPurchasePoints, bonus > 0, !holder.provisional, !standing.boughtBefore else { return nil }
        return bonus
    }

    /// Day, weekday, hour and month of `now` in `timeZone` (UTC when unknown): the zone's offset at
    /// that instant, then integer date arithmetic (a calendar object costs more than the rest of the rules).
    static func saleMoment(_ now: Date, timeZone: String) -> SaleMoment {
        SaleMoment(localSeconds: Int64((now.timeIntervalSince1970).rounded(.down)) + Int64(utcOffsetSeconds(timeZone, at: now)))
    }

    /// A Gregorian calendar in `timeZone`, made once per zone: loading a zone's rules reads the
    /// time-zone database, far too slow for every award.
    static func calendar(_ timeZone: String) -> Calendar {
        calendars.withLock { cache in
            if let known = cache[timeZone] { return known }
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: timeZone) ?? TimeZone(identifier: "UTC")!
            if cache.count < 64 { cache[timeZone] = calendar }
            return calendar
        }
    }

    private static let calendars = Mutex<[String: Calendar]>([:])

    /// The zone's UTC offset at `now`, kept per zone until its next transition: asking the time-zone
    /// database on every award costs more than the rest of the rules.
    static func utcOffsetSeconds(_ timeZone: String, at now: Date) -> Int {
        if let cached = offsets.withLock({ $0[timeZone] }), cached.from <= now, now < cached.until { return cached.seconds }
        let zone = calendar(timeZone).timeZone
        let seconds = zone.secondsFromGMT(for: now)
        // Valid until the next daylight-saving change (at most a day ahead, so a zone's changed rules apply soon).
        let until = min(zone.nextDaylightSavingTimeTransition(after: now) ?? .distantFuture, now.addingTimeInterval(86_400))
        offsets.withLock { cache in
            if cache.count >= 64 { cache.removeAll() }
            cache[timeZone] = (now, until, seconds)
        }
        return seconds
    }

    private static let offsets = Mutex<[String: (from: Date, until: Date, seconds: Int)]>([:])

    /// Points the member's sales of today (the rules' time zone) earned before this sale, net of what
    /// refunds took back, across the chain: head office's figure for the day (every store's sales it has)
    /// plus this till's entries newer than that snapshot, plus the store's other tills' sales of the day the
    /// store hub brought that the snapshot does not hold (found by attack: each till granted the whole cap). Only the first award of a member's day needs it:
    /// the member's row then keeps the day's count (`earned_day`, `earned_day_points`), cleared by a pull
    /// or a refund, so later awards scan nothing.
    func pointsEarnedBefore(holder: CardHolder, day: String, now: Date, timeZone: String, _ db: Database) throws -> Int64 {
        let start = Self.calendar(timeZone).startOfDay(for: now).millisecondsSince1970
        var points = try Int64.fetchOne(
            db.cachedStatement(sql: Self.pointsOfTheDay), arguments: [holder.memberId, start, day]) ?? 0
        if holder.hasMergedMembers {
            // Members merged into this one here (``MergedMembers``): found by attack, a card added with its day's
            // points left the cap unspent at this till.
            points += try Int64.fetchOne(
                db.cachedStatement(sql: Self.pointsOfTheDayOfMerged),
                arguments: [holder.memberId, start, day, holder.snapshotProgress?.included ?? 0]) ?? 0
        }
        return points
    }

    /// The day's points of the members merged into `?1` (day start `?2`, day `?3`, the member's snapshot basis
    /// `?4`): a separate one's own snapshot figure and entries after it; a covered one's entries after the basis.
    static let pointsOfTheDayOfMerged = """
        SELECT IFNULL(SUM(
            CASE WHEN IFNULL(g.merged_at_seq, 0) > ?4
                 THEN IFNULL((SELECT day_points FROM member_snapshots WHERE member_id = g.id AND day_points_day = ?3), 0)
                      + IFNULL((SELECT SUM(points) FROM entries WHERE member_id = g.id AND kind = 'earn' AND created_at >= ?2
                                  AND seq > IFNULL((SELECT includes_store_seq FROM member_snapshots WHERE member_id = g.id), 0)), 0)
                 ELSE IFNULL((SELECT SUM(points) FROM entries WHERE member_id = g.id AND kind = 'earn' AND created_at >= ?2
                                AND seq > ?4), 0) END), 0)
        FROM members g WHERE g.merged_into = ?1
        """

    static let pointsOfTheDay = """
        SELECT IFNULL((SELECT day_points FROM member_snapshots WHERE member_id = ?1 AND day_points_day = ?3), 0)
             + IFNULL((SELECT SUM(points) FROM entries WHERE member_id = ?1 AND kind = 'earn' AND created_at >= ?2
                         AND seq > IFNULL((SELECT includes_store_seq FROM member_snapshots WHERE member_id = ?1), 0)), 0)
             + IFNULL((SELECT SUM(r.points) FROM entries r JOIN entries e ON e.seq = r.refers_to_seq
                       WHERE r.member_id = ?1 AND r.kind = 'reverse' AND r.points < 0 AND e.kind = 'earn' AND e.created_at >= ?2
                         AND r.seq > IFNULL((SELECT includes_store_seq FROM member_snapshots WHERE member_id = ?1), 0)), 0)
             + IFNULL((SELECT SUM(p.points) FROM store_peer_entries p JOIN cards c ON c.number = p.card
                       WHERE c.member_id = ?1 AND p.kind = 'earn' AND p.created_at_ms >= ?2
                         AND \(LedgerDatabase.notInSnapshot("p", member: "c.member_id"))), 0)
        """
}

extension CardNumber {
    /// Masks a stored card value the same way as ``masked``.
    static func maskedValue(_ value: String) -> String {
        String(repeating: "•", count: max(0, value.count - 4)) + value.suffix(4)
    }
}
