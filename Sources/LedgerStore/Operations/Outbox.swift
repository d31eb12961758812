public import Foundation
import GRDB
public import LoyaltyCore

/// One ledger entry as it leaves the store for head office.
public struct OutboxEntry: Hashable, Sendable {
    public var seq: Int64
    public var id: String
    public var card: String
    public var kind: String
    public var points: Int64
    public var amountMinor: Int64
    public var currency: String
    public var receipt: String
    public var refersToSeq: Int64?
    public var ruleVersion: Int
    public var reason: String?
    public var createdAtMilliseconds: Int64
    /// The profile of an enrol entry.
    public var memberName: String?
    public var memberBirthday: String?
    /// For a card added to an existing member: a card that member already holds.
    public var joinsCard: String?
    /// For a referred new member's enrolment: the referring member's card.
    public var referredBy: String?
    /// A satisfaction answer (1–5) on a profile entry.
    public var feedbackScore: Int?
    /// A coupon entry's coupon.
    public var couponCode: String?
    /// A return of a sale another store made: that store (``refersToSeq`` is then its sequence).
    public var refersToStore: String? = nil
    /// An earn entry's lines (a sale recorded with lines).
    public var lines: [Line]? = nil
    /// A reverse entry's returned lines (a return by line).
    public var returnedLines: [ReturnedLine]? = nil
    /// An earn entry's base points and the tier it was priced at (a sale priced by the program's rules).
    public var earningBase: Int64? = nil
    public var pricedTier: String? = nil
    /// Whether the sale was priced with the birthday month (known for sales priced by the program's rules).
    public var pricedBirthday: Bool? = nil
    /// What the sale earned before the per-sale and per-day caps (a sale priced by the program's rules).
    public var pointsBeforeCaps: Int64? = nil
    /// How far head office's clock, learnt after this entry was dated by the till's own, puts it from its time.
    public var clockCorrectionMilliseconds: Int64? = nil

    /// A sale's line: what it cost and what it earned.
    public struct Line: Hashable, Sendable {
        public var sku: String
        public var amountMinor: Int64
        public var points: Int64
    }

    /// What a return took of one line (`line`: its place in the sale, from 0).
    public struct ReturnedLine: Hashable, Sendable, Codable {
        public var line: Int
        public var amountMinor: Int64
        public var points: Int64

        enum CodingKeys: String, CodingKey {
            case line, points
            case amountMinor = "amount_minor"
        }
    }
}

/// A member as head office described them in a pull.
public struct HeadOfficeSnapshot: Hashable, Sendable {
    public var cards: [String]
    public var balance: Int64
    public var tier: String
    public var rollingSpendMinor: Int64
    public var includesStoreSeq: Int64
    /// Head office's segment flags for the cashier; unknown-looking names are dropped.
    public var flags: [String]
    /// Sales across every store, if head office said (nil: unknown).
    public var purchases: Int64?
    /// Entries head office wrote for the member (expiry, referral bonuses), already in ``balance``.
    public var headOfficeEntries: [HeadOfficeIssuedEntry]
    /// The member's coupons as head office knows them (issued anywhere; used or voided anywhere).
    public var coupons: [HeadOfficeCoupon]
    /// The chain's 12-month points earned (nil: head office did not say).
    public var rollingPointsEarned: Int64?
    /// The member's birthday at head office (the newest profile change anywhere).
    public var birthday: String?
    /// The member's first enrolment anywhere.
    public var enrolledAtMilliseconds: Int64?
    /// Head office's points of the member's sales on `dayPointsDay` (the per-day cap), at every store.
    public var dayPointsDay: String?
    public var dayPoints: Int64?
    /// Head office's first card of the member (the one it was first seen with).
    public var firstCard: String?
    /// Sales at every store since the member first enrolled (nil: head office did not say).
    public var salesSinceEnrolment: Int64?
    /// The member's name at head office (the newest profile change anywhere).
    public var name: String?
    /// The most sales since enrolment a snapshot may claim (a bound against a bad page).
    static let maximumSalesSinceEnrolment: Int64 = 1_000_000_000

    public init(
        cards: [String], balance: Int64, tier: String, rollingSpendMinor: Int64, includesStoreSeq: Int64,
        flags: [String] = [],
        purchases: Int64? = nil, headOfficeEntries: [HeadOfficeIssuedEntry] = [], coupons: [HeadOfficeCoupon] = [],
        rollingPointsEarned: Int64? = nil, birthday: String? = nil, enrolledAtMilliseconds: Int64? = nil,
        dayPointsDay: String? = nil, dayPoints: Int64? = nil, firstCard: String? = nil,
        salesSinceEnrolment: Int64? = nil,
        name: String? = nil
    ) {
        self.name = name.flatMap { try? MemberName.validated($0) }
        // Bounded like every figure from the wire: the till adds its own count to it.
        self.salesSinceEnrolment = salesSinceEnrolment.map { min(max(0, $0), Self.maximumSalesSinceEnrolment) }
        self.firstCard = firstCard.flatMap { try? CardNumber($0).value }
        self.dayPointsDay = dayPointsDay.flatMap { CivilDay.isDay($0) ? $0 : nil }
        self.dayPoints = dayPoints
        self.rollingPointsEarned = rollingPointsEarned
        self.birthday = birthday.flatMap { try? CalendarDate(parsing: $0).description }
        self.enrolledAtMilliseconds = enrolledAtMilliseconds
        self.coupons = coupons
        self.purchases = purchases
        self.headOfficeEntries = headOfficeEntries
        self.cards = cards
        self.balance = balance
        self.tier = tier
        self.rollingSpendMinor = rollingSpendMinor
        self.includesStoreSeq = includesStoreSeq
        self.flags = flags.filter {
            (1...32).contains($0.count) && $0.allSatisfy { $0.isASCII && ($0.isLowercase || $0 == "_") }
        }
    }
}

/// An entry head office wrote for a member (expiry, a referral bonus), as the store records it.
public struct HeadOfficeIssuedEntry: Hashable, Sendable, Codable {
    public var id: String
    public var kind: EntryKind
    public var points: Int64
    public var reason: String
    public var atMilliseconds: Int64
    /// The same instant as people read it (the chain's zone, to the second), when shown with a member.
    public var at: String? = nil

    public init(id: String, kind: EntryKind, points: Int64, reason: String, atMilliseconds: Int64) {
        self.id = id
        self.kind = kind
        self.points = points
        self.reason = reason
        self.atMilliseconds = atMilliseconds
    }
}

/// Where the store stands with head office.
public struct SyncPosition: Hashable, Sendable {
    public var acknowledgedSeq: Int64
    public var lastSeq: Int64
    public var cursor: Int64
    public var backlog: Int64 { lastSeq - acknowledgedSeq }
}

extension LedgerDatabase {
    /// The outbox: entries after head office's acknowledged sequence, oldest first, at most `limit`.
    /// An index range on the sequence, however long the history.
    public func outbox(limit: Int) throws -> [OutboxEntry] {
        try outbox(after: nil, limit: limit)
    }

    /// Entries after `seq` (nil: after head office's acknowledged sequence), oldest first, at most `limit`.
    /// A batch does not end inside one operation (a sale's earn and the bonus it brought, same receipt
    /// and time) unless the operation alone fills it: head office decides a once-per-member grant from
    /// the entries that earn it, and must see the till's grant with them.
    public func outbox(after seq: Int64?, limit: Int) throws -> [OutboxEntry] {
        precondition(limit > 0)
        var entries = try outboxRows(after: seq, limit: limit + 1)
        guard entries.count > limit, let next = entries.popLast() else { return entries }
        let cut = entries.lastIndex {
            $0.receipt != next.receipt || $0.createdAtMilliseconds != next.createdAtMilliseconds
        }
        if let cut { entries.removeSubrange((cut + 1)...) }
        return entries
    }

    private func outboxRows(after seq: Int64?, limit: Int) throws -> [OutboxEntry] {
        try read { db in
            let acknowledged = try seq ?? acknowledgedSeq(db)
            let currency = try currentProgram(db).currency.code
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT seq, id, card, kind, points, amount_minor, receipt, refers_to_seq, rule_version, reason, created_at,
                           member_name, member_birthday, joins_card, referred_by, feedback_score, coupon_code,
                           elsewhere_store, elsewhere_seq, returned_lines, CASE WHEN kind = 'earn' THEN sale_answer END
                    FROM entries WHERE seq > ? ORDER BY seq LIMIT ?
                    """,
                arguments: [acknowledged, limit])
            var entries = rows.map {
                OutboxEntry(
                    seq: $0[0], id: $0[1], card: $0[2], kind: $0[3], points: $0[4], amountMinor: $0[5],
                    currency: currency, receipt: $0[6],
                    refersToSeq: $0[18] ?? $0[7], ruleVersion: $0[8], reason: $0[9], createdAtMilliseconds: $0[10],
                    memberName: $0[11], memberBirthday: $0[12], joinsCard: $0[13], referredBy: $0[14],
                    feedbackScore: $0[15],
                    couponCode: $0[16], refersToStore: $0[17],
                    returnedLines: ($0[19] as String?).flatMap {
                        try? JSONDecoder().decode([OutboxEntry.ReturnedLine].self, from: Data($0.utf8))
                    })
            }
            // What a sale was priced from travels with it (head office prices it again at the chain's tier).
            for (index, row) in rows.enumerated() {
                guard let text: String = row[20],
                    let answer = try? JSONDecoder().decode(SaleAnswer.self, from: Data(text.utf8)),
                    let base = answer.breakdown?.base ?? answer.base, let tier = answer.pricedTier
                else { continue }
                entries[index].earningBase = base
                entries[index].pricedTier = tier
                entries[index].pricedBirthday = answer.breakdown.map { $0.birthday > 0 }
                entries[index].pointsBeforeCaps = answer.breakdown.map { $0.points + $0.capped }
            }
            guard let first = entries.first?.seq, let last = entries.last?.seq else { return entries }
            // The lines of the batch's sales and returns travel with them: a return at any store takes back
            // exactly what the returned lines earned.
            var lines: [Int64: [OutboxEntry.Line]] = [:]
            for row in try Row.fetchAll(
                db,
                sql:
                    "SELECT earn_seq, sku, amount_minor, points FROM sale_lines WHERE earn_seq BETWEEN ? AND ? ORDER BY earn_seq, line",
                arguments: [first, last])
            {
                lines[row[0], default: []].append(OutboxEntry.Line(sku: row[1], amountMinor: row[2], points: row[3]))
            }
            var returned: [Int64: [OutboxEntry.ReturnedLine]] = [:]
            for row in try Row.fetchAll(
                db,
                sql:
                    "SELECT reverse_seq, line, amount_minor, points FROM line_returns WHERE reverse_seq BETWEEN ? AND ? ORDER BY reverse_seq, line",
                arguments: [first, last])
            {
                returned[row[0], default: []].append(
                    OutboxEntry.ReturnedLine(line: row[1], amountMinor: row[2], points: row[3]))
            }
            let corrections = try clockCorrections(seqs: first...last, db)
            for index in entries.indices {
                if let saleLines = lines[entries[index].seq] { entries[index].lines = saleLines }
                if let returnedLines = returned[entries[index].seq] { entries[index].returnedLines = returnedLines }
                entries[index].clockCorrectionMilliseconds = corrections[entries[index].seq]
            }
            return entries
        }
    }

    public func syncPosition() throws -> SyncPosition {
        try read { db in
            SyncPosition(
                acknowledgedSeq: try acknowledgedSeq(db),
                lastSeq: try Int64.fetchOne(db, sql: "SELECT IFNULL(MAX(seq), 0) FROM entries") ?? 0,
                cursor: Int64(try syncMeta(db)["hq_cursor"] ?? "0") ?? 0)
        }
    }

    /// Moves head office's acknowledged mark to what head office answered — forward after a push,
    /// or back when head office asks to resend (its database was restored). Never beyond the ledger.
    /// - Returns: the mark now stored.
    @discardableResult
    public func acknowledge(upTo seq: Int64) throws -> Int64 {
        try write { db in
            let last = try Int64.fetchOne(db, sql: "SELECT IFNULL(MAX(seq), 0) FROM entries") ?? 0
            guard seq <= last else {
                throw StorageError(
                    code: "hq_ahead",
                    message:
                        "head office says it has entries up to \(seq) but this ledger ends at \(last); this box's ledger may have been replaced — call support"
                )
            }
            let mark = max(0, seq)
            // Head office holds these entries with their times: only the way of dating of the entries after them stays.
            try db.execute(
                sql: """
                    DELETE FROM entry_clock_epochs
                    WHERE from_seq < (SELECT MAX(from_seq) FROM entry_clock_epochs WHERE from_seq <= ?)
                    """,
                arguments: [mark])
            if mark < (try acknowledgedSeq(db)) {
                // Head office lost entries it had acknowledged (restored from a backup): the pull cursor
                // is from that lost history too. Pull everything again.
                try setMeta("hq_cursor", "0", db)
            }
            try db.execute(
                sql: "UPDATE store_meta SET value = ? WHERE key = 'hq_acknowledged_seq'", arguments: [String(mark)])
            return mark
        }
    }

    /// Stores what a pull brought: member snapshots (members enrolled at other stores become known
    /// here), blocked cards, and the cursor for the next pull — all in one transaction.
    public func applyHeadOfficeUpdates(
        members: [HeadOfficeSnapshot], blockedCards: [String], unblockedCards: [String] = [], cursor: Int64,
        programs: [(version: Int, document: String)] = [], storeTillMarks: [String: Int64]? = nil,
        at now: Date = Date()
    ) throws {
        try write { db in
            let millis = now.millisecondsSince1970
            // Program versions are installed once and never changed; a document this agent cannot
            // read (or whose number disagrees) is skipped, and the till keeps the version it has.
            for release in programs where release.version > 1 {
                guard let program = try? JSONDecoder().decode(LoyaltyProgram.self, from: Data(release.document.utf8)),
                    program.version == release.version
                else { continue }
                try db.execute(
                    sql:
                        "INSERT INTO program_versions (version, document, installed_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    arguments: [release.version, release.document, millis])
            }
            for snapshot in members {
                let cards = snapshot.cards.compactMap { try? CardNumber($0).value }
                guard !cards.isEmpty else { continue }
                let memberId = try memberId(forAnyOf: cards, headOfficeFirstCard: snapshot.firstCard, at: millis, db)
                // The store's other tills' entries up to the pull's marks are in this snapshot, even if the pull is cut
                // short before its end (found by attack: a till of a store with a hub counted another till's sale
                // twice, in the snapshot and from the hub, and spent it with the hub out of reach).
                for (ledger, seq) in storeTillMarks ?? [:] where ledger != storeId {
                    try db.execute(
                        sql: """
                            INSERT INTO member_peer_marks (member_id, ledger, head_office_seq) VALUES (?, ?, ?)
                            ON CONFLICT (member_id, ledger) DO UPDATE
                            SET head_office_seq = MAX(head_office_seq, excluded.head_office_seq)
                            """,
                        arguments: [memberId, ledger, max(0, seq)])
                }
                // Head office knows the member: its balance is vouched for from now on.
                try db.execute(
                    sql: "UPDATE members SET provisional = 0 WHERE id = ? AND provisional = 1", arguments: [memberId])
                try db.execute(
                    sql: """
                        INSERT INTO member_snapshots (member_id, balance, tier, rolling_spend_minor, includes_store_seq, received_at, flags,
                                                      purchases, rolling_points_earned, day_points_day, day_points, first_card, enrolled_at,
                                                      sales_since_enrolment)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (member_id) DO UPDATE SET balance = excluded.balance, tier = excluded.tier,
                            rolling_spend_minor = excluded.rolling_spend_minor, includes_store_seq = excluded.includes_store_seq,
                            received_at = excluded.received_at, flags = excluded.flags, purchases = excluded.purchases,
                            rolling_points_earned = excluded.rolling_points_earned, day_points_day = excluded.day_points_day,
                            day_points = excluded.day_points, first_card = excluded.first_card, enrolled_at = excluded.enrolled_at,
                            sales_since_enrolment = excluded.sales_since_enrolment
                        """,
                    arguments: [
                        memberId, snapshot.balance, snapshot.tier, snapshot.rollingSpendMinor,
                        snapshot.includesStoreSeq, millis,
                        snapshot.flags.isEmpty ? nil : snapshot.flags.joined(separator: ","), snapshot.purchases,
                        snapshot.rollingPointsEarned, snapshot.dayPointsDay, snapshot.dayPoints, snapshot.firstCard,
                        snapshot.enrolledAtMilliseconds, snapshot.salesSinceEnrolment,
                    ])
                // The day's count is recounted at the next award, with head office's figure.
                try db.execute(sql: "UPDATE members SET earned_day = NULL WHERE id = ?", arguments: [memberId])
                // Facts that travel with the member: the first enrolment anywhere, and head office's name and birthday
                // unless this till holds a newer profile change it has not synced yet.
                if let enrolledAt = snapshot.enrolledAtMilliseconds {
                    try db.execute(
                        sql: "UPDATE members SET enrolled_at = MIN(enrolled_at, ?) WHERE id = ?",
                        arguments: [enrolledAt, memberId])
                }
                for (column, value) in [("name", snapshot.name), ("birthday", snapshot.birthday)] {
                    guard let value else { continue }
                    try db.execute(
                        sql: """
                            UPDATE members SET \(column) = ? WHERE id = ? AND NOT EXISTS (
                                SELECT 1 FROM entries WHERE member_id = ? AND seq > ? AND kind IN ('enroll', 'profile')
                                  AND member_\(column) IS NOT NULL)
                            """,
                        arguments: [value, memberId, memberId, snapshot.includesStoreSeq])
                }
                try applyHeadOfficeCoupons(snapshot.coupons, memberId: memberId, db)
                // Head office's own entries are recorded once each (their id), whatever the pull repeats, with the
                // member head office lists them on (a merged record's go with the member: found by attack);
                // their points are already in the snapshot's balance.
                for entry in snapshot.headOfficeEntries.prefix(Self.maximumHeadOfficeEntriesPerMember)
                where entry.kind == .expire || entry.kind == .bonus || entry.kind == .adjust {
                    try db.execute(
                        sql: """
                            INSERT INTO head_office_entries (id, member_id, kind, points, reason, created_at, received_at)
                            VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET member_id = excluded.member_id
                            """,
                        arguments: [
                            String(entry.id.prefix(64)), memberId, entry.kind.rawValue, entry.points,
                            String(entry.reason.prefix(200)),
                            entry.atMilliseconds, millis,
                        ])
                }
                // Head office's tier wins, a review's downgrade included, once it has seen every entry
                // this till wrote for the member (a newer local upgrade stays until it has).
                try db.execute(
                    sql: """
                        UPDATE members SET tier = ? WHERE id = ?
                        AND NOT EXISTS (SELECT 1 FROM entries WHERE member_id = ? AND seq > ?)
                        """,
                    arguments: [snapshot.tier, memberId, memberId, snapshot.includesStoreSeq])
            }
            for text in blockedCards {
                guard let card = try? CardNumber(text).value else { continue }
                _ = try memberId(forAnyOf: [card], at: millis, db)
                try db.execute(sql: "UPDATE cards SET status = 'blocked' WHERE number = ?", arguments: [card])
            }
            // A block head office lifted: the card is accepted again.
            for text in unblockedCards {
                guard let card = try? CardNumber(text).value else { continue }
                try db.execute(sql: "UPDATE cards SET status = 'active' WHERE number = ?", arguments: [card])
            }
            try db.execute(sql: "UPDATE store_meta SET value = ? WHERE key = 'hq_cursor'", arguments: [String(cursor)])
        }
    }

    /// The most head-office entries one snapshot may carry into the ledger (a bound against a bad page).
    static let maximumHeadOfficeEntriesPerMember = 1_000

    /// Compares head office's epoch with the one this store last pulled under. A different epoch
    /// (head office was restored from a backup) resets the pull cursor to 0, and what this till holds of
    /// head office's own entries (shown with the member; their points are in the snapshots) is replaced by
    /// what the full pull brings: a restored head office writes its corrections again under new ids.
    /// - Returns: the cursor to pull from.
    public func adoptHeadOfficeEpoch(_ epoch: String) throws -> Int64 {
        try write { db in
            let meta = try syncMeta(db)
            let cursor = Int64(meta["hq_cursor"] ?? "0") ?? 0
            guard meta["hq_epoch"] != epoch else { return cursor }
            // (The members' peer marks stay: until head office has the other tills' entries back, a view errs low.)
            if meta["hq_epoch"] != nil { try db.execute(sql: "DELETE FROM head_office_entries") }
            try setMeta("hq_epoch", epoch, db)
            try setMeta("hq_cursor", "0", db)
            return 0
        }
    }

    /// The chain's member-card ranges as head office last pushed them (nil: none).
    public func headOfficeMemberRanges() throws -> [String]? {
        try read { db in try syncMeta(db)["hq_member_ranges"].map { $0.split(separator: ",").map(String.init) } }
    }

    /// Stores the member-card ranges head office pushed with a pull (nil clears them).
    public func setHeadOfficeMemberRanges(_ ranges: [String]?) throws {
        try write { db in
            if let ranges, !ranges.isEmpty {
                try setMeta("hq_member_ranges", ranges.joined(separator: ","), db)
            } else {
                try db.execute(sql: "DELETE FROM store_meta WHERE key = 'hq_member_ranges'")
            }
        }
    }

    /// Records the outcome of a sync attempt for `status`.
    /// - Parameter unreachable: the failure was head office not answering (not a refusal it answered):
    ///   the first such failure since the last success is when the store went offline.
    public func recordSync(error message: String?, unreachable: Bool = true, at now: Date = Date()) throws {
        try write { db in
            let millis = String(now.millisecondsSince1970)
            if let message {
                try setMeta("last_sync_error", PaymentCardDetector.redacted(String(message.prefix(300))), db)
                try setMeta("last_sync_error_ms", millis, db)
                // The first failure since the last success: how long the store has been cut off.
                if unreachable {
                    try db.execute(
                        sql: "INSERT OR IGNORE INTO store_meta (key, value) VALUES ('offline_since_ms', ?)",
                        arguments: [millis])
                }
            } else {
                try setMeta("last_sync_ok_ms", millis, db)
                // The time since boot too: how long ago holds whatever the wall clock does after (offline cap).
                if let bootId = HeadOfficeClock.bootId {
                    let ago = Date().millisecondsSince1970 - now.millisecondsSince1970
                    try setMeta("last_sync_ok_boot", "\(bootId) \(HeadOfficeClock.sinceBootMilliseconds() - ago)", db)
                }
                try db.execute(
                    sql: """
                        DELETE FROM store_meta WHERE key IN ('last_sync_error', 'last_sync_error_ms', 'offline_since_ms')
                        """)
            }
        }
    }

    /// Whether head office has not confirmed a sync within ``offlineAfterSeconds``.
    /// Measured by the time since boot when the last sync was in this boot; else by the clock, and a last sync that
    /// seems to come after now (a clock set back, a box restarted with a slow clock) counts as long ago (found by
    /// attack: a till restarted 40 minutes slow redeemed 500 points past its 100-point offline cap).
    func isOffline(at now: Date, _ db: Database) throws -> Bool {
        let meta = try syncMeta(db)
        guard let last = meta["last_sync_ok_ms"].flatMap(Int64.init) else { return true }
        let limit = LedgerDatabase.offlineAfterSeconds * 1000
        if let boot = meta["last_sync_ok_boot"]?.split(separator: " "), boot.count == 2,
            String(boot[0]) == HeadOfficeClock.bootId, let then = Int64(boot[1])
        {
            let (elapsed, overflow) = HeadOfficeClock.sinceBootMilliseconds().subtractingReportingOverflow(then)
            return overflow || elapsed < 0 || elapsed > limit
        }
        // Overflow-safe: the ledger file's meta is read as written, whatever wrote it.
        let (elapsed, overflow) = now.millisecondsSince1970.subtractingReportingOverflow(last)
        return overflow || elapsed < 0 || elapsed > limit
    }

    /// A till that has not reached head office for this long counts as offline.
    public static let offlineAfterSeconds: Int64 = 15 * 60

    private func memberId(
        forAnyOf cards: [String], headOfficeFirstCard: String? = nil, at millis: Int64, _ db: Database
    ) throws -> Int64 {
        // Head office decides which member a card belongs to. A card this till added to another member
        // (`cards add`) while head office holds it on its own member leaves that member here: the till's
        // member is described by a snapshot whose first card is not among these cards.
        if let headOfficeFirstCard {
            let holders = try Row.fetchAll(
                db,
                sql: """
                    SELECT c.number, c.member_id, s.first_card FROM cards c LEFT JOIN member_snapshots s ON s.member_id = c.member_id
                    WHERE c.number IN (\(cards.map { _ in "?" }.joined(separator: ", ")))
                    """,
                arguments: StatementArguments(cards))
            let conflicting = holders.filter { row in
                let described: String? = row[2]
                return described.map { !cards.contains($0) && $0 != headOfficeFirstCard } ?? false
            }
            if !conflicting.isEmpty {
                let own = try Int64.fetchOne(
                    db, sql: "SELECT member_id FROM member_snapshots WHERE first_card = ? LIMIT 1",
                    arguments: [headOfficeFirstCard])
                let target: Int64
                if let own {
                    target = own
                    // Head office holds the card on that member, not on the one this till merged it into.
                    try db.execute(
                        sql: "UPDATE members SET merged_into = NULL, merged_at_seq = NULL WHERE id = ?",
                        arguments: [own])
                } else {
                    let program = try currentProgram(db)
                    try db.execute(
                        sql: "INSERT INTO members (name, birthday, enrolled_at, tier) VALUES (NULL, NULL, ?, ?)",
                        arguments: [millis, program.tiers[0].name])
                    target = db.lastInsertedRowID
                }
                for row in conflicting {
                    try db.execute(
                        sql: "UPDATE cards SET member_id = ? WHERE number = ?", arguments: [target, row[0] as String])
                }
            }
        }
        for card in cards {
            if let id = try Int64.fetchOne(db, sql: "SELECT member_id FROM cards WHERE number = ?", arguments: [card]) {
                for other in cards where other != card {
                    try db.execute(
                        sql: "INSERT INTO cards (number, member_id, added_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                        arguments: [other, id, millis])
                }
                // Head office holds these cards on one member (a merge, a replacement): cards that are
                // another member here move to it. Entries keep their member; balances count by card.
                let absorbed = try Int64.fetchAll(
                    db,
                    sql:
                        "SELECT DISTINCT member_id FROM cards WHERE number IN (\(cards.map { _ in "?" }.joined(separator: ", "))) AND member_id != ?",
                    arguments: StatementArguments(cards) + [id])
                for member in absorbed {
                    try db.execute(sql: "UPDATE cards SET member_id = ? WHERE member_id = ?", arguments: [id, member])
                    try db.execute(sql: "DELETE FROM member_snapshots WHERE member_id = ?", arguments: [member])
                    // Merged by head office: this snapshot covers it (merged_at_seq NULL).
                    try db.execute(
                        sql: "UPDATE members SET merged_into = ?, merged_at_seq = NULL WHERE id = ?",
                        arguments: [id, member])
                }
                return id
            }
        }
        // Enrolled at another store: known here from now on.
        let program = try currentProgram(db)
        try db.execute(
            sql: "INSERT INTO members (name, birthday, enrolled_at, tier) VALUES (NULL, NULL, ?, ?)",
            arguments: [millis, program.tiers[0].name])
        let id = db.lastInsertedRowID
        for card in cards {
            try db.execute(
                sql: "INSERT INTO cards (number, member_id, added_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                arguments: [card, id, millis])
        }
        return id
    }

    func acknowledgedSeq(_ db: Database) throws -> Int64 {
        Int64(try String.fetchOne(db, sql: "SELECT value FROM store_meta WHERE key = 'hq_acknowledged_seq'") ?? "0")
            ?? 0
    }

    func syncMeta(_ db: Database) throws -> [String: String] {
        var meta: [String: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT key, value FROM store_meta") { meta[row[0]] = row[1] }
        return meta
    }

    func setMeta(_ key: String, _ value: String, _ db: Database) throws {
        try db.execute(
            sql:
                "INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            arguments: [key, value])
    }
}
