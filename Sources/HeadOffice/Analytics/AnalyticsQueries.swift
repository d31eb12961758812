import LoyaltyCore

/// The history queries behind the reports. A sale is an earn entry's receipt (per store), dated by
/// its first entry, net of the refunds dated before `end`, the instant the day after the as-of date
/// starts; imported sales join in the same shape. Streamed in (member, date) order.
public enum AnalyticsQueries {
    /// Whether the member record `m` is a member: enrolled, or with entries or imported sales. A card
    /// blocked by force before any store used it has a record holding nothing but the card: no report,
    /// export or dashboard counts it. Entries are looked for in the member's totals per store ledger (one index
    /// probe; on PostgreSQL the entries' own index is one probe per month).
    public static let isMember = """
        (m.enrolled_at_ms IS NOT NULL OR EXISTS (SELECT 1 FROM hq_member_ledgers e WHERE e.member_id = m.id)
         OR EXISTS (SELECT 1 FROM hq_imported_sales i WHERE i.member_id = m.id))
        """

    public static let members = """
        SELECT id, first_card, name, birthday, COALESCE(enrolled_at_ms, created_at_ms) AS first_seen_ms FROM hq_members m
        WHERE \(isMember)
        """

    /// Referrals per referring member: new members naming one of the member's cards (attitudinal loyalty).
    public static let referrals = """
        SELECT c.member_id, COUNT(*) FROM hq_members m JOIN hq_cards c ON c.card = m.referred_by_card
        WHERE m.id <> c.member_id GROUP BY c.member_id
        """

    /// Each member's average satisfaction answer (kiosk or `loyalty-agent feedback`) before `end`
    /// (`?1` / `$1`).
    public static let sqliteFeedback = """
        SELECT member_id, AVG(feedback_score) FROM hq_entries
        WHERE kind = 'profile' AND feedback_score IS NOT NULL AND created_at_ms < ?1 GROUP BY member_id
        """
    public static let postgresFeedback = """
        SELECT member_id, AVG(feedback_score)::float8 FROM hq_entries
        WHERE kind = 'profile' AND feedback_score IS NOT NULL AND created_at_ms < $1 GROUP BY member_id
        """

    /// SQLite: `?1` is `end`.
    public static let sqliteSales = """
        SELECT member_id, store_id, first_ms, net, incentive FROM (
            SELECT MIN(member_id) AS member_id, store_id, MIN(created_at_ms) AS first_ms,
                   SUM(CASE WHEN kind = 'earn' OR (kind = 'reverse' AND created_at_ms < ?1) THEN amount_minor ELSE 0 END) AS net,
                   MAX((kind = 'redeem' AND created_at_ms < ?1) OR (kind = 'earn' AND IFNULL(reason, '') LIKE 'promotion:%')) AS incentive
            FROM hq_entries WHERE kind IN ('earn', 'redeem', 'reverse')
            GROUP BY store_id, receipt
            HAVING SUM(kind = 'earn') > 0 AND MIN(created_at_ms) < ?1
            UNION ALL
            SELECT MIN(member_id), store_id, MIN(CASE WHEN kind = 'sale' THEN at_ms END),
                   SUM(CASE WHEN kind = 'sale' OR at_ms < ?1 THEN amount_minor ELSE 0 END), 0
            FROM hq_imported_sales GROUP BY store_id, receipt
            HAVING MIN(CASE WHEN kind = 'sale' THEN at_ms END) < ?1
        ) ORDER BY member_id, first_ms
        """

    /// PostgreSQL: `$1` is `end`.
    public static let postgresSales = """
        SELECT member_id, store_id, first_ms, net, incentive FROM (
            SELECT MIN(member_id) AS member_id, store_id, MIN(created_at_ms) AS first_ms,
                   SUM(CASE WHEN kind = 'earn' OR (kind = 'reverse' AND created_at_ms < $1) THEN amount_minor ELSE 0 END)::bigint AS net,
                   BOOL_OR((kind = 'redeem' AND created_at_ms < $1) OR (kind = 'earn' AND COALESCE(reason, '') LIKE 'promotion:%')) AS incentive
            FROM hq_entries WHERE kind IN ('earn', 'redeem', 'reverse')
            GROUP BY store_id, receipt
            HAVING COUNT(*) FILTER (WHERE kind = 'earn') > 0 AND MIN(created_at_ms) < $1
            UNION ALL
            SELECT MIN(member_id), store_id, MIN(at_ms) FILTER (WHERE kind = 'sale'),
                   SUM(CASE WHEN kind = 'sale' OR at_ms < $1 THEN amount_minor ELSE 0 END)::bigint, FALSE
            FROM hq_imported_sales GROUP BY store_id, receipt
            HAVING MIN(at_ms) FILTER (WHERE kind = 'sale') < $1
        ) AS sales ORDER BY member_id, first_ms
        """

    /// Points earned per member from entries at or after the first placeholder and before the second.
    static func pointsEarned(placeholders: (from: String, until: String)) -> String {
        """
        SELECT member_id, CAST(SUM(\(TierBasis.pointsEarnedSQL)) AS BIGINT) FROM hq_tier_rows
        WHERE created_at_ms >= \(placeholders.from) AND created_at_ms < \(placeholders.until)
          AND kind IN ('earn', 'bonus', 'reverse')
        GROUP BY member_id
        """
    }

    static let settingPrefix = "analytics."
}

extension AnalyticsSettings {
    /// Settings from `hq_settings` rows (`analytics.KEY`); a value that no longer checks is ignored.
    init(storedRows: [(String, String)]) {
        self.init()
        for (key, value) in storedRows where key.hasPrefix(AnalyticsQueries.settingPrefix) {
            var candidate = self
            if (try? candidate.set(String(key.dropFirst(AnalyticsQueries.settingPrefix.count)), to: value, isKnownTimeZone: ChainCalendar.isKnown)) != nil {
                self = candidate
            }
        }
    }
}
