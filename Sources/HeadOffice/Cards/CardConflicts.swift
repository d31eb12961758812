public import Foundation

/// A card two stores gave two members, offline. `added`: a till added it to one member (`loyalty-agent
/// cards add`) while head office holds it on another; the card keeps head office's member, and the conflict
/// stays listed until an operator merges the two members (one person), blocks the card or resolves it.
/// `enrolled`: a till enrolled it as a new member after another store had added it to a member; the card
/// (and the new member's entries) stays with that member, listed until the card is blocked or resolved.
public struct CardConflict: Codable, Hashable, Sendable {
    public var card: String
    public var storeId: String
    public var seq: Int64
    /// A card of the member the till added it to.
    public var addedTo: String
    /// The first card of the member head office holds it on.
    public var heldBy: String
    public var atMilliseconds: Int64
    /// The member head office holds it on was never enrolled: a card sold at a store before any store
    /// knew it, and any card a till added to it since (head office joins them all to the member the card
    /// was added to: found by the chain simulation, a second card had kept the unknown record apart).
    public var heldByProvisional: Bool
    /// `added` or `enrolled` (what the store of ``storeId`` did with the card).
    public var kind: String
}

/// SQL shared by the drivers.
enum CardConflictQueries {
    /// Conflicts not resolved yet (the card still on another member than the one it was added to, not
    /// blocked), newest first. A blocked card on a record never enrolled (blocked with `--force` before any
    /// store used it) still counts: the sales a till made on it are the member's it was added to (found by
    /// attack: they stayed on the blocked record, listed nowhere).
    static let open = """
        SELECT k.card, k.store_id, k.seq, k.joins_card, m.first_card, k.at_ms,
            m.enrolled_at_ms IS NULL,
            CASE WHEN \(enrolledHere) THEN 'enrolled' ELSE 'added' END
        FROM hq_card_conflicts k JOIN hq_cards c ON c.card = k.card JOIN hq_members m ON m.id = c.member_id
        WHERE (NOT c.blocked OR m.enrolled_at_ms IS NULL) AND k.resolved_at_ms IS NULL
          AND (COALESCE((SELECT j.member_id FROM hq_cards j WHERE j.card = k.joins_card), -1) <> c.member_id
               OR \(enrolledHere))
        ORDER BY k.at_ms DESC, k.store_id, k.seq LIMIT 10000
        """

    /// The conflict's entry is an enrolment of a new member (not a card added to one).
    private static let enrolledHere = """
        EXISTS (SELECT 1 FROM hq_entries e WHERE e.store_id = k.store_id AND e.seq = k.seq AND e.joins_card IS NULL)
        """

    /// Records an enrolment of a new member (store, seq, card, time: placeholders) of a card head office
    /// holds because another store added it to a member: one card, two people, until an operator decides.
    static func enrolledAfterAnotherStoreAdded(store: String, seq: String, card: String, at: String) -> String {
        """
        INSERT INTO hq_card_conflicts (store_id, seq, card, joins_card, held_by_member, at_ms)
        SELECT \(store), \(seq), \(card), x.joins_card, c.member_id, \(at)
        FROM hq_cards c JOIN hq_entries x ON x.card = c.card AND x.kind = 'enroll' AND x.joins_card IS NOT NULL
        WHERE c.card = \(card) AND x.store_id <> \(store)
        ORDER BY x.created_at_ms LIMIT 1
        ON CONFLICT DO NOTHING
        """
    }

    /// Records an enrolment of a new member (store, seq, card, time: placeholders) of a card head office
    /// holds on a member who got it otherwise than by enrolling it: a replacement (`cards replace`) or a
    /// card added to them (found by review: a store enrolled a replacement card offline as someone else,
    /// and that person's name and birthday replaced the member's, with no conflict listed). A card that
    /// was enrolled as a new member before (at any store) is no conflict: that is the same enrolment; nor is a
    /// card that came to the member by a merge of another record of the same person (an operator's decision).
    static func enrolledOnAnotherMembersCard(store: String, seq: String, card: String, at: String) -> String {
        """
        INSERT INTO hq_card_conflicts (store_id, seq, card, joins_card, held_by_member, at_ms)
        SELECT \(store), \(seq), \(card), m.first_card, c.member_id, \(at)
        FROM hq_cards c JOIN hq_members m ON m.id = c.member_id
        WHERE c.card = \(card) AND m.first_card <> \(card)
          AND (c.replaces_card IS NOT NULL
               OR EXISTS (SELECT 1 FROM hq_entries a WHERE a.card = \(card) AND a.kind = 'enroll' AND a.joins_card IS NOT NULL))
          AND NOT EXISTS (SELECT 1 FROM hq_entries x
                          WHERE x.card = \(card) AND x.kind = 'enroll' AND x.joins_card IS NULL
                            AND NOT (x.store_id = \(store) AND x.seq = \(seq)))
        ON CONFLICT DO NOTHING
        """
    }

    /// Whether an enrolment (store `?1`/`$1`, seq `?2`/`$2`) was recorded as a conflict: its name and
    /// birthday are another person's and change no member.
    static let enrolmentInConflict = "SELECT 1 FROM hq_card_conflicts WHERE store_id = ? AND seq = ?"

    /// Marks the open conflicts of a card (`?1`/`$1`) resolved by an operator at a time (`?2`/`$2`).
    static func resolve(card: String, at: String) -> String {
        "UPDATE hq_card_conflicts SET resolved_at_ms = \(at) WHERE card = \(card) AND resolved_at_ms IS NULL"
    }

    /// Marks as changed (version `?1` / `$1`) each member a store (`?2` / `$2`) added a card to that head
    /// office holds on another member: the store's sales on that card count for the card's member, so the
    /// store needs a fresh snapshot of its member (covering those sales) to stop counting them for it.
    static func refreshMembersThatLostACard(version: String, store: String) -> String {
        """
        UPDATE hq_members SET version = \(version) WHERE id IN (
            SELECT j.member_id FROM hq_card_conflicts k JOIN hq_cards j ON j.card = k.joins_card JOIN hq_cards c ON c.card = k.card
            WHERE k.store_id = \(store) AND c.member_id <> j.member_id)
        """
    }

    /// The cards (`joins_card`) of the members `refreshMembersThatLostACard` marks, for a store (`$1`): the
    /// PostgreSQL ingest locks and marks them with the batch's own cards, in its one lock order.
    static let cardsOfMembersThatLostACard = """
        SELECT DISTINCT k.joins_card FROM hq_card_conflicts k JOIN hq_cards j ON j.card = k.joins_card
        JOIN hq_cards c ON c.card = k.card
        WHERE k.store_id = $1 AND c.member_id <> j.member_id
        """
}
