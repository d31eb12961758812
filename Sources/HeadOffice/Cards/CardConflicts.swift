public import Foundation

/// A card a till added to one member (`loyalty-agent cards add`) while head office holds it on another:
/// the card keeps head office's member, and the conflict stays listed until an operator merges the two
/// members (one person) or blocks the card.
public struct CardConflict: Codable, Hashable, Sendable {
    public var card: String
    public var storeId: String
    public var seq: Int64
    /// A card of the member the till added it to.
    public var addedTo: String
    /// The first card of the member head office holds it on.
    public var heldBy: String
    public var atMilliseconds: Int64
    /// The member head office holds it on was never enrolled: only a card sold at a store before any
    /// store knew it (head office joins it to the member it was added to).
    public var heldByProvisional: Bool
}

/// SQL shared by the drivers.
enum CardConflictQueries {
    /// Conflicts not resolved yet (the card still on another member than the one it was added to, not
    /// blocked), newest first.
    static let open = """
        SELECT k.card, k.store_id, k.seq, k.joins_card, m.first_card, k.at_ms,
            m.enrolled_at_ms IS NULL AND (SELECT COUNT(*) FROM hq_cards x WHERE x.member_id = m.id) = 1
        FROM hq_card_conflicts k JOIN hq_cards c ON c.card = k.card JOIN hq_members m ON m.id = c.member_id
        WHERE NOT c.blocked AND COALESCE((SELECT j.member_id FROM hq_cards j WHERE j.card = k.joins_card), -1) <> c.member_id
        ORDER BY k.at_ms DESC, k.store_id, k.seq LIMIT 10000
        """

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
