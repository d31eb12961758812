public import Foundation
public import LoyaltyCore
import PostgresNIO

extension PostgresHeadOfficeStore {
    public func analyticsSettings() async throws -> AnalyticsSettings {
        var rows: [(String, String)] = []
        for try await row in try await client.query("SELECT key, value FROM hq_settings", logger: logger).decode((String, String).self) {
            rows.append(row)
        }
        return AnalyticsSettings(storedRows: rows)
    }

    public func setAnalyticsSetting(_ key: String, to value: String, actor: String, now: Date) async throws -> AnalyticsSettings {
        var settings = try await analyticsSettings()
        try settings.set(key, to: value, isKnownTimeZone: ChainCalendar.isKnown)
        let stored = AnalyticsQueries.settingPrefix + key
        let detail = "\(key) = \(value)"
        let logger = self.logger
        try await transaction { connection in
            try await connection.query(
                "INSERT INTO hq_settings (key, value) VALUES (\(stored), \(value)) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                logger: logger)
            try await connection.query(
                "INSERT INTO hq_audit (at_ms, actor, action, detail, reason) VALUES (\(now.milliseconds), \(actor), 'settings set', \(detail), NULL)",
                logger: logger)
        }
        return settings
    }

    public func memberFacts(asOfDay: Int, calendar: ChainCalendar) async throws -> [MemberFacts] {
        let end = calendar.startMilliseconds(ofDay: asOfDay + 1)
        var days = DayConverter(calendar)
        var referrals: [Int64: Int] = [:]
        for try await (id, count) in try await client.query(
            PostgresQuery(unsafeSQL: AnalyticsQueries.referrals), logger: logger
        ).decode((Int64, Int64).self) { referrals[id] = Int(count) }
        var feedback: [Int64: Double] = [:]
        var feedbackBindings = PostgresBindings()
        feedbackBindings.append(end)
        for try await (id, average) in try await client.query(
            PostgresQuery(unsafeSQL: AnalyticsQueries.postgresFeedback, binds: feedbackBindings), logger: logger
        ).decode((Int64, Double).self) { feedback[id] = average }
        var members: [MemberFacts] = []
        for try await (id, card, name, birthday, firstSeen) in try await client.query(
            PostgresQuery(unsafeSQL: AnalyticsQueries.members), logger: logger
        ).decode((Int64, String, String?, String?, Int64).self) {
            var member = MemberFacts(
                memberId: id, card: card, firstSeenDay: days.day(milliseconds: firstSeen), name: name, birthday: birthday)
            member.referrals = referrals[id] ?? 0
            member.averageFeedback = feedback[id]
            members.append(member)
        }
        var builder = MemberFactsBuilder(asOfDay: asOfDay, members: members)
        var bindings = PostgresBindings()
        bindings.append(end)
        for try await (member, store, first, net, incentive) in try await client.query(
            PostgresQuery(unsafeSQL: AnalyticsQueries.postgresSales, binds: bindings), logger: logger
        ).decode((Int64, String, Int64, Int64, Bool).self) {
            builder.add(SaleFact(
                memberId: member, storeId: store, day: days.day(milliseconds: first), netMinorUnits: net, incentive: incentive))
        }
        return builder.facts()
    }

    public func pointsEarned(fromMilliseconds: Int64, untilMilliseconds: Int64) async throws -> [Int64: Int64] {
        var bindings = PostgresBindings()
        bindings.append(fromMilliseconds)
        bindings.append(untilMilliseconds)
        var earned: [Int64: Int64] = [:]
        for try await (member, points) in try await client.query(
            PostgresQuery(unsafeSQL: AnalyticsQueries.pointsEarned(placeholders: ("$1", "$2")), binds: bindings), logger: logger
        ).decode((Int64, Int64).self) { earned[member] = points }
        return earned
    }

    public func importHistory(_ rows: [HistoryRow], actor: String, now: Date) async throws -> HistoryImportSummary {
        let logger = self.logger
        return try await transaction { connection in
            typealias Key = HistoryImportPlan.ReceiptKey
            // One importer at a time: two imports of the same file must not both add it.
            try await connection.query("SELECT pg_advisory_xact_lock(7318003)", logger: logger)
            var storedSales: [Key: HistoryImportPlan.Stored] = [:]
            var storedRefunds: [Key: [HistoryImportPlan.Stored]] = [:]
            var ledgerCards: [Key: Set<String>] = [:]
            let keys = Array(Set(rows.map { Key(storeId: $0.storeId, receipt: $0.receipt) }))
            for chunkStart in stride(from: 0, to: keys.count, by: Self.importChunk) {
                let chunk = keys[chunkStart..<min(keys.count, chunkStart + Self.importChunk)]
                let stores = chunk.map(\.storeId)
                let receipts = chunk.map(\.receipt)
                for try await (store, receipt, kind, card, at, amount) in try await connection.query(
                    """
                    SELECT i.store_id, i.receipt, i.kind, i.card, i.at_ms, i.amount_minor
                    FROM UNNEST(\(stores)::text[], \(receipts)::text[]) AS k(store_id, receipt)
                    JOIN hq_imported_sales i ON i.store_id = k.store_id AND i.receipt = k.receipt
                    """, logger: logger
                ).decode((String, String, String, String, Int64, Int64).self) {
                    let key = Key(storeId: store, receipt: receipt)
                    let stored = HistoryImportPlan.Stored(card: card, atMilliseconds: at, amountMinor: amount)
                    if kind == "sale" { storedSales[key] = stored } else { storedRefunds[key, default: []].append(stored) }
                }
                for try await (store, receipt, card) in try await connection.query(
                    """
                    SELECT DISTINCT k.store_id, e.receipt, c.card
                    FROM UNNEST(\(stores)::text[], \(receipts)::text[]) AS k(store_id, receipt)
                    JOIN hq_entries e ON e.receipt = k.receipt AND e.kind = 'earn'
                                     AND \(unescaped: StoreLedgers.ledger("e.store_id", isOfStore: "k.store_id"))
                    JOIN hq_cards c ON c.member_id = e.member_id
                    """, logger: logger
                ).decode((String, String, String).self) {
                    ledgerCards[Key(storeId: store, receipt: receipt), default: []].insert(card)
                }
            }
            let plan = try HistoryImportPlan.make(
                rows, storedSales: storedSales, storedRefunds: storedRefunds, ledgerCards: ledgerCards)
            var summary = plan.summary
            let newRows = plan.sales + plan.refunds
            guard !newRows.isEmpty else { return summary }
            let cards = Array(Set(newRows.map(\.card))).sorted()
            try await Self.lockCards(cards, connection, logger)
            var known = 0
            for try await count in try await connection.query(
                "SELECT COUNT(*) FROM hq_cards WHERE card = ANY(\(cards)::text[])", logger: logger
            ).decode(Int64.self) { known = Int(count) }
            try await Self.createMembers(forUnknownCards: cards, now: now, connection, logger)
            summary.membersCreated = cards.count - known
            // Every member the import touches reaches the stores' pulls like any other change (found by attack: an
            // imported sale made a member silver at head office, and no till heard of it): one counter bump, the
            // members locked first, in the one lock order (cards, members, the counter last).
            try await connection.query(
                """
                SELECT id FROM hq_members WHERE id IN (SELECT member_id FROM hq_cards WHERE card = ANY(\(cards)::text[]))
                ORDER BY id FOR UPDATE
                """, logger: logger)
            try await connection.query(
                """
                WITH bumped AS (UPDATE hq_counter SET change_seq = change_seq + 1 WHERE id = 1 RETURNING change_seq)
                UPDATE hq_members SET version = (SELECT change_seq FROM bumped)
                WHERE version = 0 OR id IN (SELECT member_id FROM hq_cards WHERE card = ANY(\(cards)::text[]))
                """, logger: logger)
            for chunkStart in stride(from: 0, to: newRows.count, by: Self.importChunk) {
                let chunk = newRows[chunkStart..<min(newRows.count, chunkStart + Self.importChunk)]
                try await connection.query(
                    """
                    INSERT INTO hq_imported_sales (store_id, receipt, kind, member_id, card, at_ms, amount_minor, imported_at_ms)
                    SELECT r.store_id, r.receipt, r.kind, c.member_id, r.card, r.at_ms, r.amount_minor, \(now.milliseconds)
                    FROM UNNEST(\(chunk.map(\.storeId))::text[], \(chunk.map(\.receipt))::text[],
                                \(chunk.map { $0.isRefund ? "refund" : "sale" })::text[], \(chunk.map(\.card))::text[],
                                \(chunk.map(\.atMilliseconds))::bigint[], \(chunk.map(\.amountMinor))::bigint[])
                         AS r(store_id, receipt, kind, card, at_ms, amount_minor)
                    JOIN hq_cards c ON c.card = r.card
                    """, logger: logger)
            }
            // The stores that sold them serve them (``PullScope``).
            try await connection.query(
                """
                INSERT INTO hq_member_stores (store, member_id, version)
                SELECT DISTINCT split_part(i.store_id, '.', 1), i.member_id, m.version
                FROM hq_imported_sales i JOIN hq_members m ON m.id = i.member_id WHERE i.imported_at_ms = \(now.milliseconds)
                ON CONFLICT (store, member_id) DO UPDATE SET version = EXCLUDED.version
                """, logger: logger)
            let detail = "\(summary.sales) sales, \(summary.refunds) refunds, \(summary.membersCreated) new members"
            try await connection.query(
                "INSERT INTO hq_audit (at_ms, actor, action, detail, reason) VALUES (\(now.milliseconds), \(actor), 'history import', \(detail), NULL)",
                logger: logger)
            return summary
        }
    }

    /// Rows per round trip of an import: bounded, so a million-line file never builds one huge query.
    static let importChunk = 5_000
}

extension PostgresHeadOfficeStore {
    public func publishFlags(_ flags: [Int64: [String]], actor: String, now: Date) async throws -> Int {
        try await publishMemberColumn(
            "flags", values: flags.mapValues { MemberFlags.encode($0) ?? "" }, clearOthers: true, action: "segments publish",
            actor: actor, now: now)
    }

    /// Sets a published member column (`flags`, `reviewed_tier`) from `values` ("" clears it; with
    /// `clearOthers`, members not named are cleared too). Members that change get one new version,
    /// so they travel with the next pull. Lock order as every writer: members by id, the counter last.
    func publishMemberColumn(
        _ column: StaticString, values: [Int64: String], clearOthers: Bool, action: String, actor: String, now: Date
    ) async throws -> Int {
        let logger = self.logger
        let ids = Array(values.keys)
        let texts = ids.map { values[$0]! }
        let name = "\(column)"
        precondition(["flags", "reviewed_tier"].contains(name), "only published member columns")
        return try await transaction { connection in
            try await connection.query(
                "CREATE TEMP TABLE published_values (id BIGINT PRIMARY KEY, value TEXT NOT NULL) ON COMMIT DROP", logger: logger)
            for chunkStart in stride(from: 0, to: ids.count, by: Self.importChunk) {
                let range = chunkStart..<min(ids.count, chunkStart + Self.importChunk)
                try await connection.query(
                    "INSERT INTO published_values (id, value) SELECT * FROM UNNEST(\(Array(ids[range]))::bigint[], \(Array(texts[range]))::text[])",
                    logger: logger)
            }
            let join = clearOthers ? "LEFT JOIN" : "JOIN"
            var changedIds: [Int64] = []
            for try await id in try await connection.query(
                PostgresQuery(unsafeSQL: """
                    SELECT m.id FROM hq_members m \(join) published_values p ON p.id = m.id
                    WHERE m.\(name) IS DISTINCT FROM NULLIF(p.value, '') ORDER BY m.id FOR UPDATE OF m
                    """), logger: logger
            ).decode(Int64.self) { changedIds.append(id) }
            guard !changedIds.isEmpty else { return 0 }
            var bindings = PostgresBindings()
            bindings.append(changedIds)
            try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        WITH bumped AS (UPDATE hq_counter SET change_seq = change_seq + 1 WHERE id = 1 RETURNING change_seq)
                        UPDATE hq_members m SET \(name) = NULLIF(p.value, ''), version = (SELECT change_seq FROM bumped)
                        FROM (SELECT c.id, v.value FROM UNNEST($1::bigint[]) AS c(id) LEFT JOIN published_values v ON v.id = c.id) AS p
                        WHERE m.id = p.id
                        """, binds: bindings), logger: logger)
            let detail = "\(name) changed for \(changedIds.count) members"
            try await connection.query(
                "INSERT INTO hq_audit (at_ms, actor, action, detail, reason) VALUES (\(now.milliseconds), \(actor), \(action), \(detail), NULL)",
                logger: logger)
            return changedIds.count
        }
    }
}
