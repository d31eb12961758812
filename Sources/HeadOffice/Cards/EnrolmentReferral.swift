/// When an enrolment names the member's referrer. Online, a card whose record is enrolled already is refused
/// (`card_taken`); offline, a till that has not heard enrols it again, and that enrolment names nobody (found
/// by attack: a member's card enrolled again with `--referred-by` paid the referral to both, 500 + 500). An
/// enrolment names the referrer when, at its time, its card had no earlier enrolment and its member was not an
/// enrolled member that a merge had already formed; the first one to name a referrer keeps it (as a merge keeps
/// the kept record's). The earliest enrolment of a card decides, in whatever order the stores sync (found by
/// attack: a later enrolment naming a referrer reached head office first and its referral stayed paid).
enum EnrolmentReferral {
    /// SQL: whether the enrolment of `card` (an expression) at `at` (milliseconds, an expression) names a referrer.
    static func namesReferrer(card: String, at: String) -> String {
        """
        (NOT EXISTS (SELECT 1 FROM hq_entries x WHERE x.card = \(card) AND x.kind = 'enroll' AND x.joins_card IS NULL
                     AND x.created_at_ms < \(at))
         AND NOT EXISTS (SELECT 1 FROM hq_cards mc JOIN hq_cards me ON me.member_id = mc.member_id
                         WHERE mc.card = \(card) AND me.merged_at_ms <= \(at)
                           -- Enrolled then: a card the member held at that time (found by the chain simulation: a
                           -- card merged in only later, enrolled before, took the referral of the earlier enrolment).
                           AND EXISTS (SELECT 1 FROM hq_cards ce JOIN hq_entries x ON x.card = ce.card
                                       WHERE ce.member_id = mc.member_id AND x.card <> \(card)
                                         AND (ce.merged_at_ms IS NULL OR ce.merged_at_ms <= \(at))
                                         AND x.kind = 'enroll' AND x.joins_card IS NULL AND x.created_at_ms <= \(at))))
        """
    }

    /// SQL: the member's referrer once the enrolment of `card` at `at`, naming `referrer` (an expression, `''` or
    /// NULL for none), is stored; `current` is the member's `referred_by_card` column. The referrer stays while an
    /// enrolment of the member that names it still does; otherwise it is the one the earliest enrolment naming a
    /// referrer names (found by the chain simulation: an earlier enrolment of a card merged in later arrived after
    /// the merge and took away the referral of the member's own earliest enrolment, because a *later* enrolment of
    /// that card named the same referrer and no longer did).
    static func referrer(current: String, card: String, at: String, referrer: String) -> String {
        """
        CASE WHEN \(current) IS NOT NULL AND EXISTS (\(enrolmentsOfTheMember(card: card)) AND y.referred_by = \(current)
                                                  AND \(namesReferrer(card: "y.card", at: "y.created_at_ms")))
             THEN \(current)
             ELSE COALESCE((\(enrolmentsOfTheMember(card: card, selecting: "y.referred_by"))
                            AND y.referred_by IS NOT NULL AND y.referred_by <> ''
                            AND \(namesReferrer(card: "y.card", at: "y.created_at_ms"))
                            ORDER BY y.created_at_ms, y.store_id, y.seq LIMIT 1),
                           CASE WHEN \(namesReferrer(card: card, at: at)) THEN NULLIF(\(referrer), '') END)
        END
        """
    }

    /// SQL: the enrolments (not cards added, not enrolments in conflict) of the cards of `card`'s member, as `y`.
    private static func enrolmentsOfTheMember(card: String, selecting: String = "1") -> String {
        """
        SELECT \(selecting) FROM hq_entries y
        JOIN hq_cards yc ON yc.card = y.card JOIN hq_cards cc ON cc.member_id = yc.member_id
        WHERE cc.card = \(card) AND y.kind = 'enroll' AND y.joins_card IS NULL
          AND NOT EXISTS (SELECT 1 FROM hq_card_conflicts k WHERE k.store_id = y.store_id AND k.seq = y.seq)
        """
    }
}
