import Foundation
import LedgerStore
public import LoyaltyCore
import SyncProtocol

extension SyncClient {
    /// Before a pull: the member cards this till met without knowing them go to head office, which adds their
    /// members to this store's pull (``AskedCards``); the pull that follows brings them. Asked once: a card head
    /// office does not know either is new to the whole chain, and is noted again if met again.
    func askForCardsNewToThisTill() async throws {
        let cards = try ledger.cardsToAsk(limit: AskedCards.maximumCards)
        guard !cards.isEmpty else { return }
        do {
            let _: AskedCardsAnswer = try await send(
                .POST, path: "/v1/stores/\(settings.storeId)/asked-cards",
                body: try JSONEncoder().encode(AskedCards(cards: cards)), gzip: false)
        } catch SyncFailure.refused(status: 404, _, _) {
            // A head office from before the route: it sends every member anyway.
        }
        try ledger.forgetCardsToAsk(cards)
    }
}

extension SyncClient {
    /// How long in all a cashier waits for head office before a till decides alone.
    public static let learningTimeoutSeconds: Int64 = 5
    /// Pages a cashier's pull reads at most (500 members each); a till further behind waits for its regular sync.
    static let learningMaximumPages = 20

    /// Before a decision only head office can inform (enrolling a card, adding one, a return of another store's
    /// sale): when this till does not know some of `cards`, head office is asked for them and a pull brings their
    /// members, within ``learningTimeoutSeconds`` in all. Under `--pull-scope store` a member of another store is
    /// otherwise unknown here (found by attack: a card enrolled at another store was enrolled again here, a second
    /// bonus paid and spent). A failure is the caller's to ignore: offline, the till decides alone as it always did.
    public func learnMembersIfUnknown(cards: [CardNumber]) async throws {
        // Each card looked up (an unknown one is noted by its look-up, and the pull asks for it).
        let unknown = try cards.filter { try ledger.lookup(card: $0) == nil }
        guard !unknown.isEmpty else { return }
        var quick = settings
        quick.requestTimeoutSeconds = min(settings.requestTimeoutSeconds, Self.learningTimeoutSeconds)
        let client = SyncClient(ledger: ledger, settings: quick, http: http)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.pullWhole(maximumPages: Self.learningMaximumPages) }
            // The whole wait is bounded, not each request (found by attack: 13.6 s with a slow head office).
            group.addTask {
                try await Task.sleep(for: .seconds(Self.learningTimeoutSeconds))
                throw SyncFailure.unreachable("head office did not answer within \(Self.learningTimeoutSeconds) s")
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }
}
