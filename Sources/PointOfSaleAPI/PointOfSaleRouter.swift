public import Hummingbird
public import LedgerStore
public import LoyaltyCore
import Foundation
import NIOCore
import HTTPTypes

/// The local POS API (`sync/pos-api.yaml`), served by `loyalty-agent run` on loopback: the same rules,
/// errors and idempotency as the CLI, on the same ledger (the CLI keeps working beside it).
public struct PointOfSaleRouter: Sendable {
    public let ledger: LedgerDatabase
    public let scans: ScanFeed
    /// The member-card rules (chain ranges) a typed card number is checked by.
    public let cardRules: @Sendable () -> CardScanRules
    /// The scanners as the manager's page shows them.
    public let board: ScannerBoard
    /// Exported on `GET /metrics`; nil: no metrics endpoint.
    public let metrics: AgentMetrics?
    public let facts: AgentFacts
    /// The POS client's token (members, sales, redemptions, refunds).
    public let apiToken: any APITokenSource
    /// What the kiosk and manager pages served by this run may call.
    public let pages = PageCapabilities()
    /// Takes a return of a sale another store made (through head office); nil: such a return is refused.
    public var returnElsewhere: (@Sendable (ReturnElsewhereRequest) async throws -> RefundResult)?
    /// In a store with a hub: run before a redemption is written (the store's other tills' entries first, then
    /// the hub holds the points or refuses; returns whether it holds them), and after (the entry to the hub, or
    /// the hold released). Nil: no hub.
    public var storeHubBeforeRedemption: (@Sendable (CardNumber, Int64, ReceiptReference) async throws -> Bool)?
    public var storeHubAfterRedemption: (@Sendable (_ held: Bool, _ written: Bool, CardNumber, ReceiptReference) async -> Void)?
    /// Run before an enrolment or an added card: head office is asked for the cards this till does not know
    /// (another store's members under `--pull-scope store`). Nil: no head office; the till decides alone.
    public var learnCards: (@Sendable ([CardNumber]) async -> Void)?

    /// Request bodies are small; anything larger is refused before it is read.
    public static let maximumBodyBytes = 256 * 1024

    public init(
        ledger: LedgerDatabase, scans: ScanFeed, board: ScannerBoard = ScannerBoard(), metrics: AgentMetrics? = nil,
        facts: AgentFacts = AgentFacts(scannersWatched: false, headOfficeConfigured: false),
        apiToken: any APITokenSource,
        cardRules: @escaping @Sendable () -> CardScanRules
    ) {
        self.ledger = ledger
        self.scans = scans
        self.board = board
        self.metrics = metrics
        self.facts = facts
        self.cardRules = cardRules
        self.apiToken = apiToken
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: LocalRequestGuard(token: apiToken, pages: pages))
        router.get("/v1/health") { _, _ in JSONResponses.json(.ok, ["status": "ok"]) }
        router.get("/v1/members/:card") { _, context in
            await handle {
                let card = try cardRules().memberCard(typed: context.parameters.get("card") ?? "")
                let member = try ledger.member(card: card)
                showOnKiosk(card)
                return JSONResponses.json(.ok, member)
            }
        }
        router.post("/v1/sales") { request, context in
            await handle {
                let sale = try await decode(SaleRequest.self, request, context)
                let (result, card) = try award(sale)
                if !result.replayed { metrics?.awards.increment() }
                showOnKiosk(card)
                return JSONResponses.json(.ok, result)
            }
        }
        router.post("/v1/redemptions") { request, context in
            await handle {
                let body = try await decode(RedemptionRequest.self, request, context)
                let currency = try ledger.currency()
                let card = try cardRules().memberCard(typed: body.card)
                let receipt = try ReceiptReference(body.receipt)
                let held = try await storeHubBeforeRedemption?(card, body.points, receipt) ?? false
                let result: RedeemResult
                do {
                    result = try ledger.redeem(
                        card: card, points: body.points, receipt: receipt,
                        saleAmount: try body.saleAmount.map { try Money(parsing: $0, currency: currency) })
                } catch {
                    await storeHubAfterRedemption?(held, false, card, receipt)
                    throw error
                }
                await storeHubAfterRedemption?(held, !result.replayed, card, receipt)
                if !result.replayed { metrics?.redemptions.increment() }
                showOnKiosk(card)
                return JSONResponses.json(.ok, result)
            }
        }
        router.post("/v1/refunds") { request, context in
            await handle {
                let body = try await decode(RefundRequest.self, request, context)
                let currency = try ledger.currency()
                let lines = try body.lines?.map {
                    LineReturn(sku: $0.sku, amountMinor: try Money(parsing: $0.amount, currency: currency).minorUnits)
                }
                let receipt = try ReceiptReference(body.receipt)
                let amount = try body.amount.map { try Money(parsing: $0, currency: currency) }
                let returnReceipt = try ReceiptReference(body.returnReceipt)
                let result: RefundResult
                let heldHere = try ledger.holdsSale(receipt: receipt)
                if let returnElsewhere, body.soldAt != nil || !heldHere {
                    result = try await returnElsewhere(
                        ReturnElsewhereRequest(
                            receipt: receipt, soldAt: body.soldAt, amount: amount, lines: lines, returnReceipt: returnReceipt))
                } else {
                    result = try ledger.refund(receipt: receipt, amount: amount, lines: lines, returnReceipt: returnReceipt)
                }
                if !result.replayed { metrics?.refunds.increment() }
                return JSONResponses.json(.ok, result)
            }
        }
        router.get("/v1/scans") { request, _ in
            // A client that reconnects names the last scan it saw; it first gets the kept scans after it.
            let lastEventId = request.headers[HTTPField.Name("Last-Event-ID")!].flatMap { Int($0) }
            let stream = scans.subscribe(after: lastEventId, until: ClientConnection.closed)
            return Response(
                status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                body: ResponseBody { writer in
                    // A comment first, so a client knows it is subscribed before the first scan.
                    try await writer.write(ByteBuffer(string: ": scans\n\n"))
                    for await event in stream {
                        if event.id == ScanFeed.heartbeatId {
                            // A failed write is how a client that went away is noticed.
                            try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
                        } else {
                            try await writer.write(ByteBuffer(string: "id: \(event.id)\nevent: scan\ndata: \(event.json)\n\n"))
                        }
                    }
                    try await writer.finish(nil)
                })
        }
        addMemberRoutes(to: router)
        addPages(to: router)
        return router
    }

    /// A card the POS sent (typed, or read by its own reader) shows on the kiosk like a scan, with the
    /// balance after the sale: a till without scanners still greets its customer.
    func showOnKiosk(_ card: CardNumber) {
        let format: CardFormat =
            if case .member(_, let format) = CardScanParser(rules: cardRules()).parse(card.value) { format } else { .alphanumeric }
        let event = ScanEvent.describing(.member(card, format), device: ScanEvent.typedAtPOS, ledger: ledger)
        // A blocked card shows nothing of its member on the customer's screen.
        guard event.cardStatus != "blocked" else { return }
        scans.publish(event.json)
    }

    private func award(_ sale: SaleRequest) throws -> (AwardResult, CardNumber) {
        let rules = cardRules()
        let card = try rules.memberCard(typed: sale.card)
        let currency = try ledger.currency()
        guard (sale.lines?.count ?? 0) <= SaleLine.maximumLines else {
            throw LoyaltyError.badInput("bad_line", "a sale has at most \(SaleLine.maximumLines) lines")
        }
        let lines = try (sale.lines ?? []).map {
            try SaleLine.checked(sku: $0.sku, category: $0.category, amount: $0.amount, currency: currency)
        }
        let amount = try sale.amount.map { try Money(parsing: $0, currency: currency) } ?? SaleLine.total(of: lines, currency: currency)
        let result = try ledger.award(
            card: card, amount: amount, receipt: try ReceiptReference(sale.receipt), lines: lines.isEmpty ? nil : lines,
            provisionalIfUnknown: rules.isChainMemberCard(card))
        return (result, card)
    }

    func decode<T: StrictRequest>(_ type: T.Type, _ request: Request, _ context: BasicRequestContext) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: Self.maximumBodyBytes)
        } catch {
            throw BodyTooLarge()
        }
        let data = Data(buffer.readableBytesView)
        do {
            let body = try JSONResponses.decoder().decode(T.self, from: data)
            try FieldForms.refuseUnknownFields(T.self, in: data)
            return body
        } catch let error as DecodingError {
            throw FieldForms.describe(error)
        }
    }

    func handle(_ body: () async throws -> Response) async -> Response {
        do {
            return try await body()
        } catch is BodyTooLarge {
            return JSONResponses.error(.contentTooLarge, "body_too_large", "a request body is at most \(Self.maximumBodyBytes / 1024) KiB")
        } catch let error as HTTPError {
            return JSONResponses.error(error.status, "bad_request", error.body ?? "the request is too large or malformed")
        } catch {
            return JSONResponses.failure(error)
        }
    }
}

/// A request body beyond ``PointOfSaleRouter/maximumBodyBytes`` (or one that could not be read).
struct BodyTooLarge: Error {}
