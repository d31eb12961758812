public import AsyncHTTPClient
public import Foundation
public import LedgerStore
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
    /// The till's ledger, whose head-office clock signs the requests and learns the hub's (nil: the wall clock).
    let clock: LedgerDatabase?

    public init(
        hubURL: URL, settings: SyncSettings, http: HTTPClient, timeoutSeconds: Int64 = 5, clock: LedgerDatabase? = nil
    ) {
        precondition((1...60).contains(timeoutSeconds), "a hub answers within a minute or not at all")
        self.hubURL = hubURL
        self.settings = settings
        self.http = http
        self.timeoutSeconds = timeoutSeconds
        self.clock = clock
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

    func send<Answer: Decodable>(
        _ method: HTTPMethod, path: String, body: Data, resignedByTheHubsClock: Bool = false
    ) async throws -> Answer {
        var base = hubURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        let secret = try settings.signingSecret()
        for (name, value) in RequestSigning.headers(
            storeId: settings.storeId, secret: secret, method: method.rawValue, path: path, body: body,
            now: clock?.headOfficeNow() ?? Date())
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
            let refusal = try? JSONDecoder().decode(ErrorBody.self, from: data)
            if response.status.code >= 500 {
                throw StoreHubFailure.unreachable("\(hubURL.absoluteString) answered \(response.status.code)")
            }
            // This till's clock is off (a box restarted with a wrong clock while head office is out of reach): the hub's
            // clock is head office's as the hub learnt it; sign by it and date entries by it, and ask again, once.
            // Found by attack: the hub refused the till as stale and the till redeemed alone the points it held.
            if refusal?.error == "stale", !resignedByTheHubsClock, let clock,
                let hubTime = refusal?.headOfficeTimeMilliseconds
            {
                let (offset, overflow) = hubTime.subtractingReportingOverflow(
                    Int64(Date().timeIntervalSince1970 * 1000))
                if !overflow, offset.magnitude <= UInt64(LedgerDatabase.maximumHeadOfficeClockOffsetMilliseconds) {
                    try clock.recordHeadOfficeClockOffset(milliseconds: offset)
                    return try await send(method, path: path, body: body, resignedByTheHubsClock: true)
                }
            }
            throw StoreHubFailure.refused(
                status: Int(response.status.code), code: refusal?.error ?? "refused",
                message: refusal?.message ?? response.status.reasonPhrase)
        }
        do {
            return try JSONDecoder().decode(Answer.self, from: data)
        } catch {
            throw StoreHubFailure.unreachable("\(hubURL.absoluteString) gave an unreadable answer")
        }
    }
}
