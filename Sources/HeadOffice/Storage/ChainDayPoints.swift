import Foundation
import LoyaltyCore

/// The member's sales at every store since their first enrolment (the early-visit coupon's count), given
/// the member as the driver's expression; nil before any enrolment. The member's sales (kept per store ledger,
/// ``MemberLedgerTotals``) less those before the enrolment, which are read only when the first sale came before
/// it, and then only from the first sale's time on: the count reads no history after the enrolment.
enum SalesSinceEnrolment {
    /// The member's first sale's time, `member` the driver's expression.
    static func firstSale(of member: String) -> String {
        "(SELECT MIN(t.first_sale_at_ms) FROM hq_member_ledgers t WHERE t.member_id = \(member))"
    }
    private static let firstSale = firstSale(of: "m2.id")

    static func sql(member: String) -> String {
        """
        (SELECT CASE WHEN m2.enrolled_at_ms IS NULL THEN NULL ELSE
             \(MemberLedgerTotals.sales(member: "m2.id"))
             - CASE WHEN \(firstSale) < m2.enrolled_at_ms
                    THEN (SELECT COUNT(*) FROM hq_entries e WHERE e.member_id = m2.id AND e.kind = 'earn'
                            AND e.created_at_ms >= \(firstSale) AND e.created_at_ms < m2.enrolled_at_ms)
                    ELSE 0 END END
         FROM hq_members m2 WHERE m2.id = \(member))
        """
    }

    /// PostgreSQL's pieces of ``sql(member:)`` for a snapshot query (`m` the member's row): the sales, or nil
    /// before any enrolment, and when the count of sales before the enrolment must be taken off, the first sale's
    /// time it starts from. That count is read by ``beforeEnrolment`` only for the members who need it, with its
    /// bounds as values: inside the snapshot query it was planned over every month's table for each page of a
    /// pull, enrolled members or not (growth-benchmark: 126 of 129 ms a page of 500 went to planning at 613 months).
    static let salesIfEnrolled =
        "CASE WHEN m.enrolled_at_ms IS NULL THEN NULL ELSE \(MemberLedgerTotals.sales(member: "m.id")) END"
    static let countBeforeEnrolmentFrom = """
        CASE WHEN \(firstSale(of: "m.id")) < m.enrolled_at_ms THEN \(firstSale(of: "m.id")) END
        """
    /// The member's sales from `$2` to `$3` (the first sale's time and the enrolment's), `$1` the member.
    static let beforeEnrolment = """
        SELECT COUNT(*) FROM hq_entries WHERE member_id = $1 AND kind = 'earn' AND created_at_ms >= $2 AND created_at_ms < $3
        """
}

/// A member's points from sales of today (the program's time zone), net of refunds, at every store: what
/// the per-day cap counts, sent down in the snapshot so a till's cap is the chain's.
enum ChainDayPoints {
    /// Today's chain day under `program` and its bounds in milliseconds `[start, end)`.
    static func today(program: LoyaltyProgram, now: Date) -> (day: String, start: Int64, end: Int64)? {
        guard program.earningRules?.perMemberDayCapPoints != nil,
            let calendar = try? ChainCalendar(identifier: program.earningRules?.timeZone ?? "UTC")
        else { return nil }
        let day = calendar.today(now)
        return (
            ChainCalendar.string(day: day), calendar.startMilliseconds(ofDay: day),
            calendar.startMilliseconds(ofDay: day + 1)
        )
    }

    /// The points a sale `e`'s returns took back, read from the entries (SQLite: one table, found by its key).
    static let returnedFromEntries = """
        (SELECT SUM(r.points) FROM hq_entries r
         WHERE r.refers_to_seq = e.seq AND COALESCE(r.refers_to_store, r.store_id) = e.store_id
           AND r.kind = 'reverse' AND r.points < 0)
        """

    /// The same from PostgreSQL's `hq_returns_at_sale` (``ReturnsAtTheirSale``, the same rows): one index, where
    /// the entries' look-up was planned and probed in every month's table.
    static let returnedFromReturnsAtSale = """
        (SELECT SUM(r.points) FROM hq_returns_at_sale r WHERE r.sale_store = e.store_id AND r.sale_seq = e.seq AND r.points < 0)
        """

    /// The points, given the member, start and end as the driver's placeholders: sales net of refunds, with head
    /// office's corrections of the day's sale prices and of its cap (found by attack: after head office capped a
    /// day and a return freed part of it, tills still counted the points the correction had taken back and gave
    /// the day's next sales nothing).
    static func sql(member: String, start: String, end: String, returned: String = returnedFromEntries) -> String {
        """
        ((SELECT CAST(COALESCE(SUM(e.points + COALESCE(\(returned), 0)), 0) AS BIGINT)
          FROM hq_entries e WHERE e.member_id = \(member) AND e.kind = 'earn'
            AND e.created_at_ms >= \(start) AND e.created_at_ms < \(end))
         + (SELECT CAST(COALESCE(SUM(i.points), 0) AS BIGINT) FROM hq_issued i
            WHERE i.member_id = \(member) AND i.kind = 'adjust'
              AND (i.idempotency_key LIKE 'reconcile:sale:%' OR i.idempotency_key LIKE 'reconcile:day_cap:%')
              AND COALESCE(i.counts_at_ms, i.created_at_ms) >= \(start) AND COALESCE(i.counts_at_ms, i.created_at_ms) < \(end)))
        """
    }
}
