import Foundation
import Hummingbird
import Logging
import LoyaltyCore
import NIOCore
import SyncProtocol

extension HeadOfficeAPI {
    /// `POST /v1/stores/{storeId}/asked-cards`: cards a till met without knowing them; their members come with
    /// the store's next pull (``AskedCards``).
    func askedCards(_ request: Request, storeId: String, logger: Logger) async -> Response {
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: 16_384)
        } catch {
            return APIResponse.error(
                .contentTooLarge, "too_large", "ask for at most \(AskedCards.maximumCards) cards in one request")
        }
        if case .refused(let response) = await authenticate(
            request, body: body, storeId: storeId, consumeNonce: true, logger: logger)
        {
            return response
        }
        guard let asked = try? JSONDecoder().decode(AskedCards.self, from: Data(buffer: body)) else {
            return APIResponse.error(.badRequest, "bad_json", #"the body must be {"cards": ["CARD", ...]}"#)
        }
        guard (1...AskedCards.maximumCards).contains(asked.cards.count),
            asked.cards.allSatisfy({
                (1...AskedCards.maximumCardLength).contains($0.count)
                    && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
            })
        else {
            return APIResponse.error(
                .badRequest, "bad_cards",
                "cards must hold 1 to \(AskedCards.maximumCards) card numbers of 1 to \(AskedCards.maximumCardLength) "
                    + "letters and digits")
        }
        // A bank card read by mistake is refused without being read further (nor logged).
        guard !asked.cards.contains(where: PaymentCardDetector.mentionsPaymentCard) else {
            return APIResponse.error(.badRequest, "payment_card", "a payment card is not a member card")
        }
        do {
            let known = try await store.markServed(
                storeId: storeId, cards: Array(Set(asked.cards)).sorted(), now: clock())
            return stampedWithTheTime(APIResponse.json(.ok, AskedCardsAnswer(known: known)))
        } catch let refusal as IngestRefusal {
            return APIResponse.refusal(refusal)
        } catch {
            return APIResponse.error(
                .serviceUnavailable, "storage_unavailable", "head office could not read the cards; retry later")
        }
    }
}
