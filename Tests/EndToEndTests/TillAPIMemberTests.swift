import Foundation
import LoyaltyCore
import TestSupport
import Testing

/// The POS API a POS can be built on: every till command of the CLI (enrol, profile, cards, coupons,
/// member lookup, sale, redemption, return) over HTTP, with errors that name the field and its form.
@Suite(.serialized) struct TillAPIMemberTests {
    let folder = TemporaryFolder()

    /// One customer's visit as a POS drives it, against the program's welcome coupon and bonuses.
    @Test func aWholeVisitThroughTheAPI() throws {
        let database = folder.file("till.db")
        #expect(try AgentProcess.run(["init", "--store-id", "S-API", "--db", database]).exitCode == 0)
        let daemon = try DaemonAPITests.Daemon(database: database, folder: folder)
        defer { if daemon.process.isRunning { daemon.process.terminate() } }
        let card = GTIN.withCheckDigit("290000088801")
        let phone = GTIN.withCheckDigit("290000088802")

        let enrolled = try daemon.request(
            "POST", "/v1/enrolments", #"{"card": "\#(card)", "name": "Ada Lovelace", "birthday": "1990-04-23"}"#)
        #expect(enrolled.status == 200 && enrolled.json["member_id"] != nil, "\(enrolled)")
        // A POS that lost the answer sends the same enrolment again: the first answer, nothing new written.
        let retried = try daemon.request(
            "POST", "/v1/enrolments", #"{"card": "\#(card)", "name": "Ada Lovelace", "birthday": "1990-04-23"}"#)
        #expect(retried.status == 200 && retried.json["replayed"] as? Bool == true, "\(retried)")
        for field in ["member_id", "enrolment_bonus", "balance"] {
            #expect(retried.json[field] as? Int == enrolled.json[field] as? Int, "\(field): \(retried) vs \(enrolled)")
        }
        #expect(retried.json["coupons_issued"] as? [String] == enrolled.json["coupons_issued"] as? [String])
        let twice = try daemon.request("POST", "/v1/enrolments", #"{"card": "\#(card)"}"#)
        #expect(twice.status == 409 && twice.json["error"] as? String == "card_taken")

        let profile = try daemon.request("POST", "/v1/members/\(card)/profile", #"{"name": "Ada King"}"#)
        #expect(profile.status == 200 && profile.json["name"] as? String == "Ada King", "\(profile)")
        #expect(try daemon.request("POST", "/v1/members/\(card)/profile", "{}").json["error"] as? String == "nothing_to_change")

        let cards = try daemon.request("POST", "/v1/members/\(card)/cards", #"{"card": "\#(phone)"}"#)
        #expect(cards.status == 200 && (cards.json["cards"] as? [String]).map(Set.init) == [card, phone], "\(cards)")
        let cardsAgain = try daemon.request("POST", "/v1/members/\(card)/cards", #"{"card": "\#(phone)"}"#)
        #expect(cardsAgain.status == 200 && cardsAgain.json["replayed"] as? Bool == true, "\(cardsAgain)")
        #expect((cardsAgain.json["cards"] as? [String]) == cards.json["cards"] as? [String])

        // The phone barcode earns on the one balance; a redemption and a return follow.
        let sale = try daemon.request("POST", "/v1/sales", #"{"card": "\#(phone)", "receipt": "V-1", "amount": "40.00"}"#)
        #expect(sale.status == 200 && sale.json["points"] as? Int == 40, "\(sale)")
        // The retried sale answers with the first body (its breakdown too), only `replayed` differs.
        let saleAgain = try daemon.request("POST", "/v1/sales", #"{"card": "\#(phone)", "receipt": "V-1", "amount": "40.00"}"#)
        var first = sale.json, again = saleAgain.json
        #expect(first.removeValue(forKey: "replayed") as? Bool == false && again.removeValue(forKey: "replayed") as? Bool == true)
        #expect(NSDictionary(dictionary: first) == NSDictionary(dictionary: again), "\(sale) vs \(saleAgain)")
        let redeemed = try daemon.request("POST", "/v1/redemptions", #"{"card": "\#(card)", "receipt": "V-1", "points": 10}"#)
        #expect(redeemed.status == 200 && redeemed.json["balance"] as? Int == 30, "\(redeemed)")
        let returned = try daemon.request(
            "POST", "/v1/refunds", #"{"receipt": "V-1", "return_receipt": "V-1-R", "amount": "10.00"}"#)
        #expect(returned.status == 200, "\(returned)")
        let member = try daemon.request("GET", "/v1/members/\(card)")
        #expect(member.json["name"] as? String == "Ada King" && member.json["balance"] as? Int == returned.json["balance"] as? Int)

        let coupons = try daemon.request("GET", "/v1/members/\(phone)/coupons")
        #expect(coupons.status == 200 && coupons.json["coupons"] is [Any], "\(coupons)")
        let unknownCoupon = try daemon.request("POST", "/v1/coupons/WELCOME-NOSUCHCODEXYZ/use", #"{"card": "\#(card)", "receipt": "V-2"}"#)
        #expect([400, 409].contains(unknownCoupon.status) && unknownCoupon.json["ok"] as? Bool == false, "\(unknownCoupon)")

        #expect(daemon.process.isRunning)
        daemon.process.terminate()
        daemon.process.waitUntilExit()
        #expect(try AgentProcess.run(["verify", "--db", database]).exitCode == 0)
    }

    /// A typo in a field must not pass unnoticed (a sale with `ammount` would earn by its lines or
    /// fail later with another message); a field of the wrong form is named with the form it takes.
    @Test func bodiesAreCheckedFieldByField() throws {
        let database = folder.file("fields.db")
        let card = GTIN.withCheckDigit("290000088803")
        #expect(try AgentProcess.run(["enroll", card, "--db", database]).exitCode == 0)
        let daemon = try DaemonAPITests.Daemon(database: database, folder: folder)
        defer { if daemon.process.isRunning { daemon.process.terminate() } }

        let typo = try daemon.request("POST", "/v1/sales", #"{"card": "\#(card)", "receipt": "F-1", "ammount": "5.00"}"#)
        #expect(typo.status == 400 && typo.json["error"] as? String == "unknown_field", "\(typo)")
        #expect((typo.json["message"] as? String ?? "").contains("`ammount` is not a field here; the fields are: card, receipt, amount, lines"))
        let numeric = try daemon.request("POST", "/v1/sales", #"{"card": "\#(card)", "receipt": "F-2", "amount": 12.5}"#)
        #expect(numeric.status == 400 && numeric.json["error"] as? String == "bad_field", "\(numeric)")
        #expect((numeric.json["message"] as? String ?? "").contains(#"`amount` must be a decimal string like "12.50""#))
        let missing = try daemon.request("POST", "/v1/redemptions", #"{"card": "\#(card)", "points": 5}"#)
        #expect(missing.status == 400 && missing.json["error"] as? String == "missing_field", "\(missing)")
        #expect((missing.json["message"] as? String ?? "").contains("`receipt` is missing"))
        let line = try daemon.request(
            "POST", "/v1/sales", #"{"card": "\#(card)", "receipt": "F-3", "lines": [{"sku": "A", "category": "x", "amount": "1.00", "qty": 2}]}"#)
        #expect(line.status == 400 && (line.json["message"] as? String ?? "").contains("`lines[0].qty` is not a field here"), "\(line)")
        // Two lines under one SKU could not be told apart by a return (found by an outside review).
        let twice = try daemon.request(
            "POST", "/v1/sales",
            #"{"card": "\#(card)", "receipt": "F-4", "lines": [{"sku": "A", "category": "fresh", "amount": "10.00"}, {"sku": "A", "category": "tobacco", "amount": "50.00"}]}"#)
        #expect(twice.status == 400 && twice.json["error"] as? String == "duplicate_sku", "\(twice)")
        let mismatch = try daemon.request(
            "POST", "/v1/sales",
            #"{"card": "\#(card)", "receipt": "F-5", "amount": "12.00", "lines": [{"sku": "A", "category": "fresh", "amount": "10.00"}]}"#)
        #expect((mismatch.json["message"] as? String ?? "").contains("add up to 10.00, the amount says 12.00"), "\(mismatch)")
        let notJSON = try daemon.request("POST", "/v1/sales", "card=1")
        #expect(notJSON.status == 400 && notJSON.json["error"] as? String == "bad_request")
        // Nothing of the refused requests reached the ledger.
        #expect(try daemon.request("GET", "/v1/members/\(card)").json["balance"] as? Int == 0)
    }
}
