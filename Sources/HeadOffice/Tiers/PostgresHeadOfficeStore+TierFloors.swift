import Foundation
import LoyaltyCore
import PostgresNIO

extension PostgresHeadOfficeStore {
    public func tierFigures(at sales: [(card: String, atMilliseconds: Int64)]) async throws -> [TierFigureAtSale] {
        guard !sales.isEmpty else { return [] }
        let logger = self.logger
        // A refund in the sale's own millisecond comes after it: not in the figure the sale reached.
        let query: PostgresQuery = """
            SELECT c.member_id, m.reviewed_tier, s.at,
                   (SELECT COALESCE(SUM(amount_minor), 0)::bigint FROM hq_tier_rows r
                    WHERE r.member_id = c.member_id AND r.created_at_ms > s.at - \(HeadOfficeProgram.rollingWindowMilliseconds)
                      AND r.created_at_ms <= s.at AND (r.created_at_ms < s.at OR r.kind <> 'reverse')),
                   (SELECT COALESCE(SUM(CASE WHEN r.kind IN ('earn', 'bonus') OR (r.kind = 'reverse' AND r.points < 0)
                                             THEN r.points ELSE 0 END), 0)::bigint FROM hq_tier_rows r
                    WHERE r.member_id = c.member_id AND r.created_at_ms > s.at - \(HeadOfficeProgram.rollingWindowMilliseconds)
                      AND r.created_at_ms <= s.at AND (r.created_at_ms < s.at OR r.kind <> 'reverse'))
            FROM UNNEST(\(sales.map(\.card))::text[], \(sales.map(\.atMilliseconds))::bigint[]) AS s(card, at)
            JOIN hq_cards c ON c.card = s.card JOIN hq_members m ON m.id = c.member_id
            """
        return try await client.withConnection { connection in
            var figures: [TierFigureAtSale] = []
            for try await (memberId, floor, at, spend, earned) in try await connection.query(query, logger: logger)
                .decode((Int64, String?, Int64, Int64, Int64).self)
            {
                figures.append(
                    TierFigureAtSale(
                        memberId: memberId, floor: floor, atMilliseconds: at,
                        progress: TierProgress(spendMinorUnits: spend, pointsEarned: earned)))
            }
            return figures
        }
    }

    public func raiseTierFloors(_ floors: [Int64: String]) async throws {
        guard !floors.isEmpty else { return }
        let logger = self.logger
        let ids = Array(floors.keys)
        let tiers = ids.map { floors[$0]! }
        try await client.query(
            """
            WITH version AS (UPDATE hq_counter SET change_seq = change_seq + 1 WHERE id = 1 RETURNING change_seq)
            UPDATE hq_members m SET reviewed_tier = f.tier, version = (SELECT change_seq FROM version)
            FROM UNNEST(\(ids)::bigint[], \(tiers)::text[]) AS f(id, tier) WHERE m.id = f.id
            """, logger: logger)
    }
}
