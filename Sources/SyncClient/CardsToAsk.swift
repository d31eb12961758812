import Foundation
import LedgerStore
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
