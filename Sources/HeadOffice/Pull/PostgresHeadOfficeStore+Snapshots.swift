import Foundation
import Logging
import LoyaltyCore
import PostgresNIO
import SyncProtocol

extension PostgresHeadOfficeStore {
    /// One member's snapshot as every store sees it: `$1` the rolling window's start, `$3`/`$4` the chain
    /// day's window for the day's points when `dayCapped` (without a day cap the points are not read: their
    /// query was planned over every month's table). Head office's own entries come with their versions: each pull
    /// keeps those newer than its cursor (``SnapshotCache``). The sales since enrolment come in two parts
    /// (``SalesSinceEnrolment/salesIfEnrolled``), finished by ``snapshots(_:program:today:_:_:)``.
    static func snapshotSelect(dayCapped: Bool) -> String {
        let dayPoints =
            dayCapped
            ? ChainDayPoints.sql(
                member: "m.id", start: "$3", end: "$4", returned: ChainDayPoints.returnedFromReturnsAtSale)
            : "0::bigint"
        return """
            SELECT m.id, m.first_card, m.balance, m.version,
                   (SELECT ARRAY[COALESCE(SUM(amount_minor), 0)::bigint,
                                 COALESCE(SUM(\(TierBasis.pointsEarnedSQL)), 0)::bigint]
                    FROM hq_tier_rows e WHERE e.member_id = m.id AND e.created_at_ms > $1),
                   ARRAY(SELECT card FROM hq_cards c WHERE c.member_id = m.id ORDER BY c.version, c.card), m.flags, m.reviewed_tier,
                   \(MemberLedgerTotals.purchases(member: "m.id"))::bigint,
                   (SELECT json_agg(json_build_object('id', i.id, 'kind', i.kind, 'points', i.points, 'reason', i.reason,
                                                      'created_at_ms', i.created_at_ms, 'version', i.version) ORDER BY i.seq)::text
                    FROM hq_issued i WHERE i.member_id = m.id),
                   m.birthday, m.enrolled_at_ms, \(dayPoints),
                   (\(SalesSinceEnrolment.salesIfEnrolled))::bigint, (\(SalesSinceEnrolment.countBeforeEnrolmentFrom))::bigint,
                   m.name
            FROM hq_members m
            """
    }

    /// The snapshots `query` (``snapshotSelect(dayCapped:)`` and a condition) selects, by member id, without coupons.
    static func snapshots(
        _ query: PostgresQuery, program: LoyaltyProgram, today: (day: String, start: Int64, end: Int64)?,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Int64: SnapshotCache.Value] {
        struct IssuedVersion: Decodable { var version: Int64 }
        var result: [Int64: SnapshotCache.Value] = [:]
        var countsBeforeEnrolment: [(member: Int64, from: Int64, until: Int64)] = []
        let rows = try await connection.query(query, logger: logger)
        for try await (
            id, card, balance, _, progress, cards, flags, reviewed, purchases, issued, birthday, enrolledAt, day,
            sinceEnrolment, countFrom, name
        )
            in rows.decode(
                (
                    Int64, String, Int64, Int64, [Int64], [String], String?, String?, Int64, String?, String?, Int64?,
                    Int64, Int64?, Int64?, String?
                ).self)
        {
            if let countFrom, let enrolledAt { countsBeforeEnrolment.append((id, countFrom, enrolledAt)) }
            let entries = try issued.map { try JSONDecoder().decode([HeadOfficeEntry].self, from: Data($0.utf8)) } ?? []
            let versions = try issued.map { try JSONDecoder().decode([IssuedVersion].self, from: Data($0.utf8)) } ?? []
            let spend = progress[0]
            let snapshot = MemberSnapshot(
                card: card, cards: cards, balance: balance,
                tier: HeadOfficeProgram.tier(
                    progress: TierProgress(spendMinorUnits: spend, pointsEarned: progress[1]), reviewed: reviewed,
                    program: program),
                rollingSpendMinor: spend, includesStoreSeq: 0, flags: MemberFlags.decode(flags), purchases: purchases,
                headOfficeEntries: nil, rollingPointsEarned: progress[1], birthday: birthday,
                enrolledAtMilliseconds: enrolledAt,
                dayPointsDay: today?.day, dayPoints: today.map { _ in day }, salesSinceEnrolment: sinceEnrolment,
                name: name)
            result[id] = SnapshotCache.Value(
                snapshot: snapshot, issued: zip(entries, versions).map { ($0, $1.version) }, computedAtMilliseconds: 0)
        }
        // The sales before the enrolment, of the members who bought before enrolling (their months only).
        for count in countsBeforeEnrolment {
            var bindings = PostgresBindings()
            bindings.append(count.member)
            bindings.append(count.from)
            bindings.append(count.until)
            for try await before in try await connection.query(
                PostgresQuery(unsafeSQL: SalesSinceEnrolment.beforeEnrolment, binds: bindings), logger: logger
            ).decode(Int64.self) {
                result[count.member]?.snapshot.salesSinceEnrolment? -= before
            }
        }
        return result
    }
}
