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
    /// NULL for none), is stored; `current` is the member's `referred_by_card` column.
    static func referrer(current: String, card: String, at: String, referrer: String) -> String {
        """
        CASE WHEN \(namesReferrer(card: card, at: at))
             -- A later enrolment of the member (this card or another it holds) named the referrer and no longer does
             -- now that this earlier one is here: the earliest decides.
             THEN CASE WHEN EXISTS (SELECT 1 FROM hq_entries y JOIN hq_cards yc ON yc.card = y.card
                                    JOIN hq_cards cc ON cc.member_id = yc.member_id
                                    WHERE cc.card = \(card) AND y.kind = 'enroll'
                                    AND y.joins_card IS NULL AND y.created_at_ms > \(at) AND y.referred_by = \(current)
                                    AND NOT \(namesReferrer(card: "y.card", at: "y.created_at_ms")))
                       THEN NULLIF(\(referrer), '')
                       ELSE COALESCE(\(current), NULLIF(\(referrer), '')) END
             ELSE \(current) END
        """
    }
}
