public import Foundation
import GRDB
public import LoyaltyCore
public import SyncProtocol

extension SQLiteHeadOfficeStore {
    public func issue(_ entries: [IssuedEntryRequest], actor: String, now: Date) async throws -> Int {
        guard !entries.isEmpty else { return 0 }
        return try await pool.write { db in
            try db.execute(sql: "UPDATE hq_counter SET change_seq = change_seq + 1 WHERE id = 1")
            let version = try Int64.fetchOne(db, sql: "SELECT change_seq FROM hq_counter WHERE id = 1")!
            var written = 0
            var judged: Set<Int64> = []
            for entry in entries {
                try db.execute(
                    sql: """
                        INSERT INTO hq_issued (id, member_id, card, kind, points, reason, idempotency_key, created_at_ms,
                                               issued_at_ms, issued_by, version, counts_at_ms)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING
                        """,
                    arguments: [
                        MachineToken.uuid(), entry.memberId, entry.card, entry.kind.rawValue, entry.points,
                        entry.reason,
                        entry.idempotencyKey, entry.createdAtMilliseconds, now.milliseconds, actor, version,
                        entry.countsAtMilliseconds,
                    ])
                guard db.changesCount > 0 else { continue }
                written += 1
                if StoreOverdrafts.judgesAgain(entry) { judged.insert(entry.memberId) }
                try db.execute(
                    sql: "UPDATE hq_members SET balance = balance + ?, version = ? WHERE id = ?",
                    arguments: [entry.points, version, entry.memberId])
            }
            if !judged.isEmpty {
                let since = StoreOverdrafts.judgedSince(entries)
                let members = String(decoding: try JSONEncoder().encode(judged.sorted()), as: UTF8.self)
                for statement in StoreOverdrafts.judge(memberId: "IN (SELECT value FROM json_each(?1))", since: since) {
                    try db.execute(sql: statement, arguments: [members])
                }
            }
            return written
        }
    }

    public func pointHistories(cards: [String], expiredOnly: Bool) async throws -> [MemberPointHistory] {
        let members = """
            IN (SELECT c.member_id FROM hq_cards c WHERE c.card IN (SELECT value FROM json_each(?))
                AND (\(expiredOnly ? "FALSE" : "TRUE")
                     OR EXISTS (SELECT 1 FROM hq_issued i WHERE i.member_id = c.member_id AND i.kind = 'expire')))
            """
        let list = try Self.cardList(cards)
        return try await pool.read { db in
            var histories: [MemberPointHistory] = []
            let sql = IssuedEntryQueries.pointHistory(members: members)
            for row in try Row.fetchAll(db, sql: sql, arguments: [list, list]) {
                let memberId: Int64 = row[0]
                if histories.last?.memberId != memberId {
                    histories.append(MemberPointHistory(memberId: memberId, card: row[1], events: []))
                }
                guard let kind = EntryKind(rawValue: row[3]) else { continue }
                histories[histories.count - 1].events.append(
                    PointEvent(key: row[2], kind: kind, points: row[4], atMilliseconds: row[5], refersTo: row[6]))
            }
            return histories
        }
    }

    public func withdrawOverdrafts(memberId: Int64, entries: [String]) async throws {
        let list = String(decoding: try JSONEncoder().encode(entries), as: UTF8.self)
        try await pool.write { db in
            try db.execute(
                sql: """
                    DELETE FROM hq_overdrafts WHERE member_id = ? AND store_id || ':' || seq IN (SELECT value FROM json_each(?))
                    """,
                arguments: [memberId, list])
            try db.execute(
                sql: """
                    UPDATE hq_members SET overdrawn = EXISTS (SELECT 1 FROM hq_overdrafts o WHERE o.member_id = hq_members.id)
                    WHERE id = ?
                    """,
                arguments: [memberId])
        }
    }

    public func coupons(cards: [String]) async throws -> [Int64: [CouponState]] {
        let (members, list) = (Self.membersOfCards, try Self.cardList(cards))
        return try await pool.read { db in
            var result: [Int64: [CouponState]] = [:]
            for row in try Row.fetchAll(db, sql: IssuedEntryQueries.couponStates(members: members), arguments: [list]) {
                guard
                    let state = IssuedEntryQueries.couponState(
                        code: row[1], voided: row[2] as Int64 == 1, uses: row[3], ruleVersion: row[4], issuedAt: row[5])
                else { continue }
                result[row[0], default: []].append(state)
            }
            return result
        }
    }

    public func withdrawCoupons(
        _ coupons: [(memberId: Int64, code: String)], reason: String, actor: String, now: Date
    ) async throws -> Int {
        guard !coupons.isEmpty else { return 0 }
        return try await pool.write { db in
            try db.execute(sql: "UPDATE hq_counter SET change_seq = change_seq + 1 WHERE id = 1")
            let version = try Int64.fetchOne(db, sql: "SELECT change_seq FROM hq_counter WHERE id = 1")!
            var written = 0
            for coupon in coupons {
                try db.execute(
                    sql: """
                        INSERT INTO hq_coupon_withdrawals (coupon_code, member_id, reason, at_ms, withdrawn_by)
                        VALUES (?, ?, ?, ?, ?) ON CONFLICT (coupon_code) DO NOTHING
                        """,
                    arguments: [coupon.code, coupon.memberId, reason, now.milliseconds, actor])
                guard db.changesCount > 0 else { continue }
                written += 1
                try db.execute(
                    sql: "UPDATE hq_members SET version = ? WHERE id = ?", arguments: [version, coupon.memberId])
                try db.execute(
                    sql:
                        "INSERT INTO hq_audit (at_ms, actor, action, detail, reason) VALUES (?, ?, 'coupon withdrawn', ?, ?)",
                    arguments: [now.milliseconds, actor, "coupon \(coupon.code) (member \(coupon.memberId))", reason])
            }
            return written
        }
    }

    public func issuedEntry(idempotencyKey: String) async throws -> IssuedEntryRequest? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: IssuedEntryQueries.byKey, arguments: [idempotencyKey]).map {
                IssuedEntryRequest(
                    memberId: $0[0], card: $0[1], kind: EntryKind(rawValue: $0[2]) ?? .adjust, points: $0[3],
                    reason: $0[4],
                    idempotencyKey: idempotencyKey, createdAtMilliseconds: $0[5])
            }
        }
    }

    public func pendingReferrals() async throws -> [PendingReferral] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: IssuedEntryQueries.pendingReferrals).map {
                PendingReferral(memberId: $0[0], card: $0[1], referrerMemberId: $0[2], referrerCard: $0[3])
            }
        }
    }

    public func visitFacts(cards: [String]) async throws -> [MemberVisitFacts] {
        let (members, list) = (Self.membersOfCards, try Self.cardList(cards))
        return try await pool.read { db in
            var facts: [Int64: MemberVisitFacts] = [:]
            for row in try Row.fetchAll(db, sql: EarlyVisitCouponQueries.members(members: members), arguments: [list]) {
                facts[row[0]] = MemberVisitFacts(memberId: row[0], firstCard: row[1], enrolledAtMilliseconds: row[2])
            }
            for row in try Row.fetchAll(db, sql: EarlyVisitCouponQueries.sales(members: members), arguments: [list]) {
                facts[row[0]]?.sales.append(
                    .init(
                        atMilliseconds: row[1], ruleVersion: row[2], key: "\(row[3] as String):\(row[4] as Int64)",
                        fullyRefunded: row[5] as Int64 == 1))
            }
            for row in try Row.fetchAll(db, sql: EarlyVisitCouponQueries.codes(members: members), arguments: [list]) {
                facts[row[0]]?.codes.insert(row[1])
            }
            for row in try Row.fetchAll(
                db, sql: EarlyVisitCouponQueries.openIssued(members: members), arguments: [list])
            {
                facts[row[0]]?.openIssued.append((row[1], row[2]))
            }
            return Array(facts.values)
        }
    }

    public func issueCoupons(_ coupons: [HeadOfficeCouponIssue], actor: String, now: Date) async throws -> Int {
        guard !coupons.isEmpty else { return 0 }
        return try await pool.write { db in
            try db.execute(sql: "UPDATE hq_counter SET change_seq = change_seq + 1 WHERE id = 1")
            let version = try Int64.fetchOne(db, sql: "SELECT change_seq FROM hq_counter WHERE id = 1")!
            var written = 0
            for coupon in coupons {
                try db.execute(
                    sql: """
                        INSERT INTO hq_issued_coupons (coupon_code, member_id, rule_version, issued_at_ms, reason, issued_by,
                                                       written_at_ms, sale_store, sale_seq)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (coupon_code) DO NOTHING
                        """,
                    arguments: [
                        coupon.code, coupon.memberId, coupon.ruleVersion, coupon.issuedAtMilliseconds, coupon.reason,
                        actor,
                        now.milliseconds, coupon.saleStore, coupon.saleSeq,
                    ])
                guard db.changesCount > 0 else { continue }
                written += 1
                try db.execute(
                    sql: "UPDATE hq_members SET version = ? WHERE id = ?", arguments: [version, coupon.memberId])
                try db.execute(
                    sql:
                        "INSERT INTO hq_audit (at_ms, actor, action, detail, reason) VALUES (?, ?, 'coupon issued', ?, ?)",
                    arguments: [
                        now.milliseconds, actor, "coupon \(coupon.code) (member \(coupon.memberId))", coupon.reason,
                    ])
            }
            return written
        }
    }

    public func couponDoubleUses() async throws -> [CouponUse] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: IssuedEntryQueries.couponDoubleUses).map {
                CouponUse(
                    code: $0[0], card: $0[1], storeId: $0[2], receipt: $0[3], atMilliseconds: $0[4], problem: $0[5])
            }
        }
    }

    /// The member's coupons as head office knows them.
    static func couponStates(memberId: Int64, _ db: Database) throws -> [CouponState]? {
        let states = try Row.fetchAll(db, sql: IssuedEntryQueries.couponStates(members: "= ?1"), arguments: [memberId])
            .compactMap {
                IssuedEntryQueries.couponState(
                    code: $0[1], voided: $0[2] as Int64 == 1, uses: $0[3], ruleVersion: $0[4], issuedAt: $0[5])
            }
        return states.isEmpty ? nil : states
    }

    /// One member's snapshot as every store sees it at this version, without the store's parts (its mark, and
    /// which of head office's own entries are newer than its cursor: ``SnapshotCache/snapshot(_:includesStoreSeq:cursor:)``).
    static func snapshot(
        memberId: Int64, since: Int64, program: LoyaltyProgram, today: (day: String, start: Int64, end: Int64)?,
        now: Date, _ db: Database
    ) throws -> SnapshotCache.Value? {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT first_card, balance, flags, reviewed_tier, birthday, enrolled_at_ms, name
                        FROM hq_members WHERE id = ?
                        """), arguments: [memberId])
        else { return nil }
        let cards = try String.fetchAll(
            db.cachedStatement(sql: "SELECT card FROM hq_cards WHERE member_id = ? ORDER BY version, card"),
            arguments: [memberId])
        let progress = try rollingProgress(memberId: memberId, since: since, db)
        let purchases =
            try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT " + IssuedEntryQueries.purchasesSQLite), arguments: [memberId])
            ?? 0
        let issued = try Row.fetchAll(
            db.cachedStatement(
                sql:
                    "SELECT id, kind, points, reason, created_at_ms, version FROM hq_issued WHERE member_id = ? ORDER BY seq"
            ),
            arguments: [memberId]
        ).map {
            (
                entry: HeadOfficeEntry(
                    id: $0[0], kind: $0[1], points: $0[2], reason: $0[3], createdAtMilliseconds: $0[4]),
                version: $0[5] as Int64
            )
        }
        let snapshot = MemberSnapshot(
            card: row["first_card"], cards: cards, balance: row["balance"],
            tier: HeadOfficeProgram.tier(progress: progress, reviewed: row["reviewed_tier"], program: program),
            rollingSpendMinor: progress.spendMinorUnits, includesStoreSeq: 0, flags: MemberFlags.decode(row["flags"]),
            purchases: purchases, headOfficeEntries: nil, coupons: try couponStates(memberId: memberId, db),
            rollingPointsEarned: progress.pointsEarned, birthday: row["birthday"],
            enrolledAtMilliseconds: row["enrolled_at_ms"], dayPointsDay: today?.day,
            dayPoints: try today.flatMap {
                try Int64.fetchOne(
                    db.cachedStatement(sql: "SELECT " + ChainDayPoints.sql(member: "?1", start: "?2", end: "?3")),
                    arguments: [memberId, $0.start, $0.end])
            },
            salesSinceEnrolment: try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT " + SalesSinceEnrolment.sql(member: "?")), arguments: [memberId]),
            name: row["name"])
        return SnapshotCache.Value(snapshot: snapshot, issued: issued, computedAtMilliseconds: now.milliseconds)
    }
}
