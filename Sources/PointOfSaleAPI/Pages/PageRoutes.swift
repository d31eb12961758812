import Foundation
import HTMLRendering
import Hummingbird
import LedgerStore
import LoyaltyCore

/// `POST /v1/feedback`: the kiosk's one-tap answer; `key` makes a second tap on the same scan keep the first.
struct FeedbackRequest: StrictRequest {
    static let fields = ["card", "score", "key"]
    var card: String
    var score: Int
    var key: String?
}

extension PointOfSaleRouter {
    /// Whether the request carries the POS client's token (else it came with a page's capability).
    func carriesPOSToken(_ request: Request) -> Bool {
        guard let expected = apiToken.currentToken(), let authorization = request.headers[.authorization],
            authorization.hasPrefix("Bearer ")
        else { return false }
        return APITokenFile.matches(authorization.dropFirst(7), expected)
    }

    /// The kiosk and manager pages, the feedback endpoint they use, and `/metrics`.
    func addPages(to router: Router<BasicRequestContext>) {
        router.get("/") { _, _ in
            Response(status: .seeOther, headers: [.location: "/manager"])
        }
        router.get("/kiosk") { _, _ in
            HTML.response(KioskPage.render(run: scans.runId, capability: pages.kiosk))
        }
        router.get("/manager") { _, _ in
            do {
                let now = Date()
                let status = try ledger.status(at: now)
                let storeTills = StoreTillsSection.tills(try ledger.storeTills())
                let view = ManagerPage.View(
                    status: status, facts: facts, scanners: board.attachedScanners,
                    likelyScanners: board.likelyScanners, scannerProblems: board.problems,
                    prospects: try ledger.tierProspects(), now: now, storeTills: storeTills,
                    otherTillsToday: storeTills.isEmpty
                        ? nil
                        : try ledger.peerTotals(
                            since: Int64((ISO8601DateFormatter().date(from: status.day) ?? now).timeIntervalSince1970 * 1000)))
                return HTML.response(ManagerPage.render(view, capability: pages.manager))
            } catch {
                let message = "The ledger could not be read: \(error). Check the disk and run `loyalty-agent verify`."
                return HTML.response(
                    HTML.document(
                        title: "Loyalty agent — problem", bodyClass: "manager",
                        body:
                            "<main><h1>Problem</h1><p class=\"bad\" id=\"problems\">\(HTML.escape(message))</p></main>"),
                    status: .serviceUnavailable)
            }
        }
        router.post("/v1/feedback") { request, context in
            await handle {
                let body = try await decode(FeedbackRequest.self, request, context)
                if let key = body.key {
                    guard (1...80).contains(key.utf8.count), key.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
                        throw LoyaltyError.badInput(
                            "bad_key", "key is 1 to 80 printable ASCII characters without spaces")
                    }
                }
                let card = try cardRules().memberCard(typed: body.card)
                if !carriesPOSToken(request) {
                    // The kiosk's capability answers once per scan it showed, for that scan's card: not
                    // for any card (which would write answers and tell who is a member).
                    // The key is the one the kiosk makes for the latest member scan, written one way only
                    // ("kiosk-RUN-64", never "-064"): the ledger keeps one answer per key.
                    let prefix = "kiosk-\(scans.runId)-"
                    guard let key = body.key, key.hasPrefix(prefix), let eventId = Int(key.dropFirst(prefix.count)),
                        key == prefix + String(eventId), scans.latestMemberCard(eventId: eventId) == card.value
                    else {
                        throw LoyaltyError.refused(
                            "not_the_scanned_card", "the kiosk answers only for the member card it has just shown")
                    }
                }
                let result = try ledger.recordFeedback(card: card, score: body.score, key: body.key)
                if !result.replayed { metrics?.feedbackAnswers.increment() }
                return JSONResponses.json(.ok, result)
            }
        }
        router.get("/metrics") { _, _ in
            guard let metrics else { return JSONResponses.error(.notFound, "no_metrics", "metrics are not enabled") }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: .init(string: metrics.exposition(ledger: ledger))))
        }
    }
}
