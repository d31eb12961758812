import CompressNIO
public import Foundation
import HTTPTypes
public import Hummingbird
import Logging
import LoyaltyCore
import NIOCore
import NIOFoundationCompat
import SyncProtocol

/// The head-office HTTP API (`/v1/...`, see sync/openapi.yaml): signed push and pull per store.
public struct HeadOfficeAPI: Sendable {
    public let store: any HeadOfficeStore
    /// Injected for tests of the replay window.
    public let clock: @Sendable () -> Date
    /// Who may open `GET /dashboard`.
    public let dashboard: DashboardAccess
    /// Which members a store's pull brings.
    public let pullScope: PullScope
    let secrets: SecretCache
    let tills = TillRegistry()
    let passwordThrottle = PasswordThrottle()

    /// - Parameter credentialCacheSeconds: how long a store's secrets are kept between database reads
    ///   (how long a rotation or revocation may take to reach this process).
    public init(
        store: any HeadOfficeStore, dashboard: DashboardAccess = .loopbackOnly, credentialCacheSeconds: Int = 10,
        pullScope: PullScope = .chain, clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        precondition((0...3600).contains(credentialCacheSeconds), "credentials are cached at most an hour")
        self.secrets = SecretCache(lifetimeSeconds: TimeInterval(credentialCacheSeconds))
        self.store = store
        self.dashboard = dashboard
        self.pullScope = pullScope
        self.clock = clock
    }

    /// A router with every route of the API.
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/v1/health") { _, _ in
            // With head office's clock: a till reads it before its first push of a boot.
            self.stampedWithTheTime(APIResponse.json(.ok, ["status": "ok"]))
        }
        router.post("/v1/stores/{storeId}/batches") { request, context in
            await self.push(request, storeId: context.parameters.get("storeId") ?? "", logger: context.logger)
        }
        router.get("/v1/stores/{storeId}/updates") { request, context in
            await self.pull(request, storeId: context.parameters.get("storeId") ?? "", logger: context.logger)
        }
        router.post("/v1/stores/{storeId}/asked-cards") { request, context in
            await self.askedCards(request, storeId: context.parameters.get("storeId") ?? "", logger: context.logger)
        }
        router.get("/v1/stores/{storeId}/sales") { request, context in
            await self.saleElsewhere(request, storeId: context.parameters.get("storeId") ?? "", logger: context.logger)
        }
        addDashboard(to: router)
        return router
    }

    func push(_ request: Request, storeId: String, logger: Logger) async -> Response {
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: PushBatch.maximumBodyBytes)
        } catch {
            return APIResponse.error(
                .contentTooLarge, "batch_too_large",
                "a batch body may be at most \(PushBatch.maximumBodyBytes) bytes; send fewer entries per batch")
        }
        // The nonce is recorded by the ingest transaction itself: one commit per batch.
        let nonce: String
        switch await authenticate(request, body: body, storeId: storeId, consumeNonce: false, logger: logger) {
        case .refused(let response): return response
        case .accepted(let requestNonce): nonce = requestNonce
        }
        var json = body
        if request.headers[.contentEncoding]?.lowercased() == "gzip" {
            do {
                json = try json.decompress(with: .gzip, maxSize: PushBatch.maximumBodyBytes)
            } catch {
                return APIResponse.error(
                    .badRequest, "bad_encoding",
                    "the body is not valid gzip, or inflates beyond \(PushBatch.maximumBodyBytes) bytes")
            }
        }
        let batch: PushBatch
        do {
            batch = try JSONDecoder().decode(PushBatch.self, from: Data(buffer: json))
        } catch {
            return APIResponse.error(
                .badRequest, "malformed_batch",
                "the batch is not valid JSON of the documented shape: \(APIResponse.describe(error))")
        }
        guard batch.entries.count <= PushBatch.maximumEntries else {
            return APIResponse.error(
                .contentTooLarge, "batch_too_large", "a batch may hold at most \(PushBatch.maximumEntries) entries")
        }
        guard batch.backlog >= 0 else {
            return APIResponse.error(.badRequest, "malformed_batch", "backlog must not be negative")
        }
        do {
            let receivedAt = clock()
            let result = try await store.ingest(storeId: storeId, batch: batch, nonce: nonce, now: receivedAt)
            // A referred member's first sale may have arrived (or the enrolment naming the referrer, after the
            // sale, from another store): pay the referral bonuses now. The batch is stored whatever happens
            // here; the next batch (or `loyalty-hq referrals pay`) retries.
            if batch.entries.contains(where: { $0.kind == "earn" || $0.kind == "enroll" }) {
                _ = try? await store.grantReferralBonuses(now: clock())
            }
            // A card added to a member at one store and sold as unknown at another: one member, joined now.
            if batch.entries.contains(where: { $0.joinsCard != nil }) {
                _ = try? await store.joinProvisionalCards(actor: "ingest", now: clock())
            }
            // A redemption or refund made before an expiry run that it reached head office after.
            let spent = batch.entries.filter { ["redeem", "reverse"].contains($0.kind) }.map(\.card)
            if !spent.isEmpty { _ = try? await store.settleLateEntries(cards: spent, actor: "ingest", now: clock()) }
            // A coupon a till issued for a record head office merged (it had not heard): one of each rule.
            let issued = batch.entries.filter { $0.kind == "coupon" && $0.reason == "issued" }.map(\.card)
            if !issued.isEmpty { _ = try? await store.reconcileCoupons(cards: issued, actor: "ingest", now: clock()) }
            // Once-per-member grants two tills may both have paid (or neither), and returns taken at several
            // stores (a redemption arriving late changes what a return gives back): corrected now, visibly.
            // Stored whatever happens here; the member's next batch retries.
            // (A profile brings a birthday: sales priced without it are priced again.)
            let touched = batch.entries.filter {
                ["enroll", "profile", "earn", "bonus", "reverse", "redeem"].contains($0.kind)
            }
            .map(\.card)
            _ = try? await store.reconcileGrants(cards: touched, actor: "ingest", now: clock())
            // The tier each sale reached holds until the next review, whatever refund comes with or after it; counted
            // after the corrections above (a tier reached only on a bonus paid twice is not held).
            let sales = batch.entries.filter { $0.kind == "earn" && $0.amountMinor > 0 }
            if !sales.isEmpty {
                _ = try? await store.holdTiersReached(
                    sales: sales.map {
                        ($0.card, IngestPlan.countedAt($0.createdAtMilliseconds, receivedAt: receivedAt.milliseconds))
                    })
            }
            return stampedWithTheTime(APIResponse.json(.ok, result))
        } catch let refusal as IngestRefusal {
            return APIResponse.refusal(refusal)
        } catch {
            return APIResponse.error(
                .serviceUnavailable, "storage_unavailable",
                "head office could not store the batch; nothing was stored, retry later")
        }
    }

    /// A push's or a pull's answer with head office's clock on it (``RequestSigning/headOfficeTimeHeader``).
    func stampedWithTheTime(_ response: Response) -> Response {
        var response = response
        if let name = HTTPField.Name(RequestSigning.headOfficeTimeHeader) {
            response.headers[name] = String(clock().milliseconds)
        }
        return response
    }

    func pull(_ request: Request, storeId: String, logger: Logger) async -> Response {
        var since: Int64 = 0
        if let text = request.uri.queryParameters.get("since") {
            guard let value = Int64(text), value >= 0 else {
                return APIResponse.error(
                    .badRequest, "bad_cursor", "since must be a whole number ≥ 0 (the cursor from the last pull)")
            }
            since = value
        }
        var storeAcknowledged: Int64?
        if let text = request.uri.queryParameters.get("acknowledged") {
            guard let value = Int64(text), value >= 0 else {
                return APIResponse.error(
                    .badRequest, "bad_cursor", "acknowledged must be a whole number ≥ 0 (the store's acknowledged mark)"
                )
            }
            storeAcknowledged = value
        }
        if case .refused(let response) = await authenticate(
            request, body: ByteBuffer(), storeId: storeId, consumeNonce: true, logger: logger)
        {
            return response
        }
        do {
            // (A till of a store with several gets its store's other tills' marks with the page, read with its snapshots.)
            var page = try await store.updates(
                storeId: storeId, since: since, storeAcknowledged: storeAcknowledged, scope: pullScope, now: clock())
            page.pullScope = pullScope.rawValue
            return stampedWithTheTime(APIResponse.json(.ok, page))
        } catch let refusal as IngestRefusal {
            return APIResponse.refusal(refusal)
        } catch {
            return APIResponse.error(
                .serviceUnavailable, "storage_unavailable", "head office could not read updates; retry later")
        }
    }

    enum Authentication {
        case accepted(nonce: String)
        case refused(Response)
    }

    /// Checks the request's HMAC signature, timestamp window, store and (when `consumeNonce`) nonce.
    func authenticate(
        _ request: Request, body: ByteBuffer, storeId: String, consumeNonce: Bool, logger: Logger
    ) async -> Authentication {
        func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { request.headers[$0] } }
        guard let caller = header(RequestSigning.storeHeader),
            let timestampText = header(RequestSigning.timestampHeader),
            let nonce = header(RequestSigning.nonceHeader), let signature = header(RequestSigning.signatureHeader)
        else {
            return .refused(
                APIResponse.error(
                    .unauthorized, "unsigned",
                    "requests must carry the \(RequestSigning.storeHeader), \(RequestSigning.timestampHeader), \(RequestSigning.nonceHeader) and \(RequestSigning.signatureHeader) headers"
                ))
        }
        let now = clock()
        // Compared as a distance without subtracting: a timestamp from the wire may be any Int64.
        guard let timestamp = Int64(timestampText),
            RequestSigning.isWithinClockSkew(timestamp: timestamp, nowSeconds: Int64(now.timeIntervalSince1970))
        else {
            // Head office's clock goes with the refusal: a store whose clock is off signs by it and still syncs
            // (found by attack: a till 10 minutes off never synced again, its entries stuck).
            return .refused(
                APIResponse.json(
                    .unauthorized,
                    ErrorBody(
                        error: "stale",
                        message:
                            "the request timestamp is more than \(RequestSigning.maximumClockSkewSeconds) s from head "
                            + "office's clock; check the store's clock (NTP)",
                        headOfficeTimeMilliseconds: now.milliseconds)))
        }
        guard !nonce.isEmpty, nonce.count <= 64, caller.count <= 64 else {
            return .refused(APIResponse.error(.unauthorized, "bad_signature", "malformed nonce or store header"))
        }
        let credentials: StoreCredentials?
        do {
            credentials = try await secrets.credentials(storeId: caller, now: now) {
                try await tills.credentials(ledgerName: $0, in: store, now: now)
            }
        } catch {
            return .refused(
                APIResponse.error(
                    .serviceUnavailable, "storage_unavailable", "head office storage is unavailable; retry later"))
        }
        // The operator needs to tell a store head office does not know from a wrong secret file (the
        // store is told only that the signature does not match).
        guard let credentials else {
            logger.warning("refused a request: unknown store", metadata: ["store": "\(caller.prefix(64))"])
            return .refused(
                APIResponse.error(
                    .unauthorized, "bad_signature",
                    "the signature does not match: check the store id and its secret file"))
        }
        // During a rotation the previous secret is still good: tills are given the new one one by one.
        let signed = credentials.secrets.contains { secret in
            RequestSigning.isValid(
                signature: signature, secret: secret, method: request.method.rawValue, path: request.uri.string,
                body: body.readableBytesView, timestamp: timestamp, nonce: nonce)
        }
        guard signed else {
            logger.warning(
                "refused a request: signature does not match",
                metadata: ["store": "\(caller.prefix(64))", "path": "\(request.uri.path)"])
            return .refused(
                APIResponse.error(
                    .unauthorized, "bad_signature",
                    "the signature does not match: check the store id and its secret file"))
        }
        guard !credentials.revoked else {
            logger.warning("refused a request: store revoked", metadata: ["store": "\(caller.prefix(64))"])
            return .refused(
                APIResponse.error(
                    .unauthorized, "store_revoked",
                    "head office revoked this store; ask head office for a new registration"))
        }
        // A till of a registered store joins at its first signed request (its own ledger, mark and sequence).
        do {
            try await tills.joinIfNew(ledgerName: caller, in: store, now: now)
        } catch {
            return .refused(
                APIResponse.error(
                    .serviceUnavailable, "storage_unavailable", "head office storage is unavailable; retry later"))
        }
        guard caller == storeId else {
            return .refused(
                APIResponse.error(
                    .forbidden, "wrong_store",
                    "store \(caller) may only read and write its own ledger, not \(PaymentCardDetector.redacted(String(storeId.prefix(64))))'s"
                ))
        }
        guard consumeNonce else { return .accepted(nonce: nonce) }
        do {
            guard try await store.useNonce(storeId: caller, nonce: nonce, now: now) else {
                return .refused(
                    APIResponse.error(
                        .unauthorized, "replayed",
                        "this request was already received (nonce reused); sign every request afresh"))
            }
        } catch {
            return .refused(
                APIResponse.error(
                    .serviceUnavailable, "storage_unavailable", "head office storage is unavailable; retry later"))
        }
        return .accepted(nonce: nonce)
    }
}

/// JSON responses and error bodies.
enum APIResponse {
    static func json(_ status: HTTPResponse.Status, _ value: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(
        _ status: HTTPResponse.Status, _ code: String, _ message: String, expectedSeq: Int64? = nil
    ) -> Response {
        // A message may quote what the store sent: a bank card number in it goes.
        json(status, ErrorBody(error: code, message: PaymentCardDetector.redacted(message), expectedSeq: expectedSeq))
    }

    static func refusal(_ refusal: IngestRefusal) -> Response {
        switch refusal.kind {
        case .unknownStore, .unknownCard: error(.notFound, refusal.kind.rawValue, refusal.message)
        case .conflict, .ledgerConflict, .cardInUse, .sameMember, .storeExists, .notBlocked:
            error(.conflict, refusal.kind.rawValue, refusal.message)
        case .invalid: error(.badRequest, refusal.kind.rawValue, refusal.message)
        case .replayed: error(.unauthorized, refusal.kind.rawValue, refusal.message + "; sign every request afresh")
        }
    }

    /// A short, safe description of a decoding error: the path and what was expected.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "unreadable JSON" }
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing field '\(key.stringValue)' at '\(path(context))'"
        case .typeMismatch(let type, let context): return "'\(path(context))' should be \(type)"
        case .valueNotFound(let type, let context): return "'\(path(context))' should be \(type), found null"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not JSON" : "bad value at '\(path(context))'"
        @unknown default: return "unreadable JSON"
        }
    }
}
