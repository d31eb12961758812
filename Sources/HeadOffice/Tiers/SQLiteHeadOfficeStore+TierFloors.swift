import Foundation
import GRDB
import LoyaltyCore

extension SQLiteHeadOfficeStore {
    public func tierFigures(at sales: [(card: String, atMilliseconds: Int64)]) async throws -> [TierFigureAtSale] {
        try await pool.read { db in
            var figures: [TierFigureAtSale] = []
            for sale in sales {
                guard
                    let member = try Row.fetchOne(
                        db.cachedStatement(
                            sql: "SELECT m.id, m.reviewed_tier FROM hq_cards c JOIN hq_members m ON m.id = c.member_id WHERE c.card = ?"),
                        arguments: [sale.card])
                else { continue }
                let row = try Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT IFNULL(SUM(amount_minor), 0), IFNULL(SUM(\(TierBasis.pointsEarnedSQL)), 0)
                            FROM hq_tier_rows WHERE member_id = ?1 AND created_at_ms > ?2 AND created_at_ms <= ?3
                              -- A refund in the sale's own millisecond comes after it: not in the figure it reached.
                              AND (created_at_ms < ?3 OR kind <> 'reverse')
                            """),
                    arguments: [
                        member[0], sale.atMilliseconds - HeadOfficeProgram.rollingWindowMilliseconds, sale.atMilliseconds,
                    ])
                figures.append(
                    TierFigureAtSale(
                        memberId: member[0], floor: member[1], atMilliseconds: sale.atMilliseconds,
                        progress: TierProgress(spendMinorUnits: row?[0] ?? 0, pointsEarned: row?[1] ?? 0)))
            }
            return figures
        }
    }

    public func raiseTierFloors(_ floors: [Int64: String]) async throws {
        guard !floors.isEmpty else { return }
        try await pool.write { db in
            try db.execute(sql: "UPDATE hq_counter SET change_seq = change_seq + 1 WHERE id = 1")
            let version = try Int64.fetchOne(db, sql: "SELECT change_seq FROM hq_counter WHERE id = 1")!
            for (memberId, tier) in floors {
                try db.execute(
                    sql: "UPDATE hq_members SET reviewed_tier = ?, version = ? WHERE id = ?", arguments: [tier, version, memberId])
            }
        }
    }
}
