public import Foundation
public import LoyaltyCore
import PostgresNIO
public import SyncProtocol

extension PostgresHeadOfficeStore {
    public func issue(_ entries: [IssuedEntryRequest], actor: String, now: Date) async throws -> Int {
        guard !entries.isEmpty else { return 0 }
        let logger = self.logger
        return try await transaction { connection in
            var version: Int64 = 0
            for try await value in try await connection.query(
                "UPDATE hq_counter SET change_seq = change_seq + 1 WHERE id = 1 RETURNING change_seq", logger: logger
            ).decode(Int64.self) {
                version = value
            }
            // A chunk at a time in one statement each (an expiry run writes an entry for most members: one round trip
            // per entry took 200 s for 200,000 members); within a chunk, entries keep their order (`seq`).
            var written = 0
            var judged: Set<Int64> = []
            let chunkSize = 5_000
            for start in stride(from: 0, to: entries.count, by: chunkSize) {
                let chunk = entries[start..<min(start + chunkSize, entries.count)]
                var bindings = PostgresBindings()
                bindings.append(chunk.map { _ in MachineToken.uuid() })
                bindings.append(chunk.map(\.memberId))
                bindings.append(chunk.map(\.card))
                bindings.append(chunk.map(\.kind.rawValue))
                bindings.append(chunk.map(\.points))
                bindings.append(chunk.map(\.reason))
                bindings.append(chunk.map(\.idempotencyKey))
                bindings.append(chunk.map(\.createdAtMilliseconds))
                bindings.append(chunk.map { $0.countsAtMilliseconds ?? 0 })
                bindings.append(chunk.map { $0.countsAtMilliseconds == nil })
                bindings.append(now.milliseconds)
                bindings.append(actor)
                bindings.append(version)
                let statement = """
                    WITH input AS (
                        SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[],
                                             $7::text[], $8::bigint[], $9::bigint[], $10::bool[]) WITH ORDINALITY
                            AS u(id, member_id, card, kind, points, reason, key, created_at_ms, counts_at_ms, no_counts, n)
                    ), inserted AS (
                        INSERT INTO hq_issued (id, member_id, card, kind, points, reason, idempotency_key, created_at_ms,
                                               issued_at_ms, issued_by, version, counts_at_ms)
                        SELECT id, member_id, card, kind, points, reason, key, created_at_ms, $11, $12, $13,
                               CASE WHEN no_counts THEN NULL ELSE counts_at_ms END
                        FROM input ORDER BY n
                        ON CONFLICT (idempotency_key) DO NOTHING RETURNING member_id, points, kind
                    ), moved AS (
                        UPDATE hq_members m SET balance = m.balance + t.points, version = $13
                        FROM (SELECT member_id, SUM(points) AS points FROM inserted GROUP BY member_id) t
                        WHERE m.id = t.member_id
                    )
                    SELECT member_id, points > 0 OR kind = 'expire' FROM inserted
                    """
                for try await (member, judging) in try await connection.query(
                    PostgresQuery(unsafeSQL: statement, binds: bindings), logger: logger
                ).decode((Int64, Bool).self) {
                    written += 1
                    if judging { judged.insert(member) }
                }
            }
            if !judged.isEmpty {
                let since = StoreOverdrafts.judgedSince(entries)
                var members = PostgresBindings()
                members.append(judged.sorted())
                for statement in StoreOverdrafts.judge(memberId: "= ANY($1::bigint[])", since: since) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement, binds: members), logger: logger)
                }
            }
            return written
        }
    }

    public func pointHistories(cards: [String], expiredOnly: Bool) async throws -> [MemberPointHistory] {
        let members = """
            IN (SELECT c.member_id FROM hq_cards c WHERE c.card = ANY($1)
                AND (\(expiredOnly ? "FALSE" : "TRUE")
                     OR EXISTS (SELECT 1 FROM hq_issued i WHERE i.member_id = c.member_id AND i.kind = 'expire')))
            """
        let query = try Self.cardQuery(IssuedEntryQueries.pointHistory(members: members), cards)
        let logger = self.logger
        return try await client.withConnection { connection in
            var histories: [MemberPointHistory] = []
            for try await (memberId, card, key, kindText, points, at, refersTo) in try await connection.query(
                query, logger: logger
            ).decode((Int64, String, String, String, Int64, Int64, String?).self) {
                if histories.last?.memberId != memberId {
                    histories.append(MemberPointHistory(memberId: memberId, card: card, events: []))
                }
                guard let kind = EntryKind(rawValue: kindText) else { continue }
                histories[histories.count - 1].events.append(
                    PointEvent(key: key, kind: kind, points: points, atMilliseconds: at, refersTo: refersTo))
            }
            return histories
        }
    }

    public func withdrawOverdrafts(memberId: Int64, entries: [String]) async throws {
        var bindings = PostgresBindings()
        bindings.append(memberId)
        try bindings.append(entries)
        let delete = PostgresQuery(
            unsafeSQL: "DELETE FROM hq_overdrafts WHERE member_id = $1 AND store_id || ':' || seq = ANY($2)",
            binds: bindings)
        let update: PostgresQuery = """
            UPDATE hq_members SET overdrawn = EXISTS (SELECT 1 FROM hq_overdrafts o WHERE o.member_id = hq_members.id)
            WHERE id = \(memberId)
            """
        let logger = self.logger
        try await transaction { connection in
            try await connection.query(delete, logger: logger)
            try await connection.query(update, logger: logger)
        }
    }

    public func visitFacts(cards: [String]) async throws -> [MemberVisitFacts] {
        let members = Self.membersOfCards
        let logger = self.logger
        func query(_ sql: String) throws -> PostgresQuery { try Self.cardQuery(sql, cards) }
        return try await client.withConnection { connection in
            var facts: [Int64: MemberVisitFacts] = [:]
            for try await (id, card, enrolled) in try await connection.query(
                try query(EarlyVisitCouponQueries.members(members: members)), logger: logger
            ).decode((Int64, String, Int64?).self) {
                facts[id] = MemberVisitFacts(memberId: id, firstCard: card, enrolledAtMilliseconds: enrolled)
            }
            for try await (id, at, version, store, seq, refunded) in try await connection.query(
                try query(EarlyVisitCouponQueries.sales(members: members)), logger: logger
            ).decode((Int64, Int64, Int, String, Int64, Int32).self) {
                facts[id]?.sales.append(
                    .init(
                        atMilliseconds: at, ruleVersion: version, key: "\(store):\(seq)", fullyRefunded: refunded == 1))
            }
            for try await (id, code) in try await connection.query(
                try query(EarlyVisitCouponQueries.codes(members: members)), logger: logger
            ).decode((Int64, String).self) {
                facts[id]?.codes.insert(code)
            }
            for try await (id, code, sale) in try await connection.query(
                try query(EarlyVisitCouponQueries.openIssued(members: members)), logger: logger
            ).decode((Int64, String, String).self) {
                facts[id]?.openIssued.append((code, sale))
            }
            return Array(facts.values)
        }
    }

    public func issueCoupons(_ coupons: [HeadOfficeCouponIssue], actor: String, now: Date) async throws -> Int {
        guard !coupons.isEmpty else { return 0 }
        let logger = self.logger
        return try await transaction { connection in
            var written = 0
            for coupon in coupons {
                let inserted = try await connection.query(
                    """
                    INSERT INTO hq_issued_coupons (coupon_code, member_id, rule_version, issued_at_ms, reason, issued_by,
                                                   written_at_ms, sale_store, sale_seq)
                    VALUES (\(coupon.code), \(coupon.memberId), \(coupon.ruleVersion), \(coupon.issuedAtMilliseconds),
                            \(coupon.reason), \(actor), \(now.milliseconds), \(coupon.saleStore), \(coupon.saleSeq))
                    ON CONFLICT (coupon_code) DO NOTHING RETURNING 1
                    """, logger: logger)
                var isNew = false
                for try await _ in inserted.decode(Int.self) { isNew = true }
                guard isNew else { continue }
                written += 1
                try await connection.query(
                    """
                    WITH version AS (UPDATE hq_counter SET change_seq = change_seq + 1 WHERE id = 1 RETURNING change_seq)
                    UPDATE hq_members SET version = (SELECT change_seq FROM version) WHERE id = \(coupon.memberId)
                    """, logger: logger)
                let detail = "coupon \(coupon.code) (member \(coupon.memberId))"
                try await connection.query(
                    """
                    INSERT INTO hq_audit (at_ms, actor, action, detail, reason)
                    VALUES (\(now.milliseconds), \(actor), 'coupon issued', \(detail), \(coupon.reason))
                    """, logger: logger)
            }
            return written
        }
    }

    public func couponDoubleUses() async throws -> [CouponUse] {
        let logger = self.logger
        return try await client.withConnection { connection in
            var result: [CouponUse] = []
            for try await (code, card, store, receipt, at, problem) in try await connection.query(
                PostgresQuery(unsafeSQL: IssuedEntryQueries.couponDoubleUses), logger: logger
            ).decode((String, String, String, String, Int64, String).self) {
                result.append(
                    CouponUse(
                        code: code, card: card, storeId: store, receipt: receipt, atMilliseconds: at, problem: problem))
            }
            return result
        }
    }

    /// The coupons of `memberIds` as head office knows them.
    static func couponStates(
        memberIds: [Int64], _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Int64: [CouponState]] {
        guard !memberIds.isEmpty else { return [:] }
        var asked = PostgresBindings()
        asked.append(memberIds)
        // Most members hold no coupon: their entries are not read (one probe a month each, found by the growth
        // benchmark: a third of a pull at 3.2 years of history).
        var holding: [Int64] = []
        for try await member in try await connection.query(
            PostgresQuery(
                unsafeSQL: MemberLedgerTotals.holdingCoupons(members: "= ANY($1::bigint[])"), binds: asked),
            logger: logger
        ).decode(Int64.self) {
            holding.append(member)
        }
        guard !holding.isEmpty else { return [:] }
        var bindings = PostgresBindings()
        bindings.append(holding)
        var result: [Int64: [CouponState]] = [:]
        for try await (memberId, code, voided, uses, version, issuedAt) in try await connection.query(
            PostgresQuery(unsafeSQL: IssuedEntryQueries.couponStates(members: "= ANY($1::bigint[])"), binds: bindings),
            logger: logger
        ).decode((Int64, String, Int32, Int64, Int?, Int64?).self) {
            if let state = IssuedEntryQueries.couponState(
                code: code, voided: voided == 1, uses: uses, ruleVersion: version, issuedAt: issuedAt)
            {
                result[memberId, default: []].append(state)
            }
        }
        return result
    }

    public func coupons(cards: [String]) async throws -> [Int64: [CouponState]] {
        let query = try Self.cardQuery(IssuedEntryQueries.couponStates(members: Self.membersOfCards), cards)
        let logger = self.logger
        return try await client.withConnection { connection in
            var result: [Int64: [CouponState]] = [:]
            for try await (memberId, code, voided, uses, version, issuedAt) in try await connection.query(
                query, logger: logger
            )
            .decode((Int64, String, Int32, Int64, Int?, Int64?).self) {
                guard
                    let state = IssuedEntryQueries.couponState(
                        code: code, voided: voided == 1, uses: uses, ruleVersion: version, issuedAt: issuedAt)
                else { continue }
                result[memberId, default: []].append(state)
            }
            return result
        }
    }

    public func withdrawCoupons(
        _ coupons: [(memberId: Int64, code: String)], reason: String, actor: String, now: Date
    ) async throws -> Int {
        guard !coupons.isEmpty else { return 0 }
        let logger = self.logger
        return try await transaction { connection in
            var written = 0
            for coupon in coupons {
                let inserted = try await connection.query(
                    """
                    INSERT INTO hq_coupon_withdrawals (coupon_code, member_id, reason, at_ms, withdrawn_by)
                    VALUES (\(coupon.code), \(coupon.memberId), \(reason), \(now.milliseconds), \(actor))
                    ON CONFLICT (coupon_code) DO NOTHING RETURNING 1
                    """, logger: logger)
                var isNew = false
                for try await _ in inserted.decode(Int.self) { isNew = true }
                guard isNew else { continue }
                written += 1
                try await connection.query(
                    """
                    WITH version AS (UPDATE hq_counter SET change_seq = change_seq + 1 WHERE id = 1 RETURNING change_seq)
                    UPDATE hq_members SET version = (SELECT change_seq FROM version) WHERE id = \(coupon.memberId)
                    """, logger: logger)
                let detail = "coupon \(coupon.code) (member \(coupon.memberId))"
                try await connection.query(
                    """
                    INSERT INTO hq_audit (at_ms, actor, action, detail, reason)
                    VALUES (\(now.milliseconds), \(actor), 'coupon withdrawn', \(detail), \(reason))
                    """, logger: logger)
            }
            return written
        }
    }

    public func issuedEntry(idempotencyKey: String) async throws -> IssuedEntryRequest? {
        var bindings = PostgresBindings()
        bindings.append(idempotencyKey)
        var found: IssuedEntryRequest?
        for try await (memberId, card, kind, points, reason, at) in try await client.query(
            PostgresQuery(
                unsafeSQL: IssuedEntryQueries.byKey.replacingOccurrences(of: "?", with: "$1"), binds: bindings),
            logger: logger
        ).decode((Int64, String, String, Int64, String, Int64).self) {
            found = IssuedEntryRequest(
                memberId: memberId, card: card, kind: EntryKind(rawValue: kind) ?? .adjust, points: points,
                reason: reason,
                idempotencyKey: idempotencyKey, createdAtMilliseconds: at)
        }
        return found
    }

    public func pendingReferrals() async throws -> [PendingReferral] {
        let logger = self.logger
        return try await client.withConnection { connection in
            var result: [PendingReferral] = []
            for try await (memberId, card, referrerId, referrerCard) in try await connection.query(
                PostgresQuery(unsafeSQL: IssuedEntryQueries.pendingReferrals), logger: logger
            ).decode((Int64, String, Int64, String).self) {
                result.append(
                    PendingReferral(
                        memberId: memberId, card: card, referrerMemberId: referrerId, referrerCard: referrerCard))
            }
            return result
        }
    }
}
