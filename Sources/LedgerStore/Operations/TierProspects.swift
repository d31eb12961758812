public import Foundation
import GRDB
import LoyaltyCore

/// A member whose 12-month spend (or points earned, when tiers count points) at this store is close
/// to the next tier: the manager can mention it.
public struct TierProspect: Codable, Hashable, Sendable {
    /// The card's last 4 digits (the manager's page is on a screen customers may see).
    public var cardLast4: String
    public var name: String?
    public var tier: String
    public var nextTier: String
    public var rollingSpend: String
    public var rollingPointsEarned: Int64
    /// What is missing to the next tier: spend when tiers count spend, else nil.
    public var spendToNextTier: String?
    /// What is missing to the next tier: points earned when tiers count points, else nil.
    public var pointsToNextTier: Int64?
}

extension LedgerDatabase {
    /// Members who bought here in the last 12 months whose chain-wide 12-month figure (head office's, plus
    /// this till's newer entries; spend, or points earned) has come within
    /// `withinPercent` % of their next tier's threshold, closest first, at most `limit`. One grouped
    /// pass over the window's entries.
    public func tierProspects(withinPercent: Int = 20, limit: Int = 10, at now: Date = Date()) throws -> [TierProspect]
    {
        precondition((0...100).contains(withinPercent) && limit > 0)
        return try read { db in
            let program = try currentProgram(db)
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT m.id, m.name, m.tier,
                           IFNULL(s.rolling_spend_minor, 0)
                               + SUM(CASE WHEN e.seq > IFNULL(s.includes_store_seq, 0) THEN e.amount_minor ELSE 0 END) AS spend,
                           IFNULL(s.rolling_points_earned, 0)
                               + SUM(CASE WHEN e.seq > IFNULL(s.includes_store_seq, 0) THEN \(TierBasis.pointsEarnedSQL) ELSE 0 END)
                               AS earned,
                           (SELECT number FROM cards WHERE member_id = m.id ORDER BY added_at, number LIMIT 1) AS card
                    FROM entries e JOIN members m ON m.id = e.member_id LEFT JOIN member_snapshots s ON s.member_id = m.id
                    WHERE e.created_at > ? AND m.provisional = 0
                    GROUP BY m.id
                    """,
                arguments: [now.millisecondsSince1970 - Self.rollingWindowMilliseconds])
            var prospects: [(gap: Int64, prospect: TierProspect)] = []
            for row in rows {
                let progress = TierProgress(spendMinorUnits: row["spend"], pointsEarned: row["earned"])
                let tierName: String = row["tier"]
                guard let (next, gap) = program.nextTier(current: program.tier(named: tierName), progress: progress),
                    gap * 100 <= next.threshold * Int64(withinPercent)
                else { continue }
                let card: String = row["card"] ?? ""
                let spendGap = program.tiersCountPoints ? nil : Money(minorUnits: gap, currency: program.currency).decimalString
                prospects.append(
                    (
                        gap,
                        TierProspect(
                            cardLast4: String(card.suffix(4)), name: row["name"], tier: tierName, nextTier: next.name,
                            rollingSpend: Money(minorUnits: progress.spendMinorUnits, currency: program.currency).decimalString,
                            rollingPointsEarned: progress.pointsEarned, spendToNextTier: spendGap,
                            pointsToNextTier: program.tiersCountPoints ? gap : nil)
                    ))
            }
            return prospects.sorted { ($0.gap, $0.prospect.cardLast4) < ($1.gap, $1.prospect.cardLast4) }.prefix(limit)
                .map(\.prospect)
        }
    }
}
