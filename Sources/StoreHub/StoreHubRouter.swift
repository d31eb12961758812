public import Foundation
import HTTPTypes
public import Hummingbird
import Logging
import LoyaltyCore
import NIOCore
import NIOFoundationCompat
public import SyncClient
import SyncProtocol

/// The store hub's HTTP routes on the store's LAN (`loyalty-agent run --hub-listen`). Every request is
/// signed as one till of the hub's store (its secret derived from the store's): the LAN is not trusted,
/// a till of another store or a browser gets nothing.
public struct StoreHubRouter: Sendable {
    public let hub: HubService
    /// The hub's head-office settings: the store's secret (file) the tills' secrets derive from.
    public let settings: SyncSettings

    public init(hub: HubService, settings: SyncSettings) {
        self.hub = hub
        self.settings = settings
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/v1/hub/health") { _, _ in Self.json(.ok, ["status": "ok"]) }
        router.post("/v1/hub/ledgers/{ledger}/entries") { request, context in
            await self.push(request, ledger: context.parameters.get("ledger") ?? "", logger: context.logger)
        }
        router.post("/v1/hub/ledgers/{ledger}/holds") { request, context in
            await self.hold(request, ledger: context.parameters.get("ledger") ?? "", logger: context.logger)
        }
        router.get("/v1/hub/ledgers/{ledger}/updates") { request, context in
            await self.updates(request, ledger: context.parameters.get("ledger") ?? "", logger: context.logger)
        }
        return router
    }

    func push(_ request: Request, ledger: String, logger: Logger) async -> Response {
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: HubPush.maximumBodyBytes)
        } catch {
            return Self.error(
                .contentTooLarge, "batch_too_large",
                "a push to the hub may be at most \(HubPush.maximumBodyBytes) bytes")
        }
        if let refusal = authenticate(request, body: body, ledger: ledger, logger: logger) { return refusal }
        let push: HubPush
        do {
            push = try JSONDecoder().decode(HubPush.self, from: Data(buffer: body))
        } catch {
            return Self.error(.badRequest, "malformed_batch", "the body is not a hub push of the documented shape")
        }
        do {
            return Self.json(.ok, try hub.receive(ledger: ledger, push))
        } catch let refusal as HubRefusal {
            let status: HTTPResponse.Status =
                switch refusal.code {
                case "ledger_conflict": .conflict
                case "till_refused": .forbidden
                default: .badRequest
                }
            return Self.error(status, refusal.code, refusal.message)
        } catch {
            logger.error(
                "the hub could not store a till's entries", metadata: ["till": "\(ledger)", "error": "\(error)"])
            return Self.error(
                .serviceUnavailable, "storage_unavailable", "the hub could not store the entries; nothing was stored")
        }
    }

    func hold(_ request: Request, ledger: String, logger: Logger) async -> Response {
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: 4096)
        } catch {
            return Self.error(.contentTooLarge, "body_too_large", "a hold is a small JSON object")
        }
        if let refusal = authenticate(request, body: body, ledger: ledger, logger: logger) { return refusal }
        let hold: HubHoldRequest
        do {
            hold = try JSONDecoder().decode(HubHoldRequest.self, from: Data(buffer: body))
        } catch {
            return Self.error(.badRequest, "malformed_hold", "the body is not a hold of the documented shape")
        }
        do {
            return Self.json(.ok, try hub.hold(ledger: ledger, hold))
        } catch let refusal as HubRefusal {
            return Self.error(.badRequest, refusal.code, refusal.message)
        } catch {
            return Self.error(
                .serviceUnavailable, "storage_unavailable", "the hub could not decide; the till decides alone")
        }
    }

    func updates(_ request: Request, ledger: String, logger: Logger) async -> Response {
        var since: Int64 = 0
        if let text = request.uri.queryParameters.get("since") {
            guard let value = Int64(text), value >= 0 else {
                return Self.error(.badRequest, "bad_cursor", "since must be a whole number ≥ 0")
            }
            since = value
        }
        if let refusal = authenticate(request, body: ByteBuffer(), ledger: ledger, logger: logger) { return refusal }
        do {
            return Self.json(.ok, try hub.updates(ledger: ledger, since: since))
        } catch {
            return Self.error(
                .serviceUnavailable, "storage_unavailable", "the hub could not read its entries; retry later")
        }
    }

    /// Nil when the request is signed by a till of this store for its own ledger, fresh and not replayed.
    func authenticate(_ request: Request, body: ByteBuffer, ledger: String, logger: Logger) -> Response? {
        func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { request.headers[$0] } }
        guard let caller = header(RequestSigning.storeHeader),
            let timestampText = header(RequestSigning.timestampHeader),
            let nonce = header(RequestSigning.nonceHeader), let signature = header(RequestSigning.signatureHeader)
        else {
            return Self.error(
                .unauthorized, "unsigned", "requests to the store hub are signed like requests to head office")
        }
        // Head office's clock as the hub learnt it (the tills sign by head office's clock as they learnt it).
        let now = hub.ledger.headOfficeNow()
        guard let timestamp = Int64(timestampText),
            RequestSigning.isWithinClockSkew(timestamp: timestamp, nowSeconds: Int64(now.timeIntervalSince1970))
        else {
            return Self.json(
                .unauthorized,
                ErrorBody(
                    error: "stale",
                    message: "the request's time is more than 5 minutes from the hub's clock; check the tills' clocks",
                    headOfficeTimeMilliseconds: Int64(now.timeIntervalSince1970 * 1000)))
        }
        guard !nonce.isEmpty, nonce.count <= 64, caller.count <= 70,
            let identity = TillIdentity(ledgerName: caller), identity.till != nil
        else {
            return Self.error(
                .unauthorized, "bad_signature", "the store hub serves the tills of its store (STORE.TILL) only")
        }
        guard caller != hub.ledger.storeId else {
            return Self.error(
                .forbidden, "own_ledger",
                "\(caller) is the hub's own till: on its box, commands use the hub's tables directly (hub.listen in agent.yaml)"
            )
        }
        guard identity.storeId == hub.storeId else {
            logger.warning("refused a till of another store", metadata: ["caller": "\(caller.prefix(70))"])
            return Self.error(
                .forbidden, "wrong_store", "this hub serves the tills of store \(hub.storeId ?? "?") only")
        }
        guard let secret = try? settings.signingSecret(forLedger: caller),
            RequestSigning.isValid(
                signature: signature, secret: secret, method: request.method.rawValue, path: request.uri.string,
                body: body.readableBytesView, timestamp: timestamp, nonce: nonce)
        else {
            logger.warning("refused a request: signature does not match", metadata: ["caller": "\(caller.prefix(70))"])
            return Self.error(
                .unauthorized, "bad_signature", "the signature does not match: check the till's store secret file")
        }
        guard caller == ledger else {
            return Self.error(.forbidden, "wrong_store", "till \(caller) may only write and read as itself")
        }
        // Kept in the hub's ledger file: a hub restarted within the window takes no request twice (found by attack).
        let expiresAt = now.addingTimeInterval(TimeInterval(2 * RequestSigning.maximumClockSkewSeconds))
        guard let fresh = try? hub.ledger.hubUseNonce(nonce, expiresAt: expiresAt, now: now) else {
            return Self.error(.serviceUnavailable, "storage_unavailable", "the hub could not record the request; retry")
        }
        guard fresh else {
            return Self.error(.unauthorized, "replayed", "this request was already received; sign every request afresh")
        }
        return nil
    }

    static func json(_ status: HTTPResponse.Status, _ value: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        json(status, ErrorBody(error: code, message: PaymentCardDetector.redacted(message)))
    }
}
