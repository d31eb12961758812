import AsyncHTTPClient
import CompressNIO
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import HeadOffice
import NIOCore
import SyncProtocol
import Testing

/// The HTTP API: every authentication failure is refused and changes nothing; bad payloads get a
/// clear 4xx; good requests do what the contract says. Against both drivers.
@Suite struct HTTPAPITests {
    let secret = "s3cret-for-store-A"

    func batch(_ seqs: ClosedRange<Int64>) -> Data {
        Harness.json(PushBatch(entries: seqs.map { Harness.entry($0) }, backlog: 0))
    }

    @Test(arguments: Driver.allCases)
    func everyAuthenticationFailureIsRefusedAndChangesNothing(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: secret, now: Date())
            try await store.addStore(id: "B", secret: "secret-of-B", now: Date())
            try await Harness.withServer(store) { base in
                let path = "/v1/stores/A/batches"
                let body = batch(1...3)
                let unsigned = try await Harness.request(base, method: .POST, path: path, body: body, storeId: "A", secret: secret, sign: false)
                #expect(unsigned.status == 401 && unsigned.body["error"] as? String == "unsigned")
                let wrongSecret = try await Harness.request(base, method: .POST, path: path, body: body, storeId: "A", secret: "guess")
                #expect(wrongSecret.status == 401 && wrongSecret.body["error"] as? String == "bad_signature")
                let stale = try await Harness.request(base, method: .POST, path: path, body: body, storeId: "A", secret: secret, timestamp: Date().addingTimeInterval(-301))
                #expect(stale.status == 401 && stale.body["error"] as? String == "stale")
                let future = try await Harness.request(base, method: .POST, path: path, body: body, storeId: "A", secret: secret, timestamp: Date().addingTimeInterval(400))
                #expect(future.status == 401)
                // B signs correctly but writes A's ledger.
                let crossStore = try await Harness.request(base, method: .POST, path: path, body: body, storeId: "B", secret: "secret-of-B")
                #expect(crossStore.status == 403 && crossStore.body["error"] as? String == "wrong_store")
                let crossRead = try await Harness.request(base, method: .GET, path: "/v1/stores/A/updates?since=0", storeId: "B", secret: "secret-of-B")
                #expect(crossRead.status == 403)
                let unknown = try await Harness.request(base, method: .POST, path: "/v1/stores/Z/batches", body: body, storeId: "Z", secret: "x")
                #expect(unknown.status == 401)
                // A body swapped after signing (signature covers the body digest).
                var tampered = HTTPClientRequest(url: base.absoluteString + path)
                tampered.method = .POST
                for (name, value) in RequestSigning.headers(storeId: "A", secret: secret, method: "POST", path: path, body: batch(1...1)) {
                    tampered.headers.add(name: name, value: value)
                }
                tampered.body = .bytes(ByteBuffer(bytes: body))
                #expect(try await HTTPClient.shared.execute(tampered, timeout: .seconds(10)).status.code == 401)
                #expect(try await store.totals().isEmpty, "a refused request changed the ledger")

                // A good request, then the very same request replayed.
                let nonce = UUID().uuidString
                let good = try await Harness.request(base, method: .POST, path: path, body: body, storeId: "A", secret: secret, nonce: nonce)
                #expect(good.status == 200 && good.body["acknowledged_seq"] as? Int == 3)
                let replay = try await Harness.request(base, method: .POST, path: path, body: batch(4...6), storeId: "A", secret: secret, nonce: nonce)
                #expect(replay.status == 401 && replay.body["error"] as? String == "replayed")
                #expect(try await store.totals().first?.entries == 3)
            }
        }
    }

    @Test(arguments: Driver.allCases)
    func badPayloadsGetAClear4xxAndChangeNothing(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: secret, now: Date())
            try await Harness.withServer(store) { base in
                let path = "/v1/stores/A/batches"
                let cases: [(Data, Int, String)] = [
                    (Data("{not json".utf8), 400, "malformed_batch"),
                    (Data("[]".utf8), 400, "malformed_batch"),
                    (Data(#"{"entries": "many", "backlog": 0}"#.utf8), 400, "malformed_batch"),
                    (Data(#"{"entries": [{"seq": "one"}], "backlog": 0}"#.utf8), 400, "malformed_batch"),
                    (Harness.json(PushBatch(entries: [Harness.entry(-1)], backlog: 0)), 400, "invalid_entry"),
                    (Harness.json(PushBatch(entries: [Harness.entry(1)], backlog: -4)), 400, "malformed_batch"),
                    (Harness.json(PushBatch(entries: (1...1001).map { Harness.entry($0) }, backlog: 0)), 413, "batch_too_large"),
                    (Data(repeating: 0x20, count: PushBatch.maximumBodyBytes + 10), 413, "batch_too_large"),
                ]
                for (body, status, code) in cases {
                    let answer = try await Harness.request(base, method: .POST, path: path, body: body, storeId: "A", secret: secret)
                    #expect(answer.status == status, "\(code): \(answer)")
                    #expect(answer.body["error"] as? String == code, "\(answer.body)")
                    #expect((answer.body["message"] as? String)?.isEmpty == false)
                }
                let badGzip = try await Harness.request(
                    base, method: .POST, path: path, body: Data("not gzip".utf8), storeId: "A", secret: secret, extraHeaders: [("Content-Encoding", "gzip")])
                #expect(badGzip.status == 400 && badGzip.body["error"] as? String == "bad_encoding")
                var bomb = ByteBuffer(bytes: Data(repeating: 0x20, count: 8 << 20))
                let compressed = try bomb.compress(with: .gzip)
                let zipBomb = try await Harness.request(
                    base, method: .POST, path: path, body: Data(buffer: compressed), storeId: "A", secret: secret, extraHeaders: [("Content-Encoding", "gzip")])
                #expect(zipBomb.status == 400)
                let badCursor = try await Harness.request(base, method: .GET, path: "/v1/stores/A/updates?since=-3", storeId: "A", secret: secret)
                #expect(badCursor.status == 400 && badCursor.body["error"] as? String == "bad_cursor")
                #expect(try await store.totals().isEmpty)

                // gzip, as the agent sends it, works.
                var plain = ByteBuffer(bytes: batch(1...2))
                let gzipped = Data(buffer: try plain.compress(with: .gzip))
                let ok = try await Harness.request(
                    base, method: .POST, path: path, body: gzipped, storeId: "A", secret: secret, extraHeaders: [("Content-Encoding", "gzip")])
                #expect(ok.status == 200 && ok.body["acknowledged_seq"] as? Int == 2)
            }
        }
    }

    @Test func healthNeedsNoSignature() async throws {
        try await Harness.withStore(.sqlite) { store in
            try await Harness.withServer(store) { base in
                let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: base.absoluteString + "/v1/health"), timeout: .seconds(10))
                #expect(response.status.code == 200)
            }
        }
    }
}
