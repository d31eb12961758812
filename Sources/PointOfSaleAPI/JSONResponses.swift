import Foundation
import Hummingbird
import LedgerStore
import LoyaltyCore
import NIOCore

/// Responses in the CLI's `--json` shapes: snake_case keys, errors as `{"ok": false, "error", "message"}`.
enum JSONResponses {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }

    static func json(_ status: HTTPResponse.Status, _ value: some Encodable) -> Response {
        let data = (try? encoder().encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    struct ErrorBody: Encodable {
        var ok = false
        var error: String
        var message: String
    }

    static func error(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        // A message may quote what the client sent (a SKU, a store id): a bank card number in it goes.
        json(status, ErrorBody(error: code, message: PaymentCardDetector.redacted(message)))
    }

    /// The same rules and errors as the CLI: bad input 400, refused by the program 409, storage 503.
    static func failure(_ error: any Error) -> Response {
        switch error {
        case let error as LoyaltyError where error.category == .badInput:
            return self.error(.badRequest, error.code, error.message)
        case let error as LoyaltyError where error.category == .unavailable:
            return self.error(.serviceUnavailable, error.code, error.message)
        case let error as LoyaltyError:
            return self.error(.conflict, error.code, error.message)
        case let error as StorageError:
            return self.error(.serviceUnavailable, error.code, error.message)
        case is DecodingError:
            return self.error(.badRequest, "bad_request", "the body is not the JSON this endpoint takes; see sync/pos-api.yaml")
        default:
            return self.error(.internalServerError, "internal_error", "the agent could not handle the request; nothing was written")
        }
    }

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }
}
