import Foundation
import Hummingbird
import Logging
import LoyaltyCore
import NIOCore
import SyncProtocol

extension HeadOfficeAPI {
    /// `GET /v1/stores/{storeId}/sales?receipt=R[&sold_at=S]`: another store's sale, for a return here.
    func saleElsewhere(_ request: Request, storeId: String, logger: Logger) async -> Response {
        guard let receipt = request.uri.queryParameters.get("receipt"), (1...64).contains(receipt.count),
            !PaymentCardDetector.mentionsPaymentCard(receipt)
        else {
            return APIResponse.error(
                .badRequest, "bad_receipt", "receipt must be the sale's receipt reference, 1 to 64 characters")
        }
        let soldAt: String? = request.uri.queryParameters.get("sold_at").map { String($0) }
        if let soldAt, !(1...64).contains(soldAt.count) || PaymentCardDetector.mentionsPaymentCard(soldAt) {
            return APIResponse.error(.badRequest, "bad_store_id", "sold_at must be a store id, 1 to 64 characters")
        }
        if case .refused(let response) = await authenticate(
            request, body: ByteBuffer(), storeId: storeId, consumeNonce: true, logger: logger)
        {
            return response
        }
        do {
            switch try await store.saleElsewhere(receipt: String(receipt), soldAt: soldAt, askingStore: storeId) {
            case .found(let sale):
                return APIResponse.json(.ok, sale)
            case .unknown:
                return APIResponse.error(
                    .notFound, "unknown_receipt",
                    "no other store's sale with receipt \(receipt) has reached head office"
                        + (soldAt.map { " from store \($0)" } ?? "")
                        + "; check the receipt, or let the store that sold sync first")
            case .ambiguous(let stores):
                return APIResponse.error(
                    .conflict, "ambiguous_receipt",
                    "stores \(stores.joined(separator: ", ")) each have a sale with receipt \(receipt): name the store that sold"
                )
            }
        } catch {
            return APIResponse.error(
                .serviceUnavailable, "storage_unavailable", "head office could not read the sale; retry later")
        }
    }
}
