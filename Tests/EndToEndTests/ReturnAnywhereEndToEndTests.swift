import Foundation
import LoyaltyCore
import TestSupport
import Testing

/// A customer buys at store A and brings the salmon back at store B (real `loyalty-hq` and tills): B takes
/// back what the salmon earned, names A as the store that sold, refuses the return while head office does
/// not answer (writing nothing), answers a retried return from its ledger, and every ledger agrees after.
@Suite(.serialized) struct ReturnAnywhereEndToEndTests {
    let folder = TemporaryFolder()
    let card = GTIN.withCheckDigit("290000088801")

    @Test func aSaleMadeAtOneStoreIsReturnedAtAnother() throws {
        let chain = try ChainHarness(folder: folder, name: "hq-returns", stores: ["A", "B"])
        try chain.start()
        defer { chain.stop() }
        #expect(try chain.till("A", ["enroll", card, "--name", "Ana"]).exitCode == 0)
        let sale = try chain.till(
            "A", ["award", card, "--receipt", "A-1", "--line", "salmon:fresh:30.00", "--line", "bread:bakery:20.00"])
        #expect(sale.json["points"] as? Int == 50, "\(sale.stdout)")
        for store in ["A", "B"] { #expect(try chain.sync(store).exitCode == 0) }
        let headOffice = ["--hq-url", "http://127.0.0.1:\(chain.port)", "--store-secret-file", folder.file("B.secret")]

        let returned = try AgentProcess.run(
            [
                "refund", "--receipt", "A-1", "--line", "salmon:30.00", "--return-receipt", "RB-1", "--db",
                folder.file("B.db"),
            ]
                + headOffice)
        #expect(returned.exitCode == 0, "\(returned.stdout) \(returned.stderr)")
        #expect(returned.stdout.contains("(sold at store A)") && returned.stdout.contains("30 points taken back"))

        // Head office cut off: a return of A's sale is refused at B with what to do, and nothing is written.
        let cutOff = ["--hq-url", "http://127.0.0.1:9", "--store-secret-file", folder.file("B.secret")]
        let before = try chain.till("B", ["status"]).json["last_seq"] as? Int
        let refused = try chain.till(
            "B", ["refund", "--receipt", "A-1", "--line", "bread:20.00", "--return-receipt", "RB-2"] + cutOff)
        #expect(
            refused.exitCode == 4 && refused.json["error"] as? String == "head_office_unreachable", "\(refused.stdout)")
        #expect((refused.json["message"] as? String)?.contains("store that sold") == true)
        // The retried return is answered from B's own ledger, head office or not.
        let retried = try chain.till(
            "B", ["refund", "--receipt", "A-1", "--line", "salmon:30.00", "--return-receipt", "RB-1"] + cutOff)
        #expect(
            retried.json["replayed"] as? Bool == true && retried.json["reversed_points"] as? Int == -30,
            "\(retried.stdout)")
        #expect(retried.json["sold_at_store"] as? String == "A")
        #expect(try chain.till("B", ["status"]).json["last_seq"] as? Int == before && before != nil)

        // A, told by head office of B's return, refunds what remains: the bread and its 20 points.
        for store in ["B", "A"] { #expect(try chain.sync(store).exitCode == 0) }
        let rest = try chain.till(
            "A",
            [
                "refund", "--receipt", "A-1", "--return-receipt", "RA-1", "--hq-url", "http://127.0.0.1:\(chain.port)",
                "--store-secret-file", folder.file("A.secret"),
            ])
        #expect(
            rest.json["reversed_points"] as? Int == -20 && rest.json["refund_amount"] as? String == "20.00",
            "\(rest.stdout)")
        #expect(rest.json["fully_refunded"] as? Bool == true)
        for store in ["A", "B", "A"] { #expect(try chain.sync(store).exitCode == 0) }
        let atHeadOffice = try chain.hq(["member", card, "--json"]).json["balance"] as? Int
        #expect(atHeadOffice == 0)
        for store in ["A", "B"] {
            #expect(try chain.till(store, ["member", card]).json["balance"] as? Int == atHeadOffice)
            #expect(try chain.till(store, ["verify"]).exitCode == 0)
        }
    }
    /// The same over the POS API (`POST /v1/refunds`, `sold_at`): 200 with the store that sold, 503 while
    /// head office does not answer, and a bank card number sent as a store id is refused, never echoed.
    @Test func thePOSAPIReturnsAnotherStoresSale() throws {
        let chain = try ChainHarness(folder: folder, name: "hq-api-returns", stores: ["A", "B"])
        try chain.start()
        defer { chain.stop() }
        #expect(try chain.till("A", ["enroll", card, "--name", "Ana"]).exitCode == 0)
        #expect(
            try chain.till(
                "A",
                ["award", card, "--receipt", "A-2", "--line", "salmon:fresh:30.00", "--line", "bread:bakery:20.00"]
            )
            .exitCode == 0)
        for store in ["A", "B"] { #expect(try chain.sync(store).exitCode == 0) }
        func daemon(hqPort: Int) throws -> DaemonAPITests.Daemon {
            try DaemonAPITests.Daemon(
                database: folder.file("B.db"), folder: folder,
                environment: [
                    "LOYALTY_HQ_URL": "http://127.0.0.1:\(hqPort)",
                    "LOYALTY_STORE_SECRET_FILE": folder.file("B.secret"),
                ])
        }
        let online = try daemon(hqPort: chain.port)
        let body = #"{"receipt": "A-2", "return_receipt": "API-RB1", "lines": [{"sku": "salmon", "amount": "30.00"}]}"#
        let returned = try online.request("POST", "/v1/refunds", body)
        #expect(returned.status == 200 && returned.json["sold_at_store"] as? String == "A", "\(returned)")
        #expect(returned.json["reversed_points"] as? Int == -30)
        #expect(try online.request("POST", "/v1/refunds", body).json["replayed"] as? Bool == true)
        let card16 = "4111111111111111"
        let leaked = try online.request(
            "POST", "/v1/refunds", #"{"receipt": "A-2", "return_receipt": "API-RB2", "sold_at": "\#(card16)"}"#)
        #expect(leaked.status == 400 && !"\(leaked.json)".contains(card16), "\(leaked)")
        online.process.terminate()
        online.process.waitUntilExit()

        let cutOff = try daemon(hqPort: 9)
        defer { if cutOff.process.isRunning { cutOff.process.terminate() } }
        let refused = try cutOff.request(
            "POST", "/v1/refunds",
            #"{"receipt": "A-2", "return_receipt": "API-RB3", "lines": [{"sku": "bread", "amount": "20.00"}]}"#)
        #expect(refused.status == 503 && refused.json["error"] as? String == "head_office_unreachable", "\(refused)")
    }
}
