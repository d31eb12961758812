public import Foundation
import GRDB
import LoyaltyCore
public import SyncProtocol

/// Head office on SQLite: the zero-configuration default (one server process).
public final class SQLiteHeadOfficeStore: HeadOfficeStore {
    let pool: DatabasePool
    public let path: String
    let snapshotCache = SnapshotCache()

    public init(path: String) throws {
        self.path = path
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(
            atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if !FileManager.default.fileExists(atPath: path) {
            FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
    }

    public func migrate() async throws {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("hq-v1") { db in
            try db.execute(sql: HeadOfficeSchema.sqlite)
        }
        migrator.registerMigration("hq-v2-epoch") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteEpoch)
        }
        migrator.registerMigration("hq-v3-ledger-binding") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteLedgerBinding)
        }
        migrator.registerMigration("hq-v4-enrolments") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteEnrolments)
        }
        migrator.registerMigration("hq-v5-audit") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteAudit)
        }
        migrator.registerMigration("hq-v6-added-cards") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteAddedCards)
        }
        migrator.registerMigration("hq-v7-merge") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteMerge)
        }
        migrator.registerMigration("hq-v8-settings") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteSettings)
        }
        migrator.registerMigration("hq-v9-imported-sales") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteImportedSales)
        }
        migrator.registerMigration("hq-v10-member-flags") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteMemberFlags)
        }
        migrator.registerMigration("hq-v11-referrals") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteReferrals)
        }
        migrator.registerMigration("hq-v12-programs") { db in
            try db.execute(sql: HeadOfficeSchema.sqlitePrograms)
        }
        migrator.registerMigration("hq-v13-reviewed-tiers") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteReviewedTiers)
        }
        migrator.registerMigration("hq-v14-issued-entries") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteIssuedEntries)
        }
        migrator.registerMigration("hq-v15-coupons") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteCoupons)
        }
        migrator.registerMigration("hq-v16-entries-by-time") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteEntriesByTime)
        }
        migrator.registerMigration("hq-v17-store-credentials") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteStoreCredentials)
        }
        migrator.registerMigration("hq-v18-issued-adjustments", foreignKeyChecks: .deferred) { db in
            try db.execute(sql: HeadOfficeSchema.sqliteIssuedAdjustments)
        }
        migrator.registerMigration("hq-v19-tier-rows") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteTierRows)
        }
        migrator.registerMigration("hq-v20-card-conflicts") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteCardConflicts)
        }
        migrator.registerMigration("hq-v21-coupon-withdrawals") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteCouponWithdrawals)
        }
        migrator.registerMigration("hq-v22-profile-times") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteProfileTimes)
        }
        migrator.registerMigration("hq-v23-tier-rows-with-imports") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteTierRowsWithImports)
        }
        migrator.registerMigration("hq-v24-card-unblocks") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteCardUnblocks)
        }
        migrator.registerMigration("hq-v25-returns-anywhere") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteReturnsAnywhere)
        }
        migrator.registerMigration("hq-v26-return-overlaps") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteReturnOverlaps)
        }
        migrator.registerMigration("hq-v27-card-conflict-resolutions") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteCardConflictResolutions)
        }
        migrator.registerMigration("hq-v28-rolling-aging") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteRollingAging)
        }
        migrator.registerMigration("hq-v29-tier-rows-corrected") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteTierRowsCorrected)
        }
        migrator.registerMigration("hq-v30-returns-at-their-sale") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteTierRowsReturnsAtTheirSale)
        }
        migrator.registerMigration("hq-v31-card-replacements") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteCardReplacements)
        }
        migrator.registerMigration("hq-v32-card-merge-times") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteCardMergeTimes)
        }
        migrator.registerMigration("hq-v33-stated-times") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteStatedTimes)
        }
        migrator.registerMigration("hq-v34-grant-corrections-at-their-grant") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteTierRowsCountedAtTheirGrant)
        }
        migrator.registerMigration("hq-v35-priced-sales") { db in
            try db.execute(sql: HeadOfficeSchema.sqlitePricedSales)
        }
        migrator.registerMigration("hq-v36-issued-coupons") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteIssuedCoupons)
        }
        migrator.registerMigration("hq-v37-priced-birthdays") { db in
            try db.execute(sql: HeadOfficeSchema.sqlitePricedBirthdays)
        }
        migrator.registerMigration("hq-v38-sale-prices") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteSalePrices)
        }
        migrator.registerMigration("hq-v39-points-before-caps") { db in
            try db.execute(sql: HeadOfficeSchema.sqlitePointsBeforeCaps)
        }
        migrator.registerMigration("hq-v40-store-point-totals") { db in
            try db.execute(sql: HeadOfficeSchema.sqliteStorePointTotals)
        }
        migrator.registerMigration("hq-v41-member-stores") { db in
            try db.execute(sql: MemberStores.sqlite)
        }
        migrator.registerMigration("hq-v44-tier-rows-by-window") { db in
            try db.execute(sql: TierRowsByWindow.sqlite)
        }
        migrator.registerMigration("hq-v45-ledger-time-floor") { db in
            try db.execute(sql: LedgerTimeFloor.sqlite)
        }
        migrator.registerMigration("hq-v46-member-ledger-totals") { db in
            try db.execute(sql: MemberLedgerTotals.sqlite)
        }
        migrator.registerMigration(PointLotCheckpoints.sqliteMigration) { db in
            try db.execute(sql: PointLotCheckpoints.sqlite)
        }
        migrator.registerMigration(MemberCouponIndex.sqliteMigration) { db in
            try db.execute(sql: MemberCouponIndex.sqlite)
        }
        let registered = migrator
        let unknown = try await pool.read { try registered.appliedIdentifiers($0) }.subtracting(registered.migrations)
        if let newest = unknown.sorted().last {
            throw NewerSchemaRefusal(found: newest, known: registered.migrations.last ?? "none")
        }
        try migrator.migrate(pool)
    }

    public func addStore(id: String, secret: String, now: Date) async throws {
        try await pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM hq_stores WHERE id = ?", arguments: [id]) == true {
                throw HeadOfficeStores.alreadyRegistered(id)
            }
            try db.execute(
                sql:
                    "INSERT INTO hq_stores (id, secret, acknowledged_seq, reported_backlog, created_at_ms) VALUES (?, ?, 0, 0, ?)",
                arguments: [id, secret, now.milliseconds])
        }
    }

    public func secret(storeId: String) async throws -> String? {
        try await pool.read {
            try String.fetchOne($0, sql: "SELECT secret FROM hq_stores WHERE id = ?", arguments: [storeId])
        }
    }

    public func useNonce(storeId: String, nonce: String, now: Date) async throws -> Bool {
        try await pool.write { db in
            let seconds = Int64(now.timeIntervalSince1970)
            try db.execute(sql: "DELETE FROM hq_nonces WHERE expires_at < ?", arguments: [seconds])
            try db.execute(
                sql: "INSERT INTO hq_nonces (store_id, nonce, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                arguments: [storeId, nonce, seconds + HeadOfficeProgram.nonceLifetimeSeconds])
            let fresh = db.changesCount == 1
            try db.execute(
                sql: "UPDATE hq_stores SET last_contact_ms = ? WHERE id = ?", arguments: [now.milliseconds, storeId])
            return fresh
        }
    }

    public func ingest(storeId: String, batch: PushBatch, nonce: String?, now: Date) async throws -> PushResult {
        try await pool.write { db in
            if let nonce {
                let seconds = Int64(now.timeIntervalSince1970)
                try db.execute(
                    sql: "INSERT INTO hq_nonces (store_id, nonce, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    arguments: [storeId, nonce, seconds + HeadOfficeProgram.nonceLifetimeSeconds])
                guard db.changesCount == 1 else {
                    throw IngestRefusal(kind: .replayed, message: "this request was already received (nonce reused)")
                }
            }
            guard
                let store = try Row.fetchOne(
                    db, sql: "SELECT acknowledged_seq, ledger_id, entries_not_before_ms FROM hq_stores WHERE id = ?",
                    arguments: [storeId])
            else {
                throw IngestRefusal(kind: .unknownStore, message: "store \(storeId) is not registered at head office")
            }
            let acknowledged: Int64 = store[0]
            let recordedLedger: String? = store[1]
            let ledger = try LedgerBinding.resolve(
                storeId: storeId, recorded: recordedLedger, presented: batch.ledgerId, acknowledged: acknowledged)
            if ledger != recordedLedger {
                try db.execute(sql: "UPDATE hq_stores SET ledger_id = ? WHERE id = ?", arguments: [ledger, storeId])
            }
            let stored = try Self.storedEntries(
                storeId: storeId, seqs: batch.entries.map(\.seq).filter { $0 <= acknowledged }, db)
            let floor: Int64? = store[2]
            let plan = try IngestPlan.make(
                acknowledged: acknowledged, batch: batch.entries, stored: stored, receivedAt: now.milliseconds,
                notBefore: floor)
            if plan.storeIsAhead { try Self.rotateEpoch(now: now, onlyIfDue: true, becauseOf: storeId, db) }
            if !plan.newEntries.isEmpty {
                try db.execute(sql: "UPDATE hq_counter SET change_seq = change_seq + 1 WHERE id = 1")
                let version = try Int64.fetchOne(db, sql: "SELECT change_seq FROM hq_counter WHERE id = 1")!
                var memberIds: [String: Int64] = [:]
                // A card added to an existing member joins that member (created first if head office has
                // not seen it yet); a card head office already knows on another member keeps it, and the
                // conflict is recorded for `report card-conflicts`.
                for entry in plan.newEntries {
                    guard let joins = entry.joinsCard else { continue }
                    try db.execute(
                        sql: """
                            INSERT INTO hq_card_conflicts (store_id, seq, card, joins_card, held_by_member, at_ms)
                            SELECT ?, ?, ?, ?, c.member_id, ? FROM hq_cards c
                            WHERE c.card = ? AND c.member_id IS NOT (SELECT member_id FROM hq_cards WHERE card = ?)
                            ON CONFLICT DO NOTHING
                            """,
                        arguments: [
                            storeId, entry.seq, entry.card, joins, entry.createdAtMilliseconds, entry.card, joins,
                        ])
                }
                for (card, joins) in plan.addedCards
                where try Int64.fetchOne(db, sql: "SELECT member_id FROM hq_cards WHERE card = ?", arguments: [card])
                    == nil
                {
                    var memberId = try Int64.fetchOne(
                        db, sql: "SELECT member_id FROM hq_cards WHERE card = ?", arguments: [joins])
                    if memberId == nil {
                        try db.execute(
                            sql:
                                "INSERT INTO hq_members (first_card, balance, lifetime_spend_minor, version, created_at_ms) VALUES (?, 0, 0, ?, ?)",
                            arguments: [joins, version, now.milliseconds])
                        memberId = db.lastInsertedRowID
                        try db.execute(
                            sql: "INSERT INTO hq_cards (card, member_id, blocked, version) VALUES (?, ?, 0, ?)",
                            arguments: [joins, memberId, version])
                    }
                    try db.execute(
                        sql: "INSERT INTO hq_cards (card, member_id, blocked, version) VALUES (?, ?, 0, ?)",
                        arguments: [card, memberId, version])
                    try db.execute(
                        sql: "UPDATE hq_members SET version = ? WHERE id = ?", arguments: [version, memberId])
                }
                for (card, points, spend) in plan.memberDeltas {
                    var memberId = try Int64.fetchOne(
                        db, sql: "SELECT member_id FROM hq_cards WHERE card = ?", arguments: [card])
                    if memberId == nil {
                        try db.execute(
                            sql:
                                "INSERT INTO hq_members (first_card, balance, lifetime_spend_minor, version, created_at_ms) VALUES (?, 0, 0, ?, ?)",
                            arguments: [card, version, now.milliseconds])
                        memberId = db.lastInsertedRowID
                        try db.execute(
                            sql: "INSERT INTO hq_cards (card, member_id, blocked, version) VALUES (?, ?, 0, ?)",
                            arguments: [card, memberId, version])
                    }
                    memberIds[card] = memberId
                    try db.execute(
                        sql:
                            "UPDATE hq_members SET balance = balance + ?, lifetime_spend_minor = lifetime_spend_minor + ?, version = ? WHERE id = ?",
                        arguments: [points, spend, version, memberId])
                }
                // The members this store served: its pulls bring them with `store` scope (``PullScope``).
                let known = try db.cachedStatement(sql: MemberStores.know(store: "?1", member: "?2", version: "?3"))
                for memberId in Set(memberIds.values) {
                    try known.execute(arguments: [MemberStores.store(ofLedger: storeId), memberId, version])
                }
                let insert = try db.cachedStatement(
                    sql: """
                        INSERT INTO hq_entries (store_id, seq, id, member_id, card, kind, points, amount_minor, currency, receipt,
                                                refers_to_seq, rule_version, reason, created_at_ms, received_at_ms,
                                                member_name, member_birthday, joins_card, referred_by, feedback_score, coupon_code,
                                                refers_to_store, sale_lines, returned_lines, stated_at_ms, earning_base, priced_tier,
                                                priced_birthday, points_before_caps)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """)
                for entry in plan.newEntries {
                    let memberId = memberIds[entry.card]!
                    try insert.execute(arguments: [
                        storeId, entry.seq, entry.id, memberId, entry.card, entry.kind, entry.points, entry.amountMinor,
                        entry.currency, entry.receipt, entry.refersToSeq, entry.ruleVersion, entry.reason,
                        entry.createdAtMilliseconds, now.milliseconds, entry.memberName, entry.memberBirthday,
                        entry.joinsCard,
                        entry.referredBy, entry.feedbackScore, entry.couponCode, entry.refersToStore, entry.linesText,
                        entry.returnedLinesText, plan.statedAtMilliseconds[entry.seq], entry.earningBase,
                        entry.pricedTier,
                        entry.pricedBirthday.map { $0 ? 1 : 0 }, entry.pointsBeforeCaps,
                    ])
                }
                // A sale imported from the old system that the store's ledger now brings: the ledger's entry is
                // the fact, the imported copy of the receipt (sale and refunds) goes, so nothing counts twice.
                // Only the same member's (found by attack: a new till's receipt numbers met the old system's,
                // and another member's imported sale vanished from their 12-month spend, unseen by any till).
                for entry in plan.newEntries where entry.kind == "earn" {
                    try db.cachedStatement(sql: ImportedSaleQueries.deleteSupersededSQLite)
                        .execute(arguments: [storeId, entry.receipt, entry.card, MemberStores.store(ofLedger: storeId)])
                }
                // A new member enrolled here on a card another store added to its member, or head office gave
                // another member: one card, two people.
                for entry in plan.enrolments {
                    try db.cachedStatement(
                        sql: CardConflictQueries.enrolledAfterAnotherStoreAdded(
                            store: "?1", seq: "?2", card: "?3", at: "?4")
                    ).execute(arguments: [storeId, entry.seq, entry.card, entry.createdAtMilliseconds])
                    try db.cachedStatement(
                        sql: CardConflictQueries.enrolledOnAnotherMembersCard(
                            store: "?1", seq: "?2", card: "?3", at: "?4")
                    ).execute(arguments: [storeId, entry.seq, entry.card, entry.createdAtMilliseconds])
                }
                // Enrolments and profile changes: the newest name and birthday win, whichever store syncs last;
                // the enrolment is the earliest at any store, whichever store synced first. An enrolment in
                // conflict is another person's: their name and birthday change no member.
                for entry in plan.enrolments + plan.profileChanges
                where try Bool.fetchOne(
                    db, sql: CardConflictQueries.enrolmentInConflict, arguments: [storeId, entry.seq]) != true
                {
                    try db.cachedStatement(
                        sql: HeadOfficeSchema.newestProfile(name: "?1", birthday: "?2", at: "?3", member: "?4")
                    ).execute(arguments: [
                        entry.memberName, entry.memberBirthday, entry.createdAtMilliseconds, memberIds[entry.card]!,
                    ])
                }
                // An enrolment in conflict enrols nobody: not the earliest enrolment, no referrer (found by attack:
                // a referral bonus was paid for another person's enrolment of a member's card); nor does an enrolment
                // of a card enrolled before (``EnrolmentReferral``).
                for entry in plan.enrolments
                where try Bool.fetchOne(
                    db, sql: CardConflictQueries.enrolmentInConflict, arguments: [storeId, entry.seq]) != true
                {
                    try db.execute(
                        sql: """
                            UPDATE hq_members SET
                                enrolled_store = CASE WHEN enrolled_at_ms IS NULL OR ?2 < enrolled_at_ms THEN ?1 ELSE enrolled_store END,
                                enrolled_at_ms = MIN(COALESCE(enrolled_at_ms, ?2), ?2),
                                referred_by_card = \(EnrolmentReferral.referrer(
                                    current: "referred_by_card", card: "?5", at: "?2", referrer: "?3"))
                            WHERE id = ?4
                            """,
                        arguments: [
                            storeId, entry.createdAtMilliseconds, entry.referredBy, memberIds[entry.card]!, entry.card,
                        ])
                }
                try db.execute(
                    sql: CardConflictQueries.refreshMembersThatLostACard(version: "?1", store: "?2"),
                    arguments: [version, storeId])
                // Offline redemptions at several stores can overdraw a member: record it, never refuse it. Judged
                // by time (``StoreOverdrafts``): an entry taking points may overdraw a later redemption, any entry of
                // a member already overdrawn may settle one.
                let takers = Set(plan.newEntries.filter { $0.points < 0 }.compactMap { memberIds[$0.card] })
                let touched = Array(Set(plan.newEntries.compactMap { memberIds[$0.card] }))
                let overdrawn = try Int64.fetchSet(
                    db,
                    sql: "SELECT id FROM hq_members WHERE overdrawn AND id IN (SELECT value FROM json_each(?))",
                    arguments: [String(decoding: try JSONEncoder().encode(touched), as: UTF8.self)])
                let since = plan.newEntries.map(\.createdAtMilliseconds).min() ?? Int64.min
                for memberId in touched where takers.contains(memberId) || overdrawn.contains(memberId) {
                    for statement in StoreOverdrafts.judge(memberId: "= ?1", since: since) {
                        try db.execute(sql: statement, arguments: [memberId])
                    }
                }
            }
            try db.execute(
                sql: """
                    UPDATE hq_stores SET acknowledged_seq = ?, reported_backlog = ?, last_contact_ms = ?, points_total = points_total + ?,
                        entries_not_before_ms = ?
                    WHERE id = ?
                    """,
                arguments: [
                    plan.acknowledgedAfter, max(0, batch.backlog), now.milliseconds, plan.newPoints,
                    LedgerTimeFloor.after(plan, floor: floor),
                    storeId,
                ])
            return PushResult(
                acknowledgedSeq: plan.acknowledgedAfter, accepted: plan.newEntries.count, duplicates: plan.duplicates,
                expectedSeq: plan.expectedSeq)
        }
    }

    /// The stored entries among `seqs`: exactly those, never a range (a batch repeating seq 1 and the
    /// last acknowledged seq must not load the store's whole history).
    static func storedEntries(storeId: String, seqs: [Int64], _ db: Database) throws -> [Int64: SyncEntry] {
        let distinct = Array(Set(seqs))
        guard !distinct.isEmpty else { return [:] }
        let placeholders = Array(repeating: "?", count: distinct.count).joined(separator: ", ")
        var stored: [Int64: SyncEntry] = [:]
        let arguments: StatementArguments = [storeId] + StatementArguments(distinct)
        for row in try Row.fetchAll(
            db, sql: "SELECT * FROM hq_entries WHERE store_id = ? AND seq IN (\(placeholders))", arguments: arguments)
        {
            var entry = SyncEntry(row: row)
            entry.earningBase = row["earning_base"]
            entry.pricedTier = row["priced_tier"]
            entry.pricedBirthday = (row["priced_birthday"] as Int64?).map { $0 == 1 }
            entry.pointsBeforeCaps = row["points_before_caps"]
            // What the till stated: a resend states it again.
            if let stated: Int64 = row["stated_at_ms"] { entry.createdAtMilliseconds = stated }
            stored[row["seq"]] = entry
        }
        return stored
    }

    /// Test access to ``storedEntries(storeId:seqs:_:)``.
    func storedEntries(storeId: String, seqs: [Int64]) async throws -> [Int64: SyncEntry] {
        try await pool.read { try Self.storedEntries(storeId: storeId, seqs: seqs, $0) }
    }

    /// Copies the database to `path` (a consistent online backup, WAL included).
    public func backup(to path: String) throws {
        let destination = try DatabaseQueue(path: path)
        try pool.backup(to: destination)
    }

    public func epoch() async throws -> String {
        try await pool.read { try Self.epoch($0) }
    }

    public func rotateEpoch(now: Date) async throws -> String {
        try await pool.write { db in
            try Self.rotateEpoch(now: now, onlyIfDue: false, db)
            return try Self.epoch(db)
        }
    }

    static func epoch(_ db: Database) throws -> String {
        try String.fetchOne(db, sql: "SELECT epoch FROM hq_identity WHERE id = 1")!
    }

    static func rotateEpoch(now: Date, onlyIfDue: Bool, becauseOf storeId: String? = nil, _ db: Database) throws {
        let dueBefore = onlyIfDue ? now.milliseconds - EpochPolicy.minimumMillisecondsBetweenRotations : Int64.max
        try db.execute(
            sql: "UPDATE hq_identity SET epoch = ?, rotated_at_ms = ? WHERE id = 1 AND rotated_at_ms < ?",
            arguments: [EpochPolicy.newEpoch(), now.milliseconds, dueBefore])
        guard let storeId, db.changesCount > 0 else { return }
        try db.execute(
            sql: "INSERT INTO hq_audit (at_ms, actor, action, detail, reason) VALUES (?, ?, 'epoch rotate', ?, NULL)",
            arguments: [now.milliseconds, "store \(storeId)", EpochPolicy.rotationByStore(storeId)])
    }

    public func updates(
        storeId: String, since requestedCursor: Int64, storeAcknowledged: Int64?, scope: PullScope, now: Date
    ) async throws -> UpdatesPage {
        // A store mark beyond ours comes from a history head office no longer has (restored from a
        // backup): evidence from the store's own stream, so the whole chain starts a new epoch. A cursor
        // beyond the change counter alone is only this store's word: it pulls from zero, nobody else does.
        let (rewound, cursorBeyond) = try await pool.read { db in
            let counter = try Int64.fetchOne(db, sql: "SELECT change_seq FROM hq_counter")!
            let acknowledged = try Int64.fetchOne(
                db, sql: "SELECT acknowledged_seq FROM hq_stores WHERE id = ?", arguments: [storeId])
            return ((storeAcknowledged ?? 0) > (acknowledged ?? Int64.max), requestedCursor > counter)
        }
        let cursor = cursorBeyond ? 0 : requestedCursor
        if rewound {
            try await pool.write { try Self.rotateEpoch(now: now, onlyIfDue: true, becauseOf: storeId, $0) }
        }
        if try await pool.read({ try RollingAging.due(now: now, $0) }) {
            try await pool.write { try RollingAging.step(now: now, $0) }
        }
        return try await pool.read { db in
            guard
                let acknowledged = try Int64.fetchOne(
                    db, sql: "SELECT acknowledged_seq FROM hq_stores WHERE id = ?", arguments: [storeId])
            else {
                throw IngestRefusal(kind: .unknownStore, message: "store \(storeId) is not registered at head office")
            }
            let limit = UpdatesPage.maximumMembers
            // With `store` scope, only the members its store has served (``PullScope``).
            let store = MemberStores.store(ofLedger: storeId)
            func feed(_ sql: String, _ arguments: StatementArguments) throws -> [(id: Int64, version: Int64)] {
                try Row.fetchAll(db.cachedStatement(sql: sql), arguments: [store] + arguments).map { ($0[0], $0[1]) }
            }
            var keys = try feed(MemberStores.page(scope, store: "?1", cursor: "?2", limit: "?3"), [cursor, limit])
            var more = false
            if keys.count == limit, let last = keys.last {
                keys += try feed(
                    MemberStores.restOfVersion(scope, store: "?1", version: "?2", afterMember: "?3"),
                    [last.version, last.id])
                more =
                    try Bool.fetchOne(
                        db.cachedStatement(sql: MemberStores.anyAfter(scope, store: "?1", version: "?2")),
                        arguments: [store, last.version]) ?? false
            }
            let since = now.milliseconds - HeadOfficeProgram.rollingWindowMilliseconds
            let published = try Self.programs(db)
            let program = HeadOfficeProgram.inForce(published, now: now)
            let today = ChainDayPoints.today(program: program, now: now)
            // Snapshots an earlier pull computed at the same version; the rest computed here, once for every till
            // (the four tills of a store pull the same members).
            let cacheKeys = keys.map {
                SnapshotCache.Key(
                    memberId: $0.id, version: $0.version, dayStart: today?.start ?? 0, programVersion: program.version)
            }
            var values = snapshotCache.lookup(cacheKeys, now: now.milliseconds)
            var fresh: [SnapshotCache.Key: SnapshotCache.Value] = [:]
            for key in cacheKeys where values[key] == nil {
                fresh[key] = try Self.snapshot(
                    memberId: key.memberId, since: since, program: program, today: today, now: now, db)
            }
            snapshotCache.store(fresh, now: now.milliseconds)
            values.merge(fresh) { _, new in new }
            let members = cacheKeys.compactMap { key in
                values[key].map { SnapshotCache.snapshot($0, includesStoreSeq: acknowledged, cursor: cursor) }
            }
            var newCursor = keys.last?.version ?? cursor
            let blockedCeiling = more ? newCursor : Int64.max
            // Blocked cards, and cards whose block was lifted since the cursor (only cards once blocked).
            let changed = try Row.fetchAll(
                db,
                sql: """
                    SELECT card, version, blocked FROM hq_cards
                    WHERE (blocked = 1 OR unblocked_at_ms IS NOT NULL) AND version > ? AND version <= ? ORDER BY version
                    """,
                arguments: [cursor, blockedCeiling])
            if !more { newCursor = max(newCursor, changed.last.map { $0["version"] as Int64 } ?? cursor) }
            let unblocked: [String] = changed.filter { !($0["blocked"] as Bool) }.map { $0["card"] }
            var updates = UpdatesPage(
                members: members, blockedCards: changed.filter { $0["blocked"] as Bool }.map { $0["card"] },
                unblockedCards: unblocked.isEmpty ? nil : unblocked, cursor: newCursor, more: more,
                acknowledgedSeq: acknowledged, epoch: try Self.epoch(db),
                memberRanges: MemberRangeSetting.decode(
                    try String.fetchOne(db, sql: "SELECT value FROM hq_settings WHERE key = 'member_ranges'")),
                programs: PublishedProgram.releases(published, now: now))
            // The store's other tills' marks, read in the snapshots' own transaction: they hold exactly those entries.
            if let prefix = LedgerPrefixQueries.otherTillsPrefix(of: storeId) {
                var marks: [String: Int64] = [:]
                for row in try Row.fetchAll(db, sql: LedgerPrefixQueries.marks(prefix: "?1"), arguments: [prefix])
                where row[0] as String != storeId {
                    marks[row[0]] = row[1]
                }
                updates.storeTillMarks = marks
            }
            return updates
        }
    }

    public func membersBelowZero() async throws -> [MemberBelowZero] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: MemberBelowZero.sql).map { MemberBelowZero(card: $0[0], balance: $0[1]) }
        }
    }

    public func stores() async throws -> [StoreSummary] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT id, acknowledged_seq, last_contact_ms, reported_backlog FROM hq_stores ORDER BY id"
            ).map {
                StoreSummary(
                    storeId: $0[0], acknowledgedSeq: $0[1], lastContactMilliseconds: $0[2], reportedBacklog: $0[3])
            }
        }
    }

    public func member(card: String, now: Date) async throws -> HeadOfficeMember? {
        try await pool.read { db in
            guard
                let member = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT m.id, m.first_card, m.balance, m.overdrawn, c.blocked, m.name, m.birthday, m.enrolled_store, m.enrolled_at_ms,
                               m.reviewed_tier
                        FROM hq_cards c JOIN hq_members m ON m.id = c.member_id WHERE c.card = ?
                        """,
                    arguments: [card])
            else { return nil }
            let memberId: Int64 = member["id"]
            let progress = try Self.rollingProgress(
                memberId: memberId, since: now.milliseconds - HeadOfficeProgram.rollingWindowMilliseconds, db)
            let shares = try Row.fetchAll(
                db,
                sql: MemberLedgerTotals.perStore(member: "?"),
                arguments: [memberId]
            ).map { HeadOfficeMember.StoreShare(storeId: $0[0], points: $0[1], spendMinor: $0[2], entries: $0[3]) }
            return HeadOfficeMember(
                card: card,
                cards: try String.fetchAll(
                    db, sql: "SELECT card FROM hq_cards WHERE member_id = ? ORDER BY card", arguments: [memberId]),
                balance: member["balance"],
                tier: HeadOfficeProgram.tier(
                    progress: progress, reviewed: member["reviewed_tier"],
                    program: HeadOfficeProgram.inForce(try Self.programs(db), now: now)),
                rollingSpendMinor: progress.spendMinorUnits, rollingPointsEarned: progress.pointsEarned,
                overdrawn: member["overdrawn"], blocked: member["blocked"], stores: shares, name: member["name"],
                birthday: member["birthday"], enrolledStore: member["enrolled_store"],
                enrolledAtMilliseconds: member["enrolled_at_ms"],
                memberId: memberId)
        }
    }

    public func overdrafts() async throws -> [Overdraft] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT m.first_card, o.store_id, o.seq, e.receipt, e.points, o.balance_after, o.at_ms FROM hq_overdrafts o
                    JOIN hq_members m ON m.id = o.member_id JOIN hq_entries e ON e.store_id = o.store_id AND e.seq = o.seq
                    ORDER BY o.at_ms, o.store_id, o.seq
                    """
            ).map {
                Overdraft(
                    card: $0[0], storeId: $0[1], seq: $0[2], receipt: $0[3], points: $0[4], balanceAfter: $0[5],
                    atMilliseconds: $0[6])
            }
        }
    }

    public func blockCard(_ card: String, force: Bool, now: Date) async throws -> Bool {
        try HeadOfficeCards.refusePaymentCard(card, context: "cards block")
        return try await pool.write { db in
            let blocked = try Bool.fetchOne(db, sql: "SELECT blocked FROM hq_cards WHERE card = ?", arguments: [card])
            if blocked == true { return false }
            if blocked == nil && !force { throw HeadOfficeCards.unknownToBlock(card) }
            try db.execute(sql: "UPDATE hq_counter SET change_seq = change_seq + 1 WHERE id = 1")
            let version = try Int64.fetchOne(db, sql: "SELECT change_seq FROM hq_counter WHERE id = 1")!
            if blocked != nil {
                try db.execute(
                    sql: "UPDATE hq_cards SET blocked = 1, version = ? WHERE card = ?", arguments: [version, card])
            } else {
                try db.execute(
                    sql:
                        "INSERT INTO hq_members (first_card, balance, lifetime_spend_minor, version, created_at_ms) VALUES (?, 0, 0, ?, ?)",
                    arguments: [card, version, now.milliseconds])
                try db.execute(
                    sql: "INSERT INTO hq_cards (card, member_id, blocked, version) VALUES (?, ?, 1, ?)",
                    arguments: [card, db.lastInsertedRowID, version])
            }
            return true
        }
    }

    public func unblockCard(_ card: String, now: Date) async throws {
        try await pool.write { db in
            guard
                let blocked = try Bool.fetchOne(
                    db, sql: "SELECT blocked FROM hq_cards WHERE card = ?", arguments: [card])
            else { throw HeadOfficeCards.unknown(card) }
            guard blocked else { throw HeadOfficeCards.notBlocked(card) }
            try db.execute(sql: "UPDATE hq_counter SET change_seq = change_seq + 1 WHERE id = 1")
            let version = try Int64.fetchOne(db, sql: "SELECT change_seq FROM hq_counter WHERE id = 1")!
            try db.execute(
                sql: "UPDATE hq_cards SET blocked = 0, unblocked_at_ms = ?, version = ? WHERE card = ?",
                arguments: [now.milliseconds, version, card])
        }
    }

    public func replaceCard(_ old: String, with new: String, actor: String, reason: String?, now: Date) async throws {
        try HeadOfficeCards.refusePaymentCard(new, context: "cards replace")
        try await pool.write { db in
            guard
                let memberId = try Int64.fetchOne(
                    db, sql: "SELECT member_id FROM hq_cards WHERE card = ?", arguments: [old])
            else {
                throw HeadOfficeCards.unknown(old)
            }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM hq_cards WHERE card = ?", arguments: [new]) == true {
                throw HeadOfficeCards.inUse(new)
            }
            try db.execute(sql: "UPDATE hq_counter SET change_seq = change_seq + 1 WHERE id = 1")
            let version = try Int64.fetchOne(db, sql: "SELECT change_seq FROM hq_counter WHERE id = 1")!
            try db.execute(
                sql: "UPDATE hq_cards SET blocked = 1, version = ? WHERE card = ?", arguments: [version, old])
            try db.execute(
                sql: "INSERT INTO hq_cards (card, member_id, blocked, version, replaces_card) VALUES (?, ?, 0, ?, ?)",
                arguments: [new, memberId, version, old])
            try db.execute(sql: "UPDATE hq_members SET version = ? WHERE id = ?", arguments: [version, memberId])
            try db.execute(
                sql: "INSERT INTO hq_audit (at_ms, actor, action, detail, reason) VALUES (?, ?, 'cards replace', ?, ?)",
                arguments: [now.milliseconds, actor, "card \(old) replaced by \(new) (member \(memberId))", reason])
        }
    }

    public func mergeMembers(keep: String, other: String, actor: String, reason: String?, now: Date) async throws {
        try await pool.write { db in
            guard
                let kept = try Int64.fetchOne(
                    db, sql: "SELECT member_id FROM hq_cards WHERE card = ?", arguments: [keep])
            else {
                throw HeadOfficeCards.unknown(keep)
            }
            guard
                let merged = try Int64.fetchOne(
                    db, sql: "SELECT member_id FROM hq_cards WHERE card = ?", arguments: [other])
            else {
                throw HeadOfficeCards.unknown(other)
            }
            guard kept != merged else { throw HeadOfficeCards.sameMember() }
            try db.execute(sql: "UPDATE hq_counter SET change_seq = change_seq + 1 WHERE id = 1")
            let version = try Int64.fetchOne(db, sql: "SELECT change_seq FROM hq_counter WHERE id = 1")!
            let absorbed = try Row.fetchOne(
                db,
                sql: """
                    SELECT balance, lifetime_spend_minor, overdrawn, name, birthday, enrolled_store, enrolled_at_ms, referred_by_card
                    FROM hq_members WHERE id = ?
                    """,
                arguments: [merged])!
            try db.execute(sql: "UPDATE hq_entries SET member_id = ? WHERE member_id = ?", arguments: [kept, merged])
            try db.execute(
                sql: "UPDATE hq_imported_sales SET member_id = ? WHERE member_id = ?", arguments: [kept, merged])
            try db.execute(sql: ImportedSaleQueries.deleteSuperseded(ofMember: "?1"), arguments: [kept])
            try db.execute(
                sql: "UPDATE hq_overdrafts SET member_id = ? WHERE member_id = ?", arguments: [kept, merged])
            // Sent again with the member (found by attack: tills that had the merged record's entries kept them there).
            try db.execute(
                sql: "UPDATE hq_issued SET member_id = ?, version = ? WHERE member_id = ?",
                arguments: [kept, version, merged])
            try db.execute(
                sql: "UPDATE hq_issued_coupons SET member_id = ? WHERE member_id = ?", arguments: [kept, merged])
            try db.execute(
                sql: "UPDATE hq_cards SET member_id = ?, version = ?, merged_at_ms = ? WHERE member_id = ?",
                arguments: [kept, version, now.milliseconds, merged])
            try db.execute(
                sql: """
                    UPDATE hq_members SET balance = balance + ?, lifetime_spend_minor = lifetime_spend_minor + ?,
                        overdrawn = overdrawn OR ?, name = COALESCE(name, ?), birthday = COALESCE(birthday, ?),
                        enrolled_store = COALESCE(enrolled_store, ?), enrolled_at_ms = COALESCE(MIN(enrolled_at_ms, ?7), enrolled_at_ms, ?7),
                        referred_by_card = COALESCE(referred_by_card, ?8), version = ?9
                    WHERE id = ?10
                    """,
                arguments: [
                    absorbed[0], absorbed[1], absorbed[2], absorbed[3], absorbed[4], absorbed[5], absorbed[6],
                    absorbed[7], version, kept,
                ])
            // Each overdraft judged again on the whole member's entries (found by attack: one the other record's
            // earlier sale half covered kept its balance until the member's next sale arrived).
            for statement in StoreOverdrafts.judge(memberId: "= ?1", since: Int64.min) {
                try db.execute(sql: statement, arguments: [kept])
            }
            try db.execute(sql: "DELETE FROM hq_members WHERE id = ?", arguments: [merged])
            // The stores that served either record pull the one kept.
            try db.execute(sql: MemberStores.move(merged: "?1", kept: "?2"), arguments: [merged, kept])
            try db.execute(sql: MemberStores.forget(member: "?"), arguments: [merged])
            try db.execute(
                sql: "INSERT INTO hq_audit (at_ms, actor, action, detail, reason) VALUES (?, ?, 'members merge', ?, ?)",
                arguments: [
                    now.milliseconds, actor,
                    "member \(merged) (card \(other)) merged into member \(kept) (card \(keep))", reason,
                ])
        }
    }

    public func setMemberRanges(_ ranges: [String]?, actor: String, now: Date) async throws {
        try await pool.write { db in
            if let value = MemberRangeSetting.encode(ranges) {
                try db.execute(
                    sql:
                        "INSERT INTO hq_settings (key, value) VALUES ('member_ranges', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    arguments: [value])
            } else {
                try db.execute(sql: "DELETE FROM hq_settings WHERE key = 'member_ranges'")
            }
            try db.execute(
                sql:
                    "INSERT INTO hq_audit (at_ms, actor, action, detail, reason) VALUES (?, ?, 'member-ranges set', ?, NULL)",
                arguments: [now.milliseconds, actor, MemberRangeSetting.encode(ranges) ?? "(cleared)"])
        }
    }

    public func memberRanges() async throws -> [String]? {
        try await pool.read { db in
            MemberRangeSetting.decode(
                try String.fetchOne(db, sql: "SELECT value FROM hq_settings WHERE key = 'member_ranges'"))
        }
    }

    public func memberList() async throws -> [MemberSummary] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: MemberListQuery.sql).map {
                MemberSummary(
                    card: $0[0], name: $0[1], birthday: $0[2], enrolledStore: $0[3], enrolledAtMilliseconds: $0[4],
                    balance: $0[5],
                    purchases: $0[6])
            }
        }
    }

    public func auditTrail() async throws -> [AuditRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT at_ms, actor, action, detail, reason FROM hq_audit ORDER BY id").map {
                AuditRecord(atMilliseconds: $0[0], actor: $0[1], action: $0[2], detail: $0[3], reason: $0[4])
            }
        }
    }

    public func totals() async throws -> [StoreTotal] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: HeadOfficeSchema.storeTotals).map {
                StoreTotal(storeId: $0[0], entries: $0[1], points: $0[2])
            }
        }
    }
}

extension SyncEntry {
    init(row: Row) {
        self.init(
            seq: row["seq"], id: row["id"], card: row["card"], kind: row["kind"], points: row["points"],
            amountMinor: row["amount_minor"], currency: row["currency"], receipt: row["receipt"],
            refersToSeq: row["refers_to_seq"], ruleVersion: row["rule_version"], reason: row["reason"],
            createdAtMilliseconds: row["created_at_ms"], memberName: row["member_name"],
            memberBirthday: row["member_birthday"],
            joinsCard: row["joins_card"], referredBy: row["referred_by"], feedbackScore: row["feedback_score"],
            couponCode: row["coupon_code"], refersToStore: row["refers_to_store"],
            lines: SyncEntry.decodedLines(row["sale_lines"]),
            returnedLines: SyncEntry.decodedLines(row["returned_lines"]))
    }
}

extension Date {
    /// Milliseconds since 1970, saturating: a date made from a stored time never traps (found by attack:
    /// an entry at Int64.max milliseconds stopped head office at every ingest that touched its member).
    var milliseconds: Int64 {
        let value = (timeIntervalSince1970 * 1000).rounded(.down)
        guard value.isFinite else { return value < 0 ? .min : .max }
        return value >= 9.2e18 ? .max : value <= -9.2e18 ? .min : Int64(value)
    }
}

extension SQLiteHeadOfficeStore {
    /// A member's spend and points earned in entries after `since` (milliseconds).
    static func rollingProgress(memberId: Int64, since: Int64, _ db: Database) throws -> TierProgress {
        let row = try Row.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT IFNULL(SUM(amount_minor), 0), IFNULL(SUM(\(TierBasis.pointsEarnedSQL)), 0)
                    FROM hq_tier_rows WHERE member_id = ? AND created_at_ms > ?
                    """),
            arguments: [memberId, since])
        return TierProgress(spendMinorUnits: row?[0] ?? 0, pointsEarned: row?[1] ?? 0)
    }
}
