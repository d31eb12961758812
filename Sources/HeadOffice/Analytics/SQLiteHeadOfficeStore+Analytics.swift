public import Foundation
import GRDB
public import LoyaltyCore

extension SQLiteHeadOfficeStore {
    public func analyticsSettings() async throws -> AnalyticsSettings {
        try await pool.read { db in try Self.analyticsSettings(db) }
    }

    static func analyticsSettings(_ db: Database) throws -> AnalyticsSettings {
        AnalyticsSettings(storedRows: try Row.fetchAll(db, sql: "SELECT key, value FROM hq_settings").map { ($0[0], $0[1]) })
    }

    public func setAnalyticsSetting(_ key: String, to value: String, actor: String, now: Date) async throws -> AnalyticsSettings {
        try await pool.write { db in
            var settings = try Self.analyticsSettings(db)
            try settings.set(key, to: value, isKnownTimeZone: ChainCalendar.isKnown)
            try db.execute(
                sql: "INSERT INTO hq_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                arguments: [AnalyticsQueries.settingPrefix + key, value])
            try db.execute(
                sql: "INSERT INTO hq_audit (at_ms, actor, action, detail, reason) VALUES (?, ?, 'settings set', ?, NULL)",
                arguments: [now.milliseconds, actor, "\(key) = \(value)"])
            return settings
        }
    }

    public func memberFacts(asOfDay: Int, calendar: ChainCalendar) async throws -> [MemberFacts] {
        let end = calendar.startMilliseconds(ofDay: asOfDay + 1)
        return try await pool.read { db in
            var days = DayConverter(calendar)
            var referrals: [Int64: Int] = [:]
            for row in try Row.fetchAll(db, sql: AnalyticsQueries.referrals) { referrals[row[0]] = row[1] }
            var feedback: [Int64: Double] = [:]
            for row in try Row.fetchAll(db, sql: AnalyticsQueries.sqliteFeedback, arguments: [end]) { feedback[row[0]] = row[1] }
            var members: [MemberFacts] = []
            let memberRows = try Row.fetchCursor(db, sql: AnalyticsQueries.members)
            while let row = try memberRows.next() {
                var member = MemberFacts(
                    memberId: row[0], card: row[1], firstSeenDay: days.day(milliseconds: row[4]), name: row[2], birthday: row[3])
                member.referrals = referrals[member.memberId] ?? 0
                member.averageFeedback = feedback[member.memberId]
                members.append(member)
            }
            var builder = MemberFactsBuilder(asOfDay: asOfDay, members: members)
            let sales = try Row.fetchCursor(db, sql: AnalyticsQueries.sqliteSales, arguments: [end])
            while let row = try sales.next() {
                builder.add(SaleFact(
                    memberId: row[0], storeId: row[1], day: days.day(milliseconds: row[2]), netMinorUnits: row[3],
                    incentive: row[4]))
            }
            return builder.facts()
        }
    }

    public func pointsEarned(fromMilliseconds: Int64, untilMilliseconds: Int64) async throws -> [Int64: Int64] {
        try await pool.read { db in
            var earned: [Int64: Int64] = [:]
            let rows = try Row.fetchCursor(
                db, sql: AnalyticsQueries.pointsEarned(placeholders: ("?", "?")),
                arguments: [fromMilliseconds, untilMilliseconds])
            while let row = try rows.next() { earned[row[0]] = row[1] }
            return earned
        }
    }

    public func importHistory(_ rows: [HistoryRow], actor: String, now: Date) async throws -> HistoryImportSummary {
        try await pool.write { db in
            typealias Key = HistoryImportPlan.ReceiptKey
            var storedSales: [Key: HistoryImportPlan.Stored] = [:]
            var storedRefunds: [Key: [HistoryImportPlan.Stored]] = [:]
            var ledgerCards: [Key: Set<String>] = [:]
            let imported = try db.cachedStatement(
                sql: "SELECT kind, card, at_ms, amount_minor FROM hq_imported_sales WHERE store_id = ? AND receipt = ?")
            let ledger = try db.cachedStatement(
                sql: """
                    SELECT DISTINCT c.card FROM hq_entries e JOIN hq_cards c ON c.member_id = e.member_id
                    WHERE e.receipt = ?1 AND e.kind = 'earn' AND \(StoreLedgers.ledger("e.store_id", isOfStore: "?2"))
                    """)
            for key in Set(rows.map { Key(storeId: $0.storeId, receipt: $0.receipt) }) {
                for row in try Row.fetchAll(imported, arguments: [key.storeId, key.receipt]) {
                    let stored = HistoryImportPlan.Stored(card: row[1], atMilliseconds: row[2], amountMinor: row[3])
                    if row[0] == "sale" { storedSales[key] = stored } else { storedRefunds[key, default: []].append(stored) }
                }
                let cards = try String.fetchAll(ledger, arguments: [key.receipt, key.storeId])
                if !cards.isEmpty { ledgerCards[key] = Set(cards) }
            }
            let plan = try HistoryImportPlan.make(
                rows, storedSales: storedSales, storedRefunds: storedRefunds, ledgerCards: ledgerCards)
            var summary = plan.summary
            let newRows = plan.sales + plan.refunds
            guard !newRows.isEmpty else { return summary }
            try db.execute(sql: "UPDATE hq_counter SET change_seq = change_seq + 1 WHERE id = 1")
            let version = try Int64.fetchOne(db, sql: "SELECT change_seq FROM hq_counter WHERE id = 1")!
            var memberIds: [String: Int64] = [:]
            for card in Set(newRows.map(\.card)).sorted() {
                if let known = try Int64.fetchOne(db, sql: "SELECT member_id FROM hq_cards WHERE card = ?", arguments: [card]) {
                    memberIds[card] = known
                    continue
                }
                try db.execute(
                    sql: "INSERT INTO hq_members (first_card, balance, lifetime_spend_minor, version, created_at_ms) VALUES (?, 0, 0, ?, ?)",
                    arguments: [card, version, now.milliseconds])
                memberIds[card] = db.lastInsertedRowID
                try db.execute(
                    sql: "INSERT INTO hq_cards (card, member_id, blocked, version) VALUES (?, ?, 0, ?)",
                    arguments: [card, db.lastInsertedRowID, version])
                summary.membersCreated += 1
            }
            // Every member the import touches reaches the stores' pulls (found by attack: an imported sale made a
            // member silver at head office, and no till heard of it).
            for memberId in Set(memberIds.values) {
                try db.execute(sql: "UPDATE hq_members SET version = ? WHERE id = ?", arguments: [version, memberId])
            }
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO hq_imported_sales (store_id, receipt, kind, member_id, card, at_ms, amount_minor, imported_at_ms)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            for row in newRows {
                try insert.execute(arguments: [
                    row.storeId, row.receipt, row.isRefund ? "refund" : "sale", memberIds[row.card], row.card,
                    row.atMilliseconds, row.amountMinor, now.milliseconds,
                ])
            }
            // The stores that sold them serve them (``PullScope``).
            let known = try db.cachedStatement(sql: MemberStores.know(store: "?1", member: "?2", version: "?3"))
            let served = Set(
                newRows.compactMap { row in
                    memberIds[row.card].map { MemberStores.Served(store: MemberStores.store(ofLedger: row.storeId), member: $0) }
                })
            for pair in served { try known.execute(arguments: [pair.store, pair.member, version]) }
            try db.execute(
                sql: "INSERT INTO hq_audit (at_ms, actor, action, detail, reason) VALUES (?, ?, 'history import', ?, NULL)",
                arguments: [
                    now.milliseconds, actor,
                    "\(summary.sales) sales, \(summary.refunds) refunds, \(summary.membersCreated) new members",
                ])
            return summary
        }
    }
}

extension SQLiteHeadOfficeStore {
    public func publishFlags(_ flags: [Int64: [String]], actor: String, now: Date) async throws -> Int {
        try await pool.write { db in
            try Self.publishMemberColumn(
                .flags, desired: { .some(MemberFlags.encode(flags[$0] ?? [])) }, action: "segments publish", actor: actor, now: now, db)
        }
    }

    /// A member column head office publishes to the stores (flags, reviewed tier).
    enum PublishedColumn: String {
        case flags
        case reviewedTier = "reviewed_tier"
    }

    /// Sets `column` to `desired(id)` for every member it gives a value for (`.some(nil)` clears it,
    /// `nil` leaves the member alone); the members that change get one new version, so they travel
    /// with the next pull, and the audit trail records how many.
    static func publishMemberColumn(
        _ column: PublishedColumn, desired: (Int64) -> String??, action: String, actor: String, now: Date, _ db: Database
    ) throws -> Int {
        var changed: [(Int64, String?)] = []
        let rows = try Row.fetchCursor(db, sql: "SELECT id, \(column.rawValue) FROM hq_members")
        while let row = try rows.next() {
            let id: Int64 = row[0]
            if let value = desired(id), value != row[1] as String? { changed.append((id, value)) }
        }
        guard !changed.isEmpty else { return 0 }
        try db.execute(sql: "UPDATE hq_counter SET change_seq = change_seq + 1 WHERE id = 1")
        let version = try Int64.fetchOne(db, sql: "SELECT change_seq FROM hq_counter WHERE id = 1")!
        let update = try db.cachedStatement(sql: "UPDATE hq_members SET \(column.rawValue) = ?, version = ? WHERE id = ?")
        for (id, value) in changed { try update.execute(arguments: [value, version, id]) }
        try db.execute(
            sql: "INSERT INTO hq_audit (at_ms, actor, action, detail, reason) VALUES (?, ?, ?, ?, NULL)",
            arguments: [now.milliseconds, actor, action, "\(column.rawValue) changed for \(changed.count) members"])
        return changed.count
    }
}
