public import AsyncHTTPClient
public import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
public import SyncClient
public import SyncProtocol

/// A till's connection to its store hub on the LAN: the sync contract's signed requests (the till's own
/// secret, derived from the store's), short deadlines (a hub that does not answer leaves the till alone,
/// working as without a hub).
public struct HTTPHubConnection: StoreHubConnection {
    public let hubURL: URL
    /// The till's head-office settings: its ledger name and the store's secret (file).
    public let settings: SyncSettings
    let http: HTTPClient
    public var timeoutSeconds: Int64

    public init(hubURL: URL, settings: SyncSettings, http: HTTPClient, timeoutSeconds: Int64 = 5) {
        precondition((1...60).contains(timeoutSeconds), "a hub answers within a minute or not at all")
        self.hubURL = hubURL
        self.settings = settings
        self.http = http
        self.timeoutSeconds = timeoutSeconds
    }

    public func push(ledger: String, _ push: HubPush) async throws -> HubPushResult {
        try await send(.POST, path: "/v1/hub/ledgers/\(ledger)/entries", body: try JSONEncoder().encode(push))
    }

    public func updates(ledger: String, since cursor: Int64) async throws -> HubUpdates {
        try await send(.GET, path: "/v1/hub/ledgers/\(ledger)/updates?since=\(cursor)", body: Data())
    }

    public func hold(ledger: String, _ request: HubHoldRequest) async throws -> HubHoldResult {
        try await send(.POST, path: "/v1/hub/ledgers/\(ledger)/holds", body: try JSONEncoder().encode(request))
    }

    func send<Answer: Decodable>(_ method: HTTPMethod, path: String, body: Data) async throws -> Answer {
        var base = hubURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        let secret = try settings.signingSecret()
        for (name, value) in RequestSigning.headers(
            storeId: settings.storeId, secret: secret, method: method.rawValue, path: path, body: body)
        {
            request.headers.add(name: name, value: value)
        }
        if method == .POST {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response: HTTPClientResponse
        let answer: ByteBuffer
        do {
            response = try await http.execute(request, timeout: .seconds(timeoutSeconds))
            answer = try await response.body.collect(upTo: 16 << 20)
        } catch {
            throw StoreHubFailure.unreachable("\(hubURL.absoluteString): \(error)")
        }
        let data = Data(buffer: answer)
        guard (200..<300).contains(response.status.code) else {
            let body = try? JSONDecoder().decode(ErrorBody.self, from: data)
            if response.status.code >= 500 {
                throw StoreHubFailure.unreachable("\(hubURL.absoluteString) answered \(response.status.code)")
            }
            throw StoreHubFailure.refused(
                status: Int(response.status.code), code: body?.error ?? "refused",
                message: body?.message ?? response.status.reasonPhrase)
        }
        do {
            return try JSONDecoder().decode(Answer.self, from: data)
        } catch {
            throw StoreHubFailure.unreachable("\(hubURL.absoluteString) gave an unreadable answer")
        }
    }
}
