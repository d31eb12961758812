import Foundation
import LoyaltyCore

/// The member's sales at every store since their first enrolment (the early-visit coupon's count), given
/// the member as the driver's expression; nil before any enrolment. The member's sales (kept per store ledger,
/// ``MemberLedgerTotals``) less those before the enrolment, which are read only when the first sale came before
/// it, and then only from the first sale's time on: the count reads no history after the enrolment.
enum SalesSinceEnrolment {
    private static let firstSale = "(SELECT MIN(t.first_sale_at_ms) FROM hq_member_ledgers t WHERE t.member_id = m2.id)"

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

    /// The points, given the member, start and end as the driver's placeholders: sales net of refunds, with head
    /// office's corrections of the day's sale prices and of its cap (found by attack: after head office capped a
    /// day and a return freed part of it, tills still counted the points the correction had taken back and gave
    /// the day's next sales nothing).
    static func sql(member: String, start: String, end: String) -> String {
        """
        ((SELECT CAST(COALESCE(SUM(e.points + COALESCE((SELECT SUM(r.points) FROM hq_entries r
                                                         WHERE r.refers_to_seq = e.seq AND COALESCE(r.refers_to_store, r.store_id) = e.store_id
                                                           AND r.kind = 'reverse' AND r.points < 0), 0)), 0) AS BIGINT)
          FROM hq_entries e WHERE e.member_id = \(member) AND e.kind = 'earn'
            AND e.created_at_ms >= \(start) AND e.created_at_ms < \(end))
         + (SELECT CAST(COALESCE(SUM(i.points), 0) AS BIGINT) FROM hq_issued i
            WHERE i.member_id = \(member) AND i.kind = 'adjust'
              AND (i.idempotency_key LIKE 'reconcile:sale:%' OR i.idempotency_key LIKE 'reconcile:day_cap:%')
              AND COALESCE(i.counts_at_ms, i.created_at_ms) >= \(start) AND COALESCE(i.counts_at_ms, i.created_at_ms) < \(end)))
        """
    }
}
