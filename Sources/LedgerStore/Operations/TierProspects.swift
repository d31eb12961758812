public import Foundation
import GRDB
import LoyaltyCore

/// A member whose 12-month spend at this store is close to the next tier: the manager can mention it.
public struct TierProspect: Codable, Hashable, Sendable {
    /// The card's last 4 digits (the manager's page is on a screen customers may see).
    public var cardLast4: String
    public var name: String?
    public var tier: String
    public var nextTier: String
    public var rollingSpend: String
    public var spendToNextTier: String
}

extension LedgerDatabase {
    /// Members whose rolling 12-month spend here has reached `withinPercent` % short of their next
    /// tier's threshold, closest first, at most `limit`. One grouped pass over the window's entries.
    public func tierProspects(withinPercent: Int = 20, limit: Int = 10, at now: Date = Date()) throws -> [TierProspect]
    {
        precondition((0...100).contains(withinPercent) && limit > 0)
        return try read { db in
            let program = try currentProgram(db)
            let tiers = program.tiers.sorted { $0.minimumRollingSpendMinorUnits < $1.minimumRollingSpendMinorUnits }
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT m.id, m.name, m.tier, SUM(e.amount_minor) AS spend,
                           (SELECT number FROM cards WHERE member_id = m.id ORDER BY added_at, number LIMIT 1) AS card
                    FROM entries e JOIN members m ON m.id = e.member_id
                    WHERE e.created_at > ? AND m.provisional = 0
                    GROUP BY m.id
                    """,
                arguments: [now.millisecondsSince1970 - Self.rollingWindowMilliseconds])
            var prospects: [(gap: Int64, prospect: TierProspect)] = []
            for row in rows {
                let spend: Int64 = row["spend"]
                let tierName: String = row["tier"]
                let current = max(spend, program.tier(named: tierName).minimumRollingSpendMinorUnits)
                guard let next = tiers.first(where: { $0.minimumRollingSpendMinorUnits > current }) else { continue }
                let gap = next.minimumRollingSpendMinorUnits - spend
                guard gap * 100 <= next.minimumRollingSpendMinorUnits * Int64(withinPercent) else { continue }
                let card: String = row["card"] ?? ""
                prospects.append(
                    (
                        gap,
                        TierProspect(
                            cardLast4: String(card.suffix(4)), name: row["name"], tier: tierName, nextTier: next.name,
                            rollingSpend: Money(minorUnits: spend, currency: program.currency).decimalString,
                            spendToNextTier: Money(minorUnits: gap, currency: program.currency).decimalString)
                    ))
            }
            return prospects.sorted { ($0.gap, $0.prospect.cardLast4) < ($1.gap, $1.prospect.cardLast4) }.prefix(limit)
                .map(\.prospect)
        }
    }
}
