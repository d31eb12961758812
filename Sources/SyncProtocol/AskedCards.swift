/// `POST /v1/stores/{storeId}/asked-cards`: member cards a till met without knowing them. Head office adds the
/// members holding them to the store's pull (with `--pull-scope store`, the members a store has served), so the
/// till's next pull brings them.
public struct AskedCards: Codable, Hashable, Sendable {
    /// At most ``maximumCards``, each at most ``maximumCardLength`` characters.
    public var cards: [String]

    public static let maximumCards = 100
    public static let maximumCardLength = 64

    public init(cards: [String]) {
        self.cards = cards
    }
}

/// Head office's answer: which of the cards a member holds (they come with the next pull); the others are new to
/// the whole chain.
public struct AskedCardsAnswer: Codable, Hashable, Sendable {
    public var known: [String]

    public init(known: [String]) {
        self.known = known
    }
}
