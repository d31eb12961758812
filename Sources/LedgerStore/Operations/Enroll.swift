public import Foundation
import GRDB
public import LoyaltyCore

extension LedgerDatabase {
    /// Enrols a new member holding `card`. A card can belong to one member only. `referredBy` is the
    /// card of the member who brought them (head office counts referrals); it may be a member this
    /// till has not heard of, but never the new member themselves.
    public func enroll(
        card: CardNumber, name: String?, birthday: CalendarDate?, referredBy: CardNumber? = nil, at now: Date? = nil
    ) throws -> EnrollResult {
        let now = now ?? headOfficeNow()
        if let referredBy, referredBy == card {
            throw LoyaltyError.badInput("self_referral", "a member cannot refer themselves; --referred-by takes the card of the member who brought them")
        }
        try birthday?.requireBirthday(atMilliseconds: now.millisecondsSince1970)
        return try write { db in
            if let referredBy, let referrer = try Int64.fetchOne(db, sql: "SELECT member_id FROM cards WHERE number = ?", arguments: [referredBy.value]),
                referrer == (try Int64.fetchOne(db, sql: "SELECT member_id FROM cards WHERE number = ?", arguments: [card.value]))
            {
                throw LoyaltyError.badInput("self_referral", "card \(referredBy.masked) belongs to the member being enrolled")
            }
            let program = try currentProgram(db)
            let millis = now.millisecondsSince1970
            if try String.fetchOne(db, sql: "SELECT status FROM cards WHERE number = ?", arguments: [card.value]) == "blocked" {
                throw LoyaltyError.refused(
                    "blocked_card", "card \(card.masked) is blocked by head office (reported lost or stolen); hand out another card")
            }
            if let owner = try Row.fetchOne(db, sql: Self.enrolmentStanding, arguments: [card.value]), owner["never_enrolled"] as Bool {
                // The card earned before it was enrolled (here, or at stores head office has described): the
                // same member, now enrolled, keeps its points.
                let memberId: Int64 = owner["id"]
                try db.execute(
                    sql: "UPDATE members SET name = ?, birthday = ?, enrolled_at = ?, provisional = 0 WHERE id = ?",
                    arguments: [name, birthday?.description, millis, memberId])
                // What the member has: head office's balance and tier (the card may have earned at other
                // stores) plus this till's newer entries, as `member` shows it, and the bonus.
                let before = try cardHolder(card, program: program, db, allowBlocked: true)
                let answer = (balance: before.vouchedBalance + Self.enrolmentBonus(program), tier: before.tier)
                let bonus = try appendEnrolment(
                    memberId: memberId, card: card, name: name, birthday: birthday, referredBy: referredBy, program: program,
                    answer: answer, at: millis, db)
                let coupons = try issueEnrolmentCoupons(memberId: memberId, card: card, program: program, at: millis, db)
                return EnrollResult(
                    card: card.value, memberId: memberId, name: name, birthday: birthday?.description,
                    tier: answer.tier, balance: answer.balance, referredBy: referredBy?.value,
                    enrolmentBonus: bonus, couponsIssued: coupons)
            }
            if let owner = try Int64.fetchOne(db, sql: "SELECT member_id FROM cards WHERE number = ?", arguments: [card.value]) {
                // The same enrolment again (a POS that lost the answer): the first answer, nothing written.
                if let retried = try enrolmentRetried(
                    card: card, memberId: owner, name: name, birthday: birthday, referredBy: referredBy, program: program, db)
                {
                    return retried
                }
                throw LoyaltyError.refused(
                    "card_taken",
                    "card \(card.masked) already belongs to member \(owner), who is enrolled; look them up with "
                        + "`loyalty-agent member CARD`, or set their name or birthday with "
                        + "`loyalty-agent profile CARD --name NAME`")
            }
            try db.execute(
                sql: "INSERT INTO members (name, birthday, enrolled_at, tier) VALUES (?, ?, ?, ?)",
                arguments: [name, birthday?.description, millis, program.tiers[0].name])
            let memberId = db.lastInsertedRowID
            try db.execute(
                sql: "INSERT INTO cards (number, member_id, added_at) VALUES (?, ?, ?)",
                arguments: [card.value, memberId, millis])
            let answer = (balance: Self.enrolmentBonus(program), tier: program.tiers[0].name)
            let bonus = try appendEnrolment(
                memberId: memberId, card: card, name: name, birthday: birthday, referredBy: referredBy, program: program,
                answer: answer, at: millis, db)
            let coupons = try issueEnrolmentCoupons(memberId: memberId, card: card, program: program, at: millis, db)
            return EnrollResult(
                card: card.value, memberId: memberId, name: name, birthday: birthday?.description,
                tier: answer.tier, balance: answer.balance, referredBy: referredBy?.value, enrolmentBonus: bonus,
                couponsIssued: coupons)
        }
    }

    /// The answer to an enrolment this till already made with the same card, name, birthday and referrer;
    /// nil when the card's member was enrolled otherwise (another till, or other details): the first
    /// answer again (its balance and tier, bonus and coupons), whatever happened since.
    private func enrolmentRetried(
        card: CardNumber, memberId: Int64, name: String?, birthday: CalendarDate?, referredBy: CardNumber?,
        program: LoyaltyProgram, _ db: Database
    ) throws -> EnrollResult? {
        guard
            let enrolment = try Row.fetchOne(
                db,
                sql: """
                    SELECT member_name, member_birthday, referred_by FROM entries
                    WHERE idempotency_key = ? AND kind = 'enroll' AND member_id = ? AND joins_card IS NULL
                    """,
                arguments: ["enroll:\(card.value)", memberId]),
            enrolment["member_name"] as String? == name, enrolment["member_birthday"] as String? == birthday?.description,
            enrolment["referred_by"] as String? == referredBy?.value
        else { return nil }
        let bonusRow = try Row.fetchOne(
            db, sql: "SELECT points, reported_balance, reported_tier FROM entries WHERE idempotency_key = ?",
            arguments: ["bonus:enrolment:\(card.value)"])
        let bonus: Int64? = bonusRow?["points"]
        // The first answer's balance and tier, on the enrolment's last entry (ledgers before v20: the member's now).
        let reported =
            try bonusRow
            ?? Row.fetchOne(
                db, sql: "SELECT reported_balance, reported_tier FROM entries WHERE idempotency_key = ?",
                arguments: ["enroll:\(card.value)"])
        let coupons = try String.fetchAll(
            db,
            sql: "SELECT coupon_code FROM entries WHERE receipt = ? AND member_id = ? AND kind = 'coupon' AND reason = 'issued' ORDER BY seq",
            arguments: ["enroll-\(card.value)", memberId])
        let holder = try cardHolder(card, program: program, db, allowBlocked: true)
        return EnrollResult(
            card: card.value, memberId: memberId, name: name, birthday: birthday?.description,
            tier: reported?["reported_tier"] ?? holder.tier, balance: reported?["reported_balance"] ?? holder.vouchedBalance,
            referredBy: referredBy?.value, enrolmentBonus: bonus, couponsIssued: coupons.isEmpty ? nil : coupons, replayed: true)
    }

    /// The member holding a card, and whether they were never enrolled: provisional here, or described by
    /// head office as a member no store enrolled (sales on the card before anyone enrolled it).
    static let enrolmentStanding = """
        SELECT m.id, m.balance,
               m.provisional OR (EXISTS (SELECT 1 FROM member_snapshots s WHERE s.member_id = m.id AND s.enrolled_at IS NULL)
                                 AND NOT EXISTS (SELECT 1 FROM entries e WHERE e.member_id = m.id AND e.kind = 'enroll'))
                   AS never_enrolled
        FROM cards c JOIN members m ON m.id = c.member_id WHERE c.number = ?
        """

    /// The program's enrolment coupons (a welcome coupon), nil when it has none.
    private func issueEnrolmentCoupons(memberId: Int64, card: CardNumber, program: LoyaltyProgram, at millis: Int64, _ db: Database) throws
        -> [String]?
    {
        let codes = try (program.coupons ?? []).filter { $0.trigger == .enrolment }.compactMap {
            try issueCoupon($0, memberId: memberId, program: program, issuedBySeq: nil, receipt: "enroll-\(card.value)", at: millis, db)
        }
        return codes.isEmpty ? nil : codes
    }

    /// The 0-point entry that carries an enrolment (and the profile) to head office, and the program's
    /// enrolment bonus if it has one. Returns the bonus.
    /// The balance and tier the enrolment answers travel on its last entry (the bonus, else the enrolment):
    /// a retried enrolment answers them again.
    private func appendEnrolment(
        memberId: Int64, card: CardNumber, name: String?, birthday: CalendarDate?, referredBy: CardNumber?,
        program: LoyaltyProgram, answer: (balance: Int64, tier: String), at millis: Int64, _ db: Database
    ) throws -> Int64? {
        let points = Self.enrolmentBonus(program)
        _ = try append(
            NewEntry(
                memberId: memberId, card: card.value, kind: .enroll, points: 0, amountMinorUnits: 0,
                receipt: "enroll-\(card.value)", idempotencyKey: "enroll:\(card.value)", refersToSeq: nil,
                ruleVersion: program.version, reason: nil, reportedBalance: points > 0 ? nil : answer.balance,
                reportedTier: points > 0 ? nil : answer.tier, memberName: name, memberBirthday: birthday?.description,
                referredBy: referredBy?.value),
            at: millis, db)
        guard points > 0 else { return nil }
        _ = try append(
            NewEntry(
                memberId: memberId, card: card.value, kind: .bonus, points: points, amountMinorUnits: 0,
                receipt: "enroll-\(card.value)", idempotencyKey: "bonus:enrolment:\(card.value)", refersToSeq: nil,
                ruleVersion: program.version, reason: "enrolment bonus", reportedBalance: answer.balance, reportedTier: answer.tier),
            at: millis, db)
        return points
    }

    /// The program's enrolment bonus (0: none).
    static func enrolmentBonus(_ program: LoyaltyProgram) -> Int64 { max(0, program.bonuses?.enrolmentPoints ?? 0) }

    /// Adds `new` to the member holding `existing` (a phone barcode beside the plastic card, a second
    /// card). The change reaches head office in the ledger stream, so every store learns it.
    public func addCard(_ new: CardNumber, toMemberOf existing: CardNumber, at now: Date? = nil) throws -> AddedCard {
        let now = now ?? headOfficeNow()
        return try write { db in
            let program = try currentProgram(db)
            // A blocked card names no one at this till: adding a card to it would carry a lost or stolen
            // card's points onto a card nobody blocked.
            let holder = try cardHolder(existing, program: program, db, allowBlocked: true)
            if holder.cardStatus == "blocked" {
                throw LoyaltyError.refused(
                    "blocked_card",
                    "card \(existing.masked) is blocked, so no card can be added through it; a lost card is replaced at "
                        + "head office (`loyalty-hq cards replace OLD NEW`), or add the card through another card the member holds")
            }
            // A card this till only knows from sales (sold before any store here knew it) names no member the
            // cashier can see: a card added through it would make a second unknown member of several cards
            // that head office could not join to the member the card belongs to (found by the chain simulation).
            if holder.provisional {
                throw LoyaltyError.refused(
                    "provisional_member",
                    "card \(existing.masked) is not enrolled here (it was only used for sales before this till heard of it); "
                        + "sync with head office, or add the card through a card of the member this till knows")
            }
            let millis = now.millisecondsSince1970
            if try String.fetchOne(db, sql: "SELECT status FROM cards WHERE number = ?", arguments: [new.value]) == "blocked" {
                throw LoyaltyError.refused(
                    "blocked_card", "card \(new.masked) is blocked by head office (reported lost or stolen); hand out another card")
            }
            var mergedMember: Int64?
            if let taken = try Row.fetchOne(db, sql: Self.enrolmentStanding, arguments: [new.value]) {
                // A card only ever used for sales (a provisional member, never enrolled, holding just this
                // card) is the member's: it joins them, here now and at head office on ingest. Its points
                // show with the member once head office has joined them (nothing is spent twice meanwhile).
                let takenBy: Int64 = taken["id"]
                if takenBy == holder.memberId {
                    // The member holds it already (a retried add): the same answer, nothing written.
                    let cards = try String.fetchAll(
                        db, sql: "SELECT number FROM cards WHERE member_id = ? ORDER BY added_at, number", arguments: [holder.memberId])
                    return AddedCard(card: new.value, cards: cards, replayed: true)
                }
                let cardsHeld = try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM cards WHERE member_id = ?", arguments: [takenBy])
                guard taken["never_enrolled"] as Bool, cardsHeld == 1 else {
                    throw LoyaltyError.refused(
                        "card_taken", "card \(new.masked) already belongs to a member here; hand out an unused card")
                }
                // Its snapshot stays: until head office has joined the two, its points from other stores count
                // with the member through it (``MergedMembers``).
                try db.execute(sql: "UPDATE cards SET member_id = ? WHERE number = ?", arguments: [holder.memberId, new.value])
                try db.execute(sql: "UPDATE members SET merged_into = ? WHERE id = ?", arguments: [holder.memberId, takenBy])
                mergedMember = takenBy
            } else {
                try db.execute(
                    sql: "INSERT INTO cards (number, member_id, added_at) VALUES (?, ?, ?)",
                    arguments: [new.value, holder.memberId, millis])
            }
            let written = try append(
                NewEntry(
                    memberId: holder.memberId, card: new.value, kind: .enroll, points: 0, amountMinorUnits: 0,
                    receipt: "card-\(new.value)", idempotencyKey: "enroll:\(new.value)", refersToSeq: nil,
                    ruleVersion: program.version, reason: nil,
                    joinsCard: try identityCard(ofMember: holder.memberId, db) ?? existing.value),
                at: millis, db)
            if let mergedMember {
                try db.execute(sql: "UPDATE members SET merged_at_seq = ? WHERE id = ?", arguments: [written.seq, mergedMember])
                // The day's points are recounted at the next sale, the added card's with them.
                try db.execute(sql: "UPDATE members SET earned_day = NULL WHERE id = ?", arguments: [holder.memberId])
                // The card's spend counts for the member at once: a tier it reaches is theirs now, as after a sale.
                let merged = try cardHolder(existing, program: program, db, allowBlocked: true)
                let progress = try rollingProgress(holder: merged, at: millis, pointsToo: program.tiersCountPoints, db)
                let raised = program.tierAfterPurchase(current: program.tier(named: merged.tier), progress: progress)
                if raised.name != merged.tier {
                    try db.execute(sql: "UPDATE members SET tier = ? WHERE id = ?", arguments: [raised.name, holder.memberId])
                }
            }
            let cards = try String.fetchAll(
                db, sql: "SELECT number FROM cards WHERE member_id = ? ORDER BY added_at, number", arguments: [holder.memberId])
            return AddedCard(card: new.value, cards: cards, replayed: false)
        }
    }

    /// The card head office knows this till's member by: the first card of head office's snapshot, else the
    /// card enrolled here. An added card names its member by it, not by the card scanned: a card this till
    /// added to the member may be held by another member at head office (found by attack: a card added
    /// through such a card went, with its points, to that other member).
    func identityCard(ofMember memberId: Int64, _ db: Database) throws -> String? {
        try String.fetchOne(
            db,
            sql: """
                SELECT s.first_card FROM member_snapshots s JOIN cards c ON c.number = s.first_card AND c.member_id = s.member_id
                WHERE s.member_id = ?
                UNION ALL
                SELECT * FROM (SELECT e.card FROM entries e JOIN cards c ON c.number = e.card AND c.member_id = e.member_id
                               WHERE e.member_id = ? AND e.kind = 'enroll' AND e.joins_card IS NULL ORDER BY e.seq LIMIT 1)
                LIMIT 1
                """,
            arguments: [memberId, memberId])
    }

    /// Changes the member's name and/or birthday; the change reaches head office in the ledger stream
    /// (the newest change wins there).
    public func updateProfile(card: CardNumber, name: String?, birthday: CalendarDate?, at now: Date? = nil) throws -> MemberView {
        let now = now ?? headOfficeNow()
        guard name != nil || birthday != nil else {
            throw LoyaltyError.badInput("nothing_to_change", "give --name and/or --birthday")
        }
        try birthday?.requireBirthday(atMilliseconds: now.millisecondsSince1970)
        try write { db in
            let program = try currentProgram(db)
            // A blocked card (lost, stolen) changes nothing of its member: the member's other cards can.
            let holder = try cardHolder(card, program: program, db)
            try db.execute(
                sql: "UPDATE members SET name = COALESCE(?, name), birthday = COALESCE(?, birthday) WHERE id = ?",
                arguments: [name, birthday?.description, holder.memberId])
            _ = try append(
                NewEntry(
                    memberId: holder.memberId, card: card.value, kind: .profile, points: 0, amountMinorUnits: 0,
                    receipt: "profile-\(card.value)", idempotencyKey: "profile:\(card.value):\(UUID().uuidString.lowercased())",
                    refersToSeq: nil, ruleVersion: program.version, reason: nil, memberName: name,
                    memberBirthday: birthday?.description),
                at: now.millisecondsSince1970, db)
        }
        return try member(card: card, at: now)
    }
}
