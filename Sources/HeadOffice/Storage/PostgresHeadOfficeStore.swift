public import Foundation
public import Logging
import LoyaltyCore
public import PostgresNIO
public import SyncProtocol

/// Head office on PostgreSQL: the production store. Server processes are stateless, so several can
/// run against one database behind a load balancer; ingests serialise on the store row and the
/// change counter, so each (store, seq) is stored once and cursors follow commit order.
public final class PostgresHeadOfficeStore: HeadOfficeStore {
    public let client: PostgresClient
    let logger: Logger
    /// Snapshots computed by this process's pulls, for the next tills pulling the same member version.
    let snapshotCache = SnapshotCache()

    /// `client` must be running (`client.run()` in a task or a service group).
    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Parses `postgres://user[:password]@host[:port]/database`.
    public static func configuration(url: String) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url),
            ["postgres", "postgresql"].contains(components.scheme ?? ""),
            let host = components.host, let user = components.user
        else {
            throw IngestRefusal(
                kind: .invalid, message: "--postgres must look like postgres://user:password@host:5432/database")
        }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        var configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: user, password: components.password,
            database: database.isEmpty ? nil : database, tls: .disable)
        configuration.options.maximumConnections = 16
        // Head office's queries read a few members or days each. Their plans span every month's partition, so the
        // planner's estimates reach JIT's thresholds, and compiling cost seconds a query (a pull of 500 members:
        // 2.6 s with JIT, 0.12 s without, at 10 M entries over 13 months) and grew with the months.
        configuration.options.additionalStartupParameters.append(("jit", "off"))
        return configuration
    }

    /// One transaction; a refusal thrown inside comes out as itself, not wrapped.
    func transaction<T>(_ body: (PostgresConnection) async throws -> sending T) async throws -> sending T {
        do {
            return try await client.withTransaction(logger: logger, body)
        } catch let error as PostgresTransactionError {
            if let refusal = error.closureError as? IngestRefusal { throw refusal }
            if let problems = error.closureError as? HistoryImportError { throw problems }
            if let refusal = error.closureError as? LoyaltyError { throw refusal }
            if let refusal = error.closureError as? ExpiryRefusal { throw refusal }
            throw error
        }
    }

    /// The schema's versions in order, each with its statements.
    static let migrations: [(Int, [String])] = [
        (1, HeadOfficeSchema.postgres), (2, HeadOfficeSchema.postgresEpoch),
        (3, HeadOfficeSchema.postgresLedgerBinding),
        (4, HeadOfficeSchema.postgresEnrolments), (5, HeadOfficeSchema.postgresAudit),
        (6, HeadOfficeSchema.postgresAddedCards), (7, HeadOfficeSchema.postgresMerge),
        (8, HeadOfficeSchema.postgresSettings),
        (9, HeadOfficeSchema.postgresImportedSales),
        (10, HeadOfficeSchema.postgresMemberFlags),
        (11, HeadOfficeSchema.postgresReferrals),
        (12, HeadOfficeSchema.postgresPrograms),
        (13, HeadOfficeSchema.postgresReviewedTiers),
        (14, HeadOfficeSchema.postgresIssuedEntries),
        (15, HeadOfficeSchema.postgresCoupons),
        (16, HeadOfficeSchema.postgresEntriesByTime),
        (17, HeadOfficeSchema.postgresStoreCredentials),
        (18, HeadOfficeSchema.postgresIssuedAdjustments),
        (19, HeadOfficeSchema.postgresTierRows),
        (20, HeadOfficeSchema.postgresCardConflicts),
        (21, HeadOfficeSchema.postgresCouponWithdrawals),
        (22, HeadOfficeSchema.postgresProfileTimes),
        (23, HeadOfficeSchema.postgresTierRowsWithImports),
        (24, HeadOfficeSchema.postgresCardUnblocks),
        (25, HeadOfficeSchema.postgresReturnsAnywhere),
        (26, HeadOfficeSchema.postgresReturnOverlaps),
        (27, HeadOfficeSchema.postgresCardConflictResolutions),
        (28, HeadOfficeSchema.postgresRollingAging),
        (29, HeadOfficeSchema.postgresTierRowsCorrected),
        (30, HeadOfficeSchema.postgresTierRowsReturnsAtTheirSale),
        (31, HeadOfficeSchema.postgresCardReplacements),
        (32, HeadOfficeSchema.postgresCardMergeTimes),
        (33, HeadOfficeSchema.postgresStatedTimes),
        (34, HeadOfficeSchema.postgresTierRowsCountedAtTheirGrant),
        (35, HeadOfficeSchema.postgresPricedSales),
        (36, HeadOfficeSchema.postgresIssuedCoupons),
        (37, HeadOfficeSchema.postgresPricedBirthdays),
        (38, HeadOfficeSchema.postgresSalePrices),
        (39, HeadOfficeSchema.postgresPointsBeforeCaps),
        (40, HeadOfficeSchema.postgresStorePointTotals),
        (41, MemberStores.postgres),
        (MonthlyEntryPartitions.schemaVersion, MonthlyEntryPartitions.postgres),
        (MemberFiguresIndex.schemaVersion, MemberFiguresIndex.postgres),
        (TierRowsByWindow.schemaVersion, TierRowsByWindow.postgres),
        (LedgerTimeFloor.schemaVersion, LedgerTimeFloor.postgres),
        (MemberLedgerTotals.schemaVersion, MemberLedgerTotals.postgres),
        (ReturnsAtTheirSale.schemaVersion, ReturnsAtTheirSale.postgres),
        (PointLotCheckpoints.schemaVersion, PointLotCheckpoints.postgres),
        (MemberCouponIndex.schemaVersion, MemberCouponIndex.postgres),
        (EntryKeyTimes.schemaVersion, EntryKeyTimes.postgres),
    ]

    public func migrate() async throws { try await migrate(throughVersion: Int.max) }

    /// The versions up to `throughVersion` (an upgrade test starts from an earlier schema).
    func migrate(throughVersion: Int) async throws {
        let refusal: NewerSchemaRefusal? = try await transaction { connection in
            // One migrator at a time, even with several servers starting together.
            try await connection.query("SELECT pg_advisory_xact_lock(7318001)", logger: logger)
            let exists = try await connection.query("SELECT to_regclass('hq_schema') IS NOT NULL", logger: logger)
            var installed = false
            for try await value in exists.decode(Bool.self) { installed = value }
            var versions: Set<Int> = []
            if installed {
                let rows = try await connection.query("SELECT version FROM hq_schema", logger: logger)
                for try await version in rows.decode(Int.self) { versions.insert(version) }
            }
            let known = Self.migrations.map(\.0).max() ?? 0
            if let newest = versions.max(), newest > known {
                return NewerSchemaRefusal(found: String(newest), known: String(known))
            }
            for (version, statements) in Self.migrations where !versions.contains(version) && version <= throughVersion
            {
                for statement in statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
            }
            return nil
        }
        if let refusal { throw refusal }
        if throughVersion >= MonthlyEntryPartitions.schemaVersion { try await prepareEntryMonths(now: Date()) }
    }

    public func addStore(id: String, secret: String, now: Date) async throws {
        try await transaction { connection in
            let rows = try await connection.query(
                "INSERT INTO hq_stores (id, secret, acknowledged_seq, reported_backlog, created_at_ms) VALUES (\(id), \(secret), 0, 0, \(now.milliseconds)) ON CONFLICT DO NOTHING RETURNING id",
                logger: logger)
            var inserted = false
            for try await _ in rows.decode(String.self) { inserted = true }
            if !inserted { throw HeadOfficeStores.alreadyRegistered(id) }
        }
    }

    public func secret(storeId: String) async throws -> String? {
        let rows = try await client.query("SELECT secret FROM hq_stores WHERE id = \(storeId)", logger: logger)
        for try await secret in rows.decode(String.self) { return secret }
        return nil
    }

    public func useNonce(storeId: String, nonce: String, now: Date) async throws -> Bool {
        let seconds = Int64(now.timeIntervalSince1970)
        let expires = seconds + HeadOfficeProgram.nonceLifetimeSeconds
        return try await transaction { connection in
            try await connection.query("DELETE FROM hq_nonces WHERE expires_at < \(seconds)", logger: logger)
            let rows = try await connection.query(
                "INSERT INTO hq_nonces (store_id, nonce, expires_at) VALUES (\(storeId), \(nonce), \(expires)) ON CONFLICT DO NOTHING RETURNING 1",
                logger: logger)
            var fresh = false
            for try await _ in rows.decode(Int.self) { fresh = true }
            try await connection.query(
                "UPDATE hq_stores SET last_contact_ms = \(now.milliseconds) WHERE id = \(storeId)", logger: logger)
            return fresh
        }
    }

    public func ingest(storeId: String, batch: PushBatch, nonce: String?, now: Date) async throws -> PushResult {
        let logger = self.logger
        return try await transaction { connection in
            // One round trip: record the nonce (a reused one is a replay) and lock the store's row.
            let expires = Int64(now.timeIntervalSince1970) + HeadOfficeProgram.nonceLifetimeSeconds
            let lock = try await connection.query(
                """
                WITH recorded AS (
                    INSERT INTO hq_nonces (store_id, nonce, expires_at) SELECT \(storeId), \(nonce ?? ""), \(expires)
                    WHERE \(nonce != nil) ON CONFLICT DO NOTHING RETURNING 1
                )
                SELECT acknowledged_seq, (SELECT COUNT(*) FROM recorded), ledger_id, entries_not_before_ms
                FROM hq_stores WHERE id = \(storeId) FOR UPDATE
                """, logger: logger)
            var acknowledged: Int64?
            var recordedNonce = false
            var recordedLedger: String?
            var floor: Int64?
            for try await (value, recorded, ledger, notBefore) in lock.decode((Int64, Int64, String?, Int64?).self) {
                acknowledged = value
                recordedNonce = recorded == 1
                recordedLedger = ledger
                floor = notBefore
            }
            guard let acknowledged else {
                throw IngestRefusal(kind: .unknownStore, message: "store \(storeId) is not registered at head office")
            }
            if nonce != nil && !recordedNonce {
                throw IngestRefusal(kind: .replayed, message: "this request was already received (nonce reused)")
            }
            let ledger = try LedgerBinding.resolve(
                storeId: storeId, recorded: recordedLedger, presented: batch.ledgerId, acknowledged: acknowledged)
            if ledger != recordedLedger {
                try await connection.query(
                    "UPDATE hq_stores SET ledger_id = \(ledger) WHERE id = \(storeId)", logger: logger)
            }
            let stored = try await Self.storedEntries(
                storeId: storeId, seqs: batch.entries.map(\.seq).filter { $0 <= acknowledged }, connection, logger)
            let plan = try IngestPlan.make(
                acknowledged: acknowledged, batch: batch.entries, stored: stored, receivedAt: now.milliseconds,
                notBefore: floor)
            let nextFloor = LedgerTimeFloor.after(plan, floor: floor)
            if plan.storeIsAhead {
                try await Self.rotateEpoch(now: now, onlyIfDue: true, becauseOf: storeId, connection, logger)
            }
            if !plan.newEntries.isEmpty {
                let deltas = plan.memberDeltas
                let added = plan.addedCards
                // Every card this batch touches, the cards that added cards join included, and a card of each
                // member this store added a card to that head office holds on another member (it needs a fresh
                // snapshot: its sales on that card count for the card's member), sorted.
                var losing: [String] = []
                var bindings = PostgresBindings()
                bindings.append(storeId)
                for try await card in try await connection.query(
                    PostgresQuery(unsafeSQL: CardConflictQueries.cardsOfMembersThatLostACard, binds: bindings),
                    logger: logger
                ).decode(String.self) {
                    losing.append(card)
                }
                let cards = Array(Set(deltas.map(\.card) + added.map(\.joins) + losing)).sorted()
                // One lock order everywhere (ingest and `cards block`): the cards' advisory locks in
                // sorted order, then their members by id, the change counter last. A card's lock is held
                // until commit, so a card first seen by two stores at once gets one member, never an orphan.
                try await Self.lockCards(cards, connection, logger)
                if !added.isEmpty {
                    // A card head office already holds on another member keeps it; the conflict is recorded.
                    let joining = plan.newEntries.filter { $0.joinsCard != nil }
                    try await connection.query(
                        """
                        INSERT INTO hq_card_conflicts (store_id, seq, card, joins_card, held_by_member, at_ms)
                        SELECT \(storeId), a.seq, a.card, a.joins, c.member_id, a.at
                        FROM UNNEST(\(joining.map(\.seq))::bigint[], \(joining.map(\.card))::text[],
                                    \(joining.map { $0.joinsCard ?? "" })::text[], \(joining.map(\.createdAtMilliseconds))::bigint[])
                             AS a(seq, card, joins, at)
                        JOIN hq_cards c ON c.card = a.card
                        WHERE c.member_id IS DISTINCT FROM (SELECT member_id FROM hq_cards WHERE card = a.joins)
                        ON CONFLICT DO NOTHING
                        """, logger: logger)
                    // A card added to an existing member joins that member (created first if head office has
                    // not seen it yet); a card head office already knows keeps its member. In the batch's order,
                    // one card at a time, as the SQLite driver does: a card added through a card added earlier in
                    // the same batch joins the same member (found by the chain simulation: one statement for all
                    // gave the second card, and the first, a member of their own).
                    for item in added {
                        try await Self.createMembers(forUnknownCards: [item.joins], now: now, connection, logger)
                        try await connection.query(
                            """
                            INSERT INTO hq_cards (card, member_id, blocked, version)
                            SELECT \(item.card), j.member_id, FALSE, 0 FROM hq_cards j
                            WHERE j.card = \(item.joins) AND NOT EXISTS (SELECT 1 FROM hq_cards WHERE card = \(item.card))
                            ON CONFLICT (card) DO NOTHING
                            """, logger: logger)
                    }
                }
                try await Self.createMembers(forUnknownCards: cards, now: now, connection, logger)
                try await connection.query(
                    """
                    SELECT m.id FROM hq_members m WHERE m.id IN (SELECT member_id FROM hq_cards WHERE card = ANY(\(cards)::text[]))
                    ORDER BY m.id FOR UPDATE
                    """, logger: logger)
                try await connection.query(
                    """
                    UPDATE hq_members m SET balance = m.balance + d.points, lifetime_spend_minor = m.lifetime_spend_minor + d.spend
                    FROM (
                        -- Summed per member: several cards of one member in a batch must all count (an
                        -- UPDATE ... FROM applies only one joined row per target row).
                        SELECT c.member_id, SUM(u.points)::bigint AS points, SUM(u.spend)::bigint AS spend
                        FROM UNNEST(\(deltas.map(\.card))::text[], \(deltas.map(\.points))::bigint[], \(deltas.map(\.spendMinor))::bigint[])
                             AS u(card, points, spend)
                        JOIN hq_cards c ON c.card = u.card GROUP BY c.member_id
                    ) AS d
                    WHERE m.id = d.member_id
                    """, logger: logger)
                let entries = plan.newEntries
                try await connection.query(
                    """
                    INSERT INTO hq_entries (store_id, seq, id, member_id, card, kind, points, amount_minor, currency, receipt,
                                            refers_to_seq, rule_version, reason, created_at_ms, received_at_ms, member_name, member_birthday,
                                            joins_card, referred_by, feedback_score, coupon_code, refers_to_store, sale_lines,
                                            returned_lines, stated_at_ms, earning_base, priced_tier, priced_birthday,
                                            points_before_caps)
                    SELECT \(storeId), e.seq, e.id, c.member_id, e.card, e.kind, e.points, e.amount, e.currency, e.receipt,
                           NULLIF(e.refers, 0), e.rule, NULLIF(e.reason, ''), e.created, \(now.milliseconds),
                           NULLIF(e.name, ''), NULLIF(e.birthday, ''), NULLIF(e.joins, ''), NULLIF(e.referrer, ''), NULLIF(e.feedback, 0)::integer,
                           NULLIF(e.coupon, ''), NULLIF(e.sold_at, ''), NULLIF(e.lines, ''), NULLIF(e.returned, ''),
                           NULLIF(e.stated, 0), NULLIF(e.base, -1), NULLIF(e.priced, ''), NULLIF(e.birthday_priced, -1)::integer,
                           NULLIF(e.before_caps, -1)
                    FROM UNNEST(\(entries.map(\.seq))::bigint[], \(entries.map(\.id))::text[], \(entries.map(\.card))::text[],
                                \(entries.map(\.kind))::text[], \(entries.map(\.points))::bigint[], \(entries.map(\.amountMinor))::bigint[],
                                \(entries.map(\.currency))::text[], \(entries.map(\.receipt))::text[],
                                \(entries.map { $0.refersToSeq ?? 0 })::bigint[], \(entries.map { Int64($0.ruleVersion) })::bigint[],
                                \(entries.map { $0.reason ?? "" })::text[], \(entries.map(\.createdAtMilliseconds))::bigint[],
                                \(entries.map { $0.memberName ?? "" })::text[], \(entries.map { $0.memberBirthday ?? "" })::text[],
                                \(entries.map { $0.joinsCard ?? "" })::text[], \(entries.map { $0.referredBy ?? "" })::text[],
                                \(entries.map { Int64($0.feedbackScore ?? 0) })::bigint[], \(entries.map { $0.couponCode ?? "" })::text[],
                                \(entries.map { $0.refersToStore ?? "" })::text[], \(entries.map { $0.linesText ?? "" })::text[],
                                \(entries.map { $0.returnedLinesText ?? "" })::text[],
                                \(entries.map { plan.statedAtMilliseconds[$0.seq] ?? 0 })::bigint[],
                                \(entries.map { $0.earningBase ?? -1 })::bigint[], \(entries.map { $0.pricedTier ?? "" })::text[],
                                \(entries.map { $0.pricedBirthday.map { $0 ? Int64(1) : 0 } ?? -1 })::bigint[],
                                \(entries.map { $0.pointsBeforeCaps ?? -1 })::bigint[])
                         AS e(seq, id, card, kind, points, amount, currency, receipt, refers, rule, reason, created, name, birthday, joins,
                              referrer, feedback, coupon, sold_at, lines, returned, stated, base, priced, birthday_priced,
                              before_caps)
                    JOIN hq_cards c ON c.card = e.card
                    """, logger: logger)
                let enrolments = plan.enrolments
                // A new member enrolled here on a card another store added to its member: one card, two people.
                for entry in enrolments {
                    var bindings = PostgresBindings()
                    bindings.append(storeId)
                    bindings.append(entry.seq)
                    bindings.append(entry.card)
                    bindings.append(entry.createdAtMilliseconds)
                    try await connection.query(
                        PostgresQuery(
                            unsafeSQL: CardConflictQueries.enrolledAfterAnotherStoreAdded(
                                store: "$1", seq: "$2", card: "$3", at: "$4"),
                            binds: bindings),
                        logger: logger)
                    try await connection.query(
                        PostgresQuery(
                            unsafeSQL: CardConflictQueries.enrolledOnAnotherMembersCard(
                                store: "$1::text", seq: "$2::bigint", card: "$3::text", at: "$4::bigint"),
                            binds: bindings),
                        logger: logger)
                }
                // An enrolment in conflict is another person's: their name and birthday change no member.
                var inConflict: Set<Int64> = []
                if !enrolments.isEmpty {
                    for try await seq in try await connection.query(
                        "SELECT seq FROM hq_card_conflicts WHERE store_id = \(storeId) AND seq = ANY(\(enrolments.map(\.seq))::bigint[])",
                        logger: logger
                    ).decode(Int64.self) {
                        inConflict.insert(seq)
                    }
                }
                // An enrolment in conflict enrols nobody: not the earliest enrolment, no referrer (found by attack:
                // a referral bonus was paid for another person's enrolment of a member's card); nor does an enrolment
                // of a card enrolled before (``EnrolmentReferral``).
                // One at a time in the order they happened (found by the chain simulation: one statement judged two
                // enrolments of one person together, so the later did not see the earlier and named a referrer;
                // and an UPDATE ... FROM applies one row per member).
                let enrolling = enrolments.filter { !inConflict.contains($0.seq) }
                    .sorted { ($0.createdAtMilliseconds, $0.seq) < ($1.createdAtMilliseconds, $1.seq) }
                for enrolment in enrolling {
                    // Enrolments: the member is known (balance 0 without sales), enrolled at the earliest store.
                    let (card, created, referrer) = (
                        enrolment.card, enrolment.createdAtMilliseconds, enrolment.referredBy ?? ""
                    )
                    try await connection.query(
                        """
                        UPDATE hq_members m SET enrolled_store = CASE WHEN m.enrolled_at_ms IS NULL OR p.created < m.enrolled_at_ms THEN \(storeId)
                                                  ELSE m.enrolled_store END,
                            enrolled_at_ms = LEAST(m.enrolled_at_ms, p.created),
                            referred_by_card = \(unescaped: EnrolmentReferral.referrer(
                                current: "m.referred_by_card", card: "p.card", at: "p.created", referrer: "p.referrer"))
                        FROM (SELECT \(card)::text AS card, \(created)::bigint AS created, \(referrer)::text AS referrer) AS p
                        JOIN hq_cards c ON c.card = p.card WHERE m.id = c.member_id
                        """, logger: logger)
                }
                // Enrolments and profile changes: the newest name and birthday win, whichever store syncs last.
                for change in plan.enrolments + plan.profileChanges
                where (change.memberName != nil || change.memberBirthday != nil) && !inConflict.contains(change.seq) {
                    var bindings = PostgresBindings()
                    bindings.append(change.memberName)
                    bindings.append(change.memberBirthday)
                    bindings.append(change.createdAtMilliseconds)
                    bindings.append(change.card)
                    try await connection.query(
                        PostgresQuery(
                            unsafeSQL: HeadOfficeSchema.newestProfile(
                                name: "$1::text", birthday: "$2::text", at: "$3::bigint",
                                member: "(SELECT member_id FROM hq_cards WHERE card = $4)"),
                            binds: bindings), logger: logger)
                }
                // A sale imported from the old system that the store's ledger now brings: the ledger's entry is
                // the fact, the imported copy of the receipt (sale and refunds) goes, so nothing counts twice.
                // Only the same member's (``ImportedSaleQueries/deleteSupersededSQLite``).
                let sold = entries.filter { $0.kind == "earn" }
                if !sold.isEmpty {
                    try await connection.query(
                        """
                        DELETE FROM hq_imported_sales s
                        USING UNNEST(\(sold.map(\.receipt))::text[], \(sold.map(\.card))::text[]) AS u(receipt, card)
                        JOIN hq_cards c ON c.card = u.card
                        WHERE s.store_id IN (\(storeId), \(MemberStores.store(ofLedger: storeId)))
                          AND s.receipt = u.receipt AND s.member_id = c.member_id
                        """,
                        logger: logger)
                }
                // Offline redemptions at several stores can overdraw a member: record it, never refuse it. Judged
                // by time (``StoreOverdrafts``): an entry taking points may overdraw a later redemption, any entry of
                // a member already overdrawn may settle one.
                let judged = try await connection.query(
                    """
                    SELECT DISTINCT c.member_id FROM hq_cards c JOIN hq_members m ON m.id = c.member_id
                    WHERE c.card = ANY(\(entries.map(\.card))::text[])
                      AND (c.card = ANY(\(entries.filter { $0.points < 0 }.map(\.card))::text[]) OR m.overdrawn)
                    """, logger: logger
                ).collect().map { try $0.decode(Int64.self) }
                if !judged.isEmpty {
                    var bindings = PostgresBindings()
                    bindings.append(judged)
                    let since = entries.map(\.createdAtMilliseconds).min() ?? Int64.min
                    for statement in StoreOverdrafts.judge(memberId: "= ANY($1::bigint[])", since: since) {
                        try await connection.query(PostgresQuery(unsafeSQL: statement, binds: bindings), logger: logger)
                    }
                }
                // Last, so the lock is held briefly: the counter row lock serialises the end of changing
                // transactions, so versions (pull cursors) follow commit order. One statement (data-changing
                // WITH parts always run to completion).
                try await connection.query(
                    """
                    WITH version AS (UPDATE hq_counter SET change_seq = change_seq + 1 WHERE id = 1 RETURNING change_seq),
                    members AS (
                        UPDATE hq_members m SET version = (SELECT change_seq FROM version) FROM hq_cards c
                        WHERE c.card = ANY(\(cards)::text[]) AND m.id = c.member_id
                    ),
                    cards AS (
                        UPDATE hq_cards SET version = (SELECT change_seq FROM version) WHERE card = ANY(\(cards)::text[]) AND version = 0
                    ),
                    known AS (
                        INSERT INTO hq_member_stores (store, member_id, version)
                        SELECT DISTINCT \(MemberStores.store(ofLedger: storeId)), c.member_id, (SELECT change_seq FROM version)
                        FROM hq_cards c WHERE c.card = ANY(\(cards)::text[])
                        ON CONFLICT (store, member_id) DO UPDATE SET version = EXCLUDED.version
                    )
                    UPDATE hq_stores SET acknowledged_seq = \(plan.acknowledgedAfter), reported_backlog = \(max(0, batch.backlog)),
                        last_contact_ms = \(now.milliseconds), points_total = points_total + \(plan.newPoints),
                        entries_not_before_ms = \(nextFloor)
                    WHERE id = \(storeId)
                    """, logger: logger)
            } else {
                try await connection.query(
                    """
                    UPDATE hq_stores SET acknowledged_seq = \(plan.acknowledgedAfter), reported_backlog = \(max(0, batch.backlog)),
                        last_contact_ms = \(now.milliseconds), points_total = points_total + \(plan.newPoints),
                        entries_not_before_ms = \(nextFloor)
                    WHERE id = \(storeId)
                    """,
                    logger: logger)
            }
            return PushResult(
                acknowledgedSeq: plan.acknowledgedAfter, accepted: plan.newEntries.count, duplicates: plan.duplicates,
                expectedSeq: plan.expectedSeq)
        }
    }

    /// The stored entries among `seqs`: exactly those, never a range (a batch repeating seq 1 and the
    /// last acknowledged seq must not load the store's whole history).
    static func storedEntries(
        storeId: String, seqs: [Int64], _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Int64: SyncEntry] {
        guard !seqs.isEmpty else { return [:] }
        var stored: [Int64: SyncEntry] = [:]
        let rows = try await connection.query(
            """
            SELECT seq, id, card, kind, points, amount_minor, currency, receipt, refers_to_seq, rule_version, reason,
                   COALESCE(stated_at_ms, created_at_ms), member_name, member_birthday, joins_card, referred_by, feedback_score,
                   coupon_code, refers_to_store, sale_lines, returned_lines, earning_base, priced_tier, priced_birthday::bigint,
                   points_before_caps
            FROM hq_entries WHERE store_id = \(storeId) AND seq = ANY(\(seqs)::bigint[])
            """, logger: logger)
        typealias Columns = (
            Int64, String, String, String, Int64, Int64, String, String, Int64?, Int, String?, Int64, String?, String?,
            String?,
            String?, Int?, String?, String?, String?, String?, Int64?, String?, Int64?, Int64?
        )
        for try await row in rows.decode(Columns.self) {
            stored[row.0] = SyncEntry(
                seq: row.0, id: row.1, card: row.2, kind: row.3, points: row.4, amountMinor: row.5, currency: row.6,
                receipt: row.7, refersToSeq: row.8, ruleVersion: row.9, reason: row.10, createdAtMilliseconds: row.11,
                memberName: row.12, memberBirthday: row.13, joinsCard: row.14, referredBy: row.15,
                feedbackScore: row.16,
                couponCode: row.17, refersToStore: row.18, lines: SyncEntry.decodedLines(row.19),
                returnedLines: SyncEntry.decodedLines(row.20))
            stored[row.0]?.earningBase = row.21
            stored[row.0]?.pricedTier = row.22
            stored[row.0]?.pricedBirthday = row.23.map { $0 == 1 }
            stored[row.0]?.pointsBeforeCaps = row.24
        }
        return stored
    }

    /// Test access to ``storedEntries(storeId:seqs:_:_:)``.
    func storedEntries(storeId: String, seqs: [Int64]) async throws -> [Int64: SyncEntry] {
        let logger = self.logger
        return try await client.withConnection {
            try await Self.storedEntries(storeId: storeId, seqs: seqs, $0, logger)
        }
    }

    public func epoch() async throws -> String {
        let logger = self.logger
        return try await client.withConnection { try await Self.epoch($0, logger) }
    }

    public func rotateEpoch(now: Date) async throws -> String {
        let logger = self.logger
        return try await transaction { connection in
            try await Self.rotateEpoch(now: now, onlyIfDue: false, connection, logger)
            return try await Self.epoch(connection, logger)
        }
    }

    static func epoch(_ connection: PostgresConnection, _ logger: Logger) async throws -> String {
        for try await epoch in try await connection.query("SELECT epoch FROM hq_identity WHERE id = 1", logger: logger)
            .decode(String.self)
        {
            return epoch
        }
        throw IngestRefusal(kind: .invalid, message: "head office's database has no epoch; run a current loyalty-hq")
    }

    static func rotateEpoch(
        now: Date, onlyIfDue: Bool, becauseOf storeId: String? = nil, _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        let dueBefore = onlyIfDue ? now.milliseconds - EpochPolicy.minimumMillisecondsBetweenRotations : Int64.max
        let actor = storeId.map { "store \($0)" }
        let detail = storeId.map(EpochPolicy.rotationByStore)
        try await connection.query(
            """
            WITH rotated AS (
                UPDATE hq_identity SET epoch = \(EpochPolicy.newEpoch()), rotated_at_ms = \(now.milliseconds)
                WHERE id = 1 AND rotated_at_ms < \(dueBefore) RETURNING id)
            INSERT INTO hq_audit (at_ms, actor, action, detail, reason)
            SELECT \(now.milliseconds), \(actor)::text, 'epoch rotate', \(detail)::text, NULL FROM rotated
            WHERE \(actor)::text IS NOT NULL
            """, logger: logger)
    }

    public func updates(
        storeId: String, since requestedCursor: Int64, storeAcknowledged: Int64?, scope: PullScope, now: Date
    ) async throws -> UpdatesPage {
        let logger = self.logger
        // A store mark beyond ours comes from a history head office no longer has (restored from a
        // backup): evidence from the store's own stream, so the whole chain starts a new epoch. A cursor
        // beyond the change counter alone is only this store's word: it pulls from zero, nobody else does.
        var rewound = false
        var cursorBeyond = false
        for try await (counter, acknowledged) in try await client.query(
            "SELECT change_seq, (SELECT acknowledged_seq FROM hq_stores WHERE id = \(storeId)) FROM hq_counter WHERE id = 1",
            logger: logger
        ).decode((Int64, Int64?).self) {
            rewound = (storeAcknowledged ?? 0) > (acknowledged ?? Int64.max)
            cursorBeyond = requestedCursor > counter
        }
        let cursor = cursorBeyond ? 0 : requestedCursor
        if rewound {
            try await transaction {
                try await Self.rotateEpoch(now: now, onlyIfDue: true, becauseOf: storeId, $0, logger)
            }
        }
        try await ageRollingFigures(now: now)
        return try await transaction { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            var acknowledged: Int64?
            for try await value in try await connection.query(
                "SELECT acknowledged_seq FROM hq_stores WHERE id = \(storeId)", logger: logger
            ).decode(Int64.self) {
                acknowledged = value
            }
            guard let acknowledged else {
                throw IngestRefusal(kind: .unknownStore, message: "store \(storeId) is not registered at head office")
            }
            let limit = UpdatesPage.maximumMembers
            let since = now.milliseconds - HeadOfficeProgram.rollingWindowMilliseconds
            let published = try await Self.programs(connection, logger)
            let program = HeadOfficeProgram.inForce(published, now: now)
            // Without a day cap: an empty window ($3 = $4), and no day in the snapshot.
            let today = ChainDayPoints.today(program: program, now: now)
            // The page: members changed since the cursor, one version never split across pages (the cursor is one).
            // With `store` scope, only the members its store has served (``PullScope``).
            func feed(_ sql: String, _ numbers: Int64...) async throws -> [(id: Int64, version: Int64)] {
                var bindings = PostgresBindings()
                bindings.append(MemberStores.store(ofLedger: storeId))
                for number in numbers { bindings.append(number) }
                var rows: [(id: Int64, version: Int64)] = []
                for try await row in try await connection.query(
                    PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger
                )
                .decode((Int64, Int64).self) {
                    rows.append(row)
                }
                return rows
            }
            var keys = try await feed(
                MemberStores.page(scope, store: "$1::text", cursor: "$2::bigint", limit: "$3::bigint"), cursor,
                Int64(limit))
            var more = false
            if keys.count == limit, let last = keys.last {
                keys += try await feed(
                    MemberStores.restOfVersion(
                        scope, store: "$1::text", version: "$2::bigint", afterMember: "$3::bigint"),
                    last.version, last.id)
                // (PostgresNIO states each binding's type: a placeholder the chain's query does not use is fine.)
                more = try await !feed(
                    "SELECT 1::bigint, 1::bigint FROM (\(MemberStores.anyAfter(scope, store: "$1::text", version: "$2::bigint"))) AS later",
                    last.version
                ).isEmpty
            }
            // Snapshots an earlier pull computed at the same version; the rest computed here, once for every till.
            let cacheKeys = keys.map {
                SnapshotCache.Key(
                    memberId: $0.id, version: $0.version, dayStart: today?.start ?? 0, programVersion: program.version)
            }
            var values = snapshotCache.lookup(cacheKeys, now: now.milliseconds)
            let missing = cacheKeys.filter { values[$0] == nil }
            if !missing.isEmpty {
                var bindings = PostgresBindings()
                bindings.append(since)
                bindings.append(missing.map(\.memberId))
                bindings.append(today?.start ?? 0)
                bindings.append(today?.end ?? 0)
                let computed = try await Self.snapshots(
                    PostgresQuery(
                        unsafeSQL: Self.snapshotSelect(dayCapped: today != nil) + " WHERE m.id = ANY($2::bigint[])",
                        binds: bindings),
                    program: program, today: today, connection, logger)
                let coupons = try await Self.couponStates(memberIds: missing.map(\.memberId), connection, logger)
                var fresh: [SnapshotCache.Key: SnapshotCache.Value] = [:]
                for key in missing {
                    guard var value = computed[key.memberId] else { continue }
                    value.snapshot.coupons = coupons[key.memberId]
                    value.computedAtMilliseconds = now.milliseconds
                    fresh[key] = value
                }
                snapshotCache.store(fresh, now: now.milliseconds)
                values.merge(fresh) { _, new in new }
            }
            let page = cacheKeys.compactMap { key in
                values[key].map {
                    (SnapshotCache.snapshot($0, includesStoreSeq: acknowledged, cursor: cursor), key.version)
                }
            }
            var newCursor = keys.last?.version ?? cursor
            let ceiling = more ? newCursor : Int64.max
            // Blocked cards, and cards whose block was lifted since the cursor (only cards once blocked).
            var blocked: [String] = []
            var unblocked: [String] = []
            for try await (card, version, isBlocked) in try await connection.query(
                """
                SELECT card, version, blocked FROM hq_cards
                WHERE (blocked OR unblocked_at_ms IS NOT NULL) AND version > \(cursor) AND version <= \(ceiling)
                ORDER BY version
                """,
                logger: logger
            ).decode((String, Int64, Bool).self) {
                if isBlocked { blocked.append(card) } else { unblocked.append(card) }
                if !more { newCursor = max(newCursor, version) }
            }
            var updates = UpdatesPage(
                members: page.map(\.0), blockedCards: blocked, unblockedCards: unblocked.isEmpty ? nil : unblocked,
                cursor: newCursor, more: more,
                acknowledgedSeq: acknowledged,
                epoch: try await Self.epoch(connection, logger),
                memberRanges: try await Self.memberRanges(connection, logger),
                programs: PublishedProgram.releases(published, now: now))
            // The store's other tills' marks, read in the snapshots' own transaction: they hold exactly those entries.
            if let prefix = LedgerPrefixQueries.otherTillsPrefix(of: storeId) {
                var bindings = PostgresBindings()
                bindings.append(prefix)
                var marks: [String: Int64] = [:]
                for try await (id, mark) in try await connection.query(
                    PostgresQuery(unsafeSQL: LedgerPrefixQueries.marks(prefix: "$1::text"), binds: bindings),
                    logger: logger
                ).decode((String, Int64).self) where id != storeId {
                    marks[id] = mark
                }
                updates.storeTillMarks = marks
            }
            return updates
        }
    }

    public func membersBelowZero() async throws -> [MemberBelowZero] {
        var result: [MemberBelowZero] = []
        for try await (card, balance) in try await client.query(
            PostgresQuery(unsafeSQL: MemberBelowZero.sql), logger: logger
        )
        .decode((String, Int64).self) {
            result.append(MemberBelowZero(card: card, balance: balance))
        }
        return result
    }

    public func stores() async throws -> [StoreSummary] {
        var result: [StoreSummary] = []
        for try await (id, acknowledged, contact, backlog) in try await client.query(
            "SELECT id, acknowledged_seq, last_contact_ms, reported_backlog FROM hq_stores ORDER BY id", logger: logger
        ).decode((String, Int64, Int64?, Int64).self) {
            result.append(
                StoreSummary(
                    storeId: id, acknowledgedSeq: acknowledged, lastContactMilliseconds: contact,
                    reportedBacklog: backlog))
        }
        return result
    }

    public func member(card: String, now: Date) async throws -> HeadOfficeMember? {
        var found: (Int64, Int64, Bool, Bool, String?, String?, String?, Int64?, String?)?
        for try await row in try await client.query(
            """
            SELECT m.id, m.balance, m.overdrawn, c.blocked, m.name, m.birthday, m.enrolled_store, m.enrolled_at_ms, m.reviewed_tier
            FROM hq_cards c JOIN hq_members m ON m.id = c.member_id WHERE c.card = \(card)
            """,
            logger: logger
        ).decode((Int64, Int64, Bool, Bool, String?, String?, String?, Int64?, String?).self) { found = row }
        guard let (memberId, balance, overdrawn, blocked, name, birthday, enrolledStore, enrolledAt, reviewed) = found
        else { return nil }
        let program = HeadOfficeProgram.inForce(try await programs(), now: now)
        let since = now.milliseconds - HeadOfficeProgram.rollingWindowMilliseconds
        var progress = TierProgress(spendMinorUnits: 0, pointsEarned: 0)
        var bindings = PostgresBindings()
        bindings.append(memberId)
        bindings.append(since)
        for try await (spend, earned) in try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT COALESCE(SUM(amount_minor), 0)::bigint, COALESCE(SUM(\(TierBasis.pointsEarnedSQL)), 0)::bigint
                    FROM hq_tier_rows WHERE member_id = $1 AND created_at_ms > $2
                    """, binds: bindings), logger: logger
        ).decode((Int64, Int64).self) { progress = TierProgress(spendMinorUnits: spend, pointsEarned: earned) }
        var shares: [HeadOfficeMember.StoreShare] = []
        var memberBinding = PostgresBindings()
        memberBinding.append(memberId)
        for try await (store, points, spent, count) in try await client.query(
            PostgresQuery(unsafeSQL: MemberLedgerTotals.perStore(member: "$1"), binds: memberBinding), logger: logger
        ).decode((String, Int64, Int64, Int64).self) {
            shares.append(.init(storeId: store, points: points, spendMinor: spent, entries: count))
        }
        var cards: [String] = []
        for try await value in try await client.query(
            "SELECT card FROM hq_cards WHERE member_id = \(memberId) ORDER BY card", logger: logger
        ).decode(String.self) {
            cards.append(value)
        }
        return HeadOfficeMember(
            card: card, cards: cards, balance: balance,
            tier: HeadOfficeProgram.tier(progress: progress, reviewed: reviewed, program: program),
            rollingSpendMinor: progress.spendMinorUnits, rollingPointsEarned: progress.pointsEarned,
            overdrawn: overdrawn, blocked: blocked, stores: shares, name: name, birthday: birthday,
            enrolledStore: enrolledStore,
            enrolledAtMilliseconds: enrolledAt, memberId: memberId)
    }

    public func overdrafts() async throws -> [Overdraft] {
        var result: [Overdraft] = []
        for try await (card, store, seq, balance, at) in try await client.query(
            """
            SELECT m.first_card, o.store_id, o.seq, o.balance_after, o.at_ms FROM hq_overdrafts o
            JOIN hq_members m ON m.id = o.member_id
            ORDER BY o.at_ms, o.store_id, o.seq
            """, logger: logger
        ).decode((String, String, Int64, Int64, Int64).self) {
            result.append(
                Overdraft(
                    card: card, storeId: store, seq: seq, receipt: "", points: 0, balanceAfter: balance,
                    atMilliseconds: at))
        }
        guard !result.isEmpty else { return result }
        // The redemptions' receipts and points, from the months of their times only: joined by store and sequence,
        // which carry no month, PostgreSQL planned every month's table (5 ms at 12 months, 281 ms at 613 with no
        // overdraft at all; found by the growth benchmark).
        var bindings = PostgresBindings()
        bindings.append(result.map(\.atMilliseconds))
        bindings.append(result.map(\.storeId))
        bindings.append(result.map(\.seq))
        var redemptions: [String: (receipt: String, points: Int64)] = [:]
        for try await (store, seq, receipt, points) in try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT e.store_id, e.seq, e.receipt, e.points FROM hq_entries e
                    JOIN unnest($2::text[], $3::bigint[]) AS o(store_id, seq) ON e.store_id = o.store_id AND e.seq = o.seq
                    WHERE e.created_at_ms = ANY($1::bigint[])
                    """, binds: bindings), logger: logger
        ).decode((String, Int64, String, Int64).self) {
            redemptions["\(store):\(seq)"] = (receipt, points)
        }
        return result.compactMap { overdraft in
            // Every overdraft is of an entry held (entries are never deleted); the join above keeps none without one.
            guard let redemption = redemptions["\(overdraft.storeId):\(overdraft.seq)"] else { return nil }
            var listed = overdraft
            listed.receipt = redemption.receipt
            listed.points = redemption.points
            return listed
        }
    }

    public func blockCard(_ card: String, force: Bool, now: Date) async throws -> Bool {
        try HeadOfficeCards.refusePaymentCard(card, context: "cards block")
        let logger = self.logger
        return try await transaction { connection in
            // The same lock order as ingest: the card first, the change counter last.
            try await Self.lockCards([card], connection, logger)
            let blocked = try await Self.blockedState(of: card, connection, logger)
            if blocked == true { return false }
            if blocked == nil && !force { throw HeadOfficeCards.unknownToBlock(card) }
            try await connection.query(
                """
                WITH created AS (
                    INSERT INTO hq_members (first_card, balance, lifetime_spend_minor, version, created_at_ms)
                    SELECT \(card), 0, 0, 0, \(now.milliseconds) WHERE NOT EXISTS (SELECT 1 FROM hq_cards WHERE card = \(card))
                    RETURNING id
                )
                INSERT INTO hq_cards (card, member_id, blocked, version) SELECT \(card), id, TRUE, 0 FROM created
                """, logger: logger)
            try await connection.query(
                """
                WITH version AS (UPDATE hq_counter SET change_seq = change_seq + 1 WHERE id = 1 RETURNING change_seq),
                members AS (
                    UPDATE hq_members m SET version = (SELECT change_seq FROM version) FROM hq_cards c
                    WHERE c.card = \(card) AND m.id = c.member_id AND m.version = 0
                )
                UPDATE hq_cards SET blocked = TRUE, version = (SELECT change_seq FROM version) WHERE card = \(card)
                """, logger: logger)
            return true
        }
    }

    /// Whether `card` is blocked; nil when head office has no such card.
    private static func blockedState(
        of card: String, _ connection: PostgresConnection, _ logger: Logger
    ) async throws
        -> Bool?
    {
        var blocked: Bool?
        for try await value in try await connection.query(
            "SELECT blocked FROM hq_cards WHERE card = \(card)", logger: logger
        ).decode(Bool.self) {
            blocked = value
        }
        return blocked
    }

    public func unblockCard(_ card: String, now: Date) async throws {
        let logger = self.logger
        try await transaction { connection in
            try await Self.lockCards([card], connection, logger)
            let blocked = try await Self.blockedState(of: card, connection, logger)
            guard let blocked else { throw HeadOfficeCards.unknown(card) }
            guard blocked else { throw HeadOfficeCards.notBlocked(card) }
            try await connection.query(
                """
                WITH version AS (UPDATE hq_counter SET change_seq = change_seq + 1 WHERE id = 1 RETURNING change_seq)
                UPDATE hq_cards SET blocked = FALSE, unblocked_at_ms = \(now.milliseconds),
                    version = (SELECT change_seq FROM version) WHERE card = \(card)
                """, logger: logger)
        }
    }

    public func replaceCard(_ old: String, with new: String, actor: String, reason: String?, now: Date) async throws {
        try HeadOfficeCards.refusePaymentCard(new, context: "cards replace")
        let logger = self.logger
        try await transaction { connection in
            // The lock order of ingest and blocks: the cards first, the change counter last.
            try await Self.lockCards([old, new], connection, logger)
            var memberId: Int64?
            var newTaken = false
            for try await (card, member) in try await connection.query(
                "SELECT card, member_id FROM hq_cards WHERE card = ANY(\([old, new])::text[])", logger: logger
            ).decode((String, Int64).self) {
                if card == old { memberId = member } else { newTaken = true }
            }
            guard let memberId else { throw HeadOfficeCards.unknown(old) }
            if newTaken { throw HeadOfficeCards.inUse(new) }
            try await connection.query(
                "INSERT INTO hq_cards (card, member_id, blocked, version, replaces_card) VALUES (\(new), \(memberId), FALSE, 0, \(old))",
                logger: logger)
            try await connection.query("SELECT id FROM hq_members WHERE id = \(memberId) FOR UPDATE", logger: logger)
            try await connection.query(
                """
                WITH version AS (UPDATE hq_counter SET change_seq = change_seq + 1 WHERE id = 1 RETURNING change_seq),
                member AS (UPDATE hq_members SET version = (SELECT change_seq FROM version) WHERE id = \(memberId)),
                replaced AS (
                    UPDATE hq_cards SET blocked = TRUE, version = (SELECT change_seq FROM version) WHERE card = \(old)
                )
                UPDATE hq_cards SET version = (SELECT change_seq FROM version) WHERE card = \(new)
                """, logger: logger)
            try await connection.query(
                """
                INSERT INTO hq_audit (at_ms, actor, action, detail, reason)
                VALUES (\(now.milliseconds), \(actor), 'cards replace', \("card \(old) replaced by \(new) (member \(memberId))"), \(reason))
                """, logger: logger)
        }
    }

    public func mergeMembers(keep: String, other: String, actor: String, reason: String?, now: Date) async throws {
        let logger = self.logger
        try await transaction { connection in
            // The lock order of ingest: the cards of both members, then the members by id, the counter last.
            var cardsOfBoth: [String] = []
            for try await card in try await connection.query(
                """
                SELECT card FROM hq_cards WHERE member_id IN (SELECT member_id FROM hq_cards WHERE card = ANY(\([keep, other])::text[]))
                """, logger: logger
            ).decode(String.self) { cardsOfBoth.append(card) }
            try await Self.lockCards(Array(Set(cardsOfBoth + [keep, other])).sorted(), connection, logger)
            var members: [String: Int64] = [:]
            for try await (card, member) in try await connection.query(
                "SELECT card, member_id FROM hq_cards WHERE card = ANY(\([keep, other])::text[])", logger: logger
            ).decode((String, Int64).self) { members[card] = member }
            guard let kept = members[keep] else { throw HeadOfficeCards.unknown(keep) }
            guard let merged = members[other] else { throw HeadOfficeCards.unknown(other) }
            guard kept != merged else { throw HeadOfficeCards.sameMember() }
            try await connection.query(
                "SELECT id FROM hq_members WHERE id IN (\(kept), \(merged)) ORDER BY id FOR UPDATE", logger: logger)
            try await connection.query(
                "UPDATE hq_entries SET member_id = \(kept) WHERE member_id = \(merged)", logger: logger)
            try await connection.query(
                "UPDATE hq_imported_sales SET member_id = \(kept) WHERE member_id = \(merged)", logger: logger)
            var keptMember = PostgresBindings()
            keptMember.append(kept)
            try await connection.query(
                PostgresQuery(
                    unsafeSQL: ImportedSaleQueries.deleteSuperseded(ofMember: "$1::bigint"), binds: keptMember),
                logger: logger)
            try await connection.query(
                "UPDATE hq_overdrafts SET member_id = \(kept) WHERE member_id = \(merged)", logger: logger)
            try await connection.query(
                "UPDATE hq_issued SET member_id = \(kept) WHERE member_id = \(merged)", logger: logger)
            try await connection.query(
                "UPDATE hq_issued_coupons SET member_id = \(kept) WHERE member_id = \(merged)", logger: logger)
            try await connection.query(
                "UPDATE hq_cards SET member_id = \(kept), merged_at_ms = \(now.milliseconds) WHERE member_id = \(merged)",
                logger: logger)
            try await connection.query(
                """
                UPDATE hq_members k SET balance = k.balance + o.balance, lifetime_spend_minor = k.lifetime_spend_minor + o.lifetime_spend_minor,
                    overdrawn = k.overdrawn OR o.overdrawn, name = COALESCE(k.name, o.name), birthday = COALESCE(k.birthday, o.birthday),
                    enrolled_store = COALESCE(k.enrolled_store, o.enrolled_store), enrolled_at_ms = LEAST(k.enrolled_at_ms, o.enrolled_at_ms),
                    referred_by_card = COALESCE(k.referred_by_card, o.referred_by_card)
                FROM hq_members o WHERE k.id = \(kept) AND o.id = \(merged)
                """, logger: logger)
            // Each overdraft judged again on the whole member's entries (found by attack: one the other record's
            // earlier sale half covered kept its balance until the member's next sale arrived).
            for statement in StoreOverdrafts.judge(memberId: "= $1::bigint", since: Int64.min) {
                try await connection.query(PostgresQuery(unsafeSQL: statement, binds: keptMember), logger: logger)
            }
            try await connection.query("DELETE FROM hq_members WHERE id = \(merged)", logger: logger)
            try await connection.query(
                """
                WITH version AS (UPDATE hq_counter SET change_seq = change_seq + 1 WHERE id = 1 RETURNING change_seq),
                member AS (UPDATE hq_members SET version = (SELECT change_seq FROM version) WHERE id = \(kept)),
                -- Sent again with the member (found by attack: tills that had the merged record's entries kept them there).
                issued AS (UPDATE hq_issued SET version = (SELECT change_seq FROM version) WHERE member_id = \(kept))
                UPDATE hq_cards SET version = (SELECT change_seq FROM version) WHERE member_id = \(kept)
                """, logger: logger)
            // The stores that served either record pull the one kept, at its new version (after the counter, as
            // every change of the stores' rows: one lock order).
            var moving = PostgresBindings()
            moving.append(merged)
            moving.append(kept)
            try await connection.query(
                PostgresQuery(unsafeSQL: MemberStores.move(merged: "$1::bigint", kept: "$2::bigint"), binds: moving),
                logger: logger)
            try await connection.query(
                PostgresQuery(unsafeSQL: MemberStores.forget(member: "$1::bigint"), binds: moving), logger: logger)
            try await connection.query(
                """
                INSERT INTO hq_audit (at_ms, actor, action, detail, reason)
                VALUES (\(now.milliseconds), \(actor), 'members merge',
                        \("member \(merged) (card \(other)) merged into member \(kept) (card \(keep))"), \(reason))
                """, logger: logger)
        }
    }

    public func setMemberRanges(_ ranges: [String]?, actor: String, now: Date) async throws {
        let logger = self.logger
        try await transaction { connection in
            if let value = MemberRangeSetting.encode(ranges) {
                try await connection.query(
                    """
                    INSERT INTO hq_settings (key, value) VALUES ('member_ranges', \(value))
                    ON CONFLICT (key) DO UPDATE SET value = excluded.value
                    """, logger: logger)
            } else {
                try await connection.query("DELETE FROM hq_settings WHERE key = 'member_ranges'", logger: logger)
            }
            try await connection.query(
                """
                INSERT INTO hq_audit (at_ms, actor, action, detail, reason)
                VALUES (\(now.milliseconds), \(actor), 'member-ranges set', \(MemberRangeSetting.encode(ranges) ?? "(cleared)"), NULL)
                """, logger: logger)
        }
    }

    public func memberRanges() async throws -> [String]? {
        let logger = self.logger
        return try await client.withConnection { try await Self.memberRanges($0, logger) }
    }

    static func memberRanges(_ connection: PostgresConnection, _ logger: Logger) async throws -> [String]? {
        for try await value in try await connection.query(
            "SELECT value FROM hq_settings WHERE key = 'member_ranges'", logger: logger
        ).decode(String.self) {
            return MemberRangeSetting.decode(value)
        }
        return nil
    }

    public func memberList() async throws -> [MemberSummary] {
        var result: [MemberSummary] = []
        for try await (card, name, birthday, store, at, balance, purchases) in try await client.query(
            PostgresQuery(unsafeSQL: MemberListQuery.sql), logger: logger
        ).decode((String, String?, String?, String?, Int64?, Int64, Int64).self) {
            result.append(
                MemberSummary(
                    card: card, name: name, birthday: birthday, enrolledStore: store, enrolledAtMilliseconds: at,
                    balance: balance,
                    purchases: purchases))
        }
        return result
    }

    public func auditTrail() async throws -> [AuditRecord] {
        var records: [AuditRecord] = []
        for try await (at, actor, action, detail, reason) in try await client.query(
            "SELECT at_ms, actor, action, detail, reason FROM hq_audit ORDER BY id", logger: logger
        ).decode((Int64, String, String, String, String?).self) {
            records.append(
                AuditRecord(atMilliseconds: at, actor: actor, action: action, detail: detail, reason: reason))
        }
        return records
    }

    /// A new member (balance 0, version 0 until the batch's counter bump) for each card head office
    /// has not seen. The caller holds the cards' advisory locks, so no card gets two members.
    static func createMembers(
        forUnknownCards cards: [String], now: Date, _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        try await connection.query(
            """
            WITH new_cards AS (
                SELECT c FROM UNNEST(\(cards)::text[]) AS c WHERE NOT EXISTS (SELECT 1 FROM hq_cards WHERE card = c)
            ), created AS (
                INSERT INTO hq_members (first_card, balance, lifetime_spend_minor, version, created_at_ms)
                SELECT c, 0, 0, 0, \(now.milliseconds) FROM new_cards ORDER BY c RETURNING id, first_card
            )
            INSERT INTO hq_cards (card, member_id, blocked, version) SELECT first_card, id, FALSE, 0 FROM created
            """, logger: logger)
    }

    /// Takes each card's transaction-scoped advisory lock, in one global order (by lock key).
    static func lockCards(_ cards: [String], _ connection: PostgresConnection, _ logger: Logger) async throws {
        guard !cards.isEmpty else { return }
        try await connection.query(
            """
            SELECT pg_advisory_xact_lock(\(Self.cardLockNamespace), k)
            FROM (SELECT DISTINCT hashtext(c) AS k FROM UNNEST(\(cards)::text[]) AS c ORDER BY k) AS keys
            """, logger: logger)
    }

    /// The first key of the per-card advisory locks (the migrator uses another).
    static let cardLockNamespace: Int32 = 7_318_002

    public func totals() async throws -> [StoreTotal] {
        var result: [StoreTotal] = []
        for try await (store, count, points) in try await client.query(
            PostgresQuery(unsafeSQL: HeadOfficeSchema.storeTotals), logger: logger
        ).decode((String, Int64, Int64).self) {
            result.append(StoreTotal(storeId: store, entries: count, points: points))
        }
        return result
    }
}
