import Foundation
import Logging
import LoyaltyCore
import PostgresNIO
import SyncProtocol

extension PostgresHeadOfficeStore {
    /// One member's snapshot as every store sees it: `$1` the rolling window's start, `$3`/`$4` the chain
    /// day's window for the day's points (equal without a day cap). Head office's own entries come with their
    /// versions: each pull keeps those newer than its cursor (``SnapshotCache``).
    static let snapshotSelect = """
        SELECT m.id, m.first_card, m.balance, m.version,
               (SELECT ARRAY[COALESCE(SUM(amount_minor), 0)::bigint,
                             COALESCE(SUM(\(TierBasis.pointsEarnedSQL)), 0)::bigint]
                FROM hq_tier_rows e WHERE e.member_id = m.id AND e.created_at_ms > $1),
               ARRAY(SELECT card FROM hq_cards c WHERE c.member_id = m.id ORDER BY c.version, c.card), m.flags, m.reviewed_tier,
               \(MemberLedgerTotals.purchases(member: "m.id"))::bigint,
               (SELECT json_agg(json_build_object('id', i.id, 'kind', i.kind, 'points', i.points, 'reason', i.reason,
                                                  'created_at_ms', i.created_at_ms, 'version', i.version) ORDER BY i.seq)::text
                FROM hq_issued i WHERE i.member_id = m.id),
               m.birthday, m.enrolled_at_ms, \(ChainDayPoints.sql(member: "m.id", start: "$3", end: "$4")),
               \(SalesSinceEnrolment.sql(member: "m.id"))::bigint, m.name
        FROM hq_members m
        """

    /// The snapshots `query` (``snapshotSelect`` and a condition) selects, by member id, without coupons.
    static func snapshots(
        _ query: PostgresQuery, program: LoyaltyProgram, today: (day: String, start: Int64, end: Int64)?,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Int64: SnapshotCache.Value] {
        struct IssuedVersion: Decodable { var version: Int64 }
        var result: [Int64: SnapshotCache.Value] = [:]
        let rows = try await connection.query(query, logger: logger)
        for try await (
            id, card, balance, _, progress, cards, flags, reviewed, purchases, issued, birthday, enrolledAt, day,
            sinceEnrolment, name
        )
            in rows.decode(
                (
                    Int64, String, Int64, Int64, [Int64], [String], String?, String?, Int64, String?, String?, Int64?,
                    Int64,
                    Int64?, String?
                ).self)
        {
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
        return result
    }
}
