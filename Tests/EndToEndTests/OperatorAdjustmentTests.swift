import Foundation
import TestSupport
import Testing

/// Every operator change says who and why in `report audit`: a manual adjustment (checked, safe to
/// repeat, reaching the till), a published program, a reissued store secret.
@Suite struct OperatorAdjustmentTests {
    let folder = TemporaryFolder()
    let card = "2900000777774"

    @Test func aManualAdjustmentIsCheckedAuditedAndReachesTheTill() throws {
        let chain = try ChainHarness(folder: folder, name: "hq-adjust", stores: ["ADJ"])
        #expect(try chain.till("ADJ", ["enroll", card]).exitCode == 0)
        #expect(try chain.till("ADJ", ["award", card, "--amount", "30.00", "--receipt", "A-1"]).exitCode == 0)
        try chain.start()
        defer { chain.stop() }
        #expect(try chain.sync("ADJ").exitCode == 0)

        // Refused, nothing written: no reason, zero, more than the balance, an unknown card.
        let noReason = try chain.hq(["members", "adjust", card, "--points", "5", "--reason", " ", "--json"])
        #expect(noReason.exitCode == 2 && noReason.json["error"] as? String == "bad_text", "\(noReason.stdout)")
        #expect(try chain.hq(["members", "adjust", card, "--points", "0", "--reason", "x", "--json"]).json["error"] as? String == "bad_points")
        let over = try chain.hq(["members", "adjust", card, "--points=-31", "--reason", "mistake", "--json"])
        #expect(over.exitCode == 1 && over.json["error"] as? String == "over_balance", "\(over.stdout)")
        let unknown = try chain.hq(["members", "adjust", "2900000777781", "--points", "5", "--reason", "x", "--json"])
        #expect(unknown.exitCode == 1 && unknown.json["error"] as? String == "unknown_card", "\(unknown.stdout)")

        let goodwill = try chain.hq(
            ["members", "adjust", card, "--points", "20", "--reason", "late delivery", "--key", "T-77", "--by", "eve", "--json"])
        #expect(goodwill.exitCode == 0 && goodwill.json["balance"] as? Int == 50, "\(goodwill.stdout) \(goodwill.stderr)")
        // The same command again (a script run twice) changes nothing.
        let again = try chain.hq(
            ["members", "adjust", card, "--points", "20", "--reason", "late delivery", "--key", "T-77", "--by", "eve", "--json"])
        #expect(again.exitCode == 0 && again.json["status"] as? String == "unchanged" && again.json["balance"] as? Int == 50)
        // Found by an outside review: a key reused for another adjustment dropped it silently; a retried
        // negative adjustment failed once the balance had moved; a bank card number made a key.
        let reused = try chain.hq(["members", "adjust", card, "--points", "500", "--reason", "goodwill", "--key", "T-77", "--json"])
        #expect(reused.exitCode == 1 && reused.json["error"] as? String == "key_conflict", "\(reused.stdout)")
        let bankKey = try chain.hq(["members", "adjust", card, "--points", "1", "--reason", "ok", "--key", "4111111111111111", "--json"])
        #expect(bankKey.exitCode == 2 && bankKey.json["error"] as? String == "payment_card", "\(bankKey.stdout)")
        let all = ["members", "adjust", card, "--points=-50", "--reason", "all of it", "--key", "T-78", "--json"]
        #expect(try chain.hq(all).json["balance"] as? Int == 0)
        let allAgain = try chain.hq(all)
        #expect(allAgain.exitCode == 0 && allAgain.json["status"] as? String == "unchanged", "\(allAgain.stdout)")
        #expect(try chain.hq(["members", "adjust", card, "--points", "50", "--reason", "back", "--key", "T-79"]).exitCode == 0)
        // Who and why read as typed: no text-direction or zero-width characters.
        for (option, value) in [("--by", "ali\u{202E}ece"), ("--reason", "rtl \u{202E}evil"), ("--by", "al\u{200B}ice"), ("--by", "\u{200C}")] {
            let hidden = try chain.hq(["members", "adjust", card, "--points", "1", "--reason", "x", option, value, "--json"])
            #expect(hidden.exitCode == 2 && hidden.json["error"] as? String == "bad_text", "\(option): \(hidden.stdout)")
        }
        let taken = try chain.hq(["members", "adjust", card, "--points=-5", "--reason", "double scan", "--by", "eve"])
        #expect(taken.exitCode == 0 && taken.stdout.contains("Took 5 points"), "\(taken.stdout)")

        #expect(try chain.hq(["member", card, "--json"]).json["balance"] as? Int == 45)
        #expect(try chain.sync("ADJ").exitCode == 0)
        #expect(try chain.till("ADJ", ["member", card]).json["balance"] as? Int == 45)
        #expect(try chain.till("ADJ", ["verify"]).exitCode == 0)

        let audit = try chain.hq(["report", "audit", "--csv"]).stdout
        #expect(audit.contains("eve,members adjust,card \(card) +20 points,late delivery"), "\(audit)")
        #expect(audit.contains("eve,members adjust,card \(card) -5 points,double scan"), "\(audit)")
        #expect(audit.components(separatedBy: "+20 points").count == 2, "the repeated adjustment is audited once")
    }

    @Test func aPublishedProgramAndAReissuedSecretSayWhoAndWhy() throws {
        let database = folder.file("hq-audit.db")
        func hq(_ arguments: [String]) throws -> AgentProcess.Outcome {
            try AgentProcess.run(arguments + ["--db", database], executable: SyncChaosTests.hqBinary)
        }
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("sync/examples/program.yaml").path
        let published = try hq(["program", "publish", example, "--by", "max", "--reason", "spring campaign"])
        // Times in the program's zone (Europe/Berlin), to the second, in text and in JSON (found by an outside review).
        #expect(published.stdout.contains("valid from 2026-01-01T01:00:00+01:00"), "\(published.stdout)")
        let zone = try hq(["settings", "set", "time_zone", "America/New_York", "--json"])
        #expect(zone.exitCode == 1 && zone.json["error"] as? String == "program_time_zone", "\(zone.stdout)")
        #expect(try hq(["settings", "show", "--json"]).json["chain_time_zone"] as? String == "Europe/Berlin")
        #expect(try hq(["stores", "add", "0042"]).exitCode == 0)
        let reissued = try hq(["stores", "reissue-secret", "0042", "--by", "max"])
        #expect(reissued.exitCode == 0 && reissued.stdout.contains("has a new secret"), "\(reissued.stdout) \(reissued.stderr)")
        let audit = try hq(["report", "audit", "--csv"]).stdout
        #expect(audit.contains(#"max,program publish,"version 2"#), "\(audit)")
        #expect(audit.contains("spring campaign") && audit.contains("valid from 2026-01-01T01:00:00+01:00"), "\(audit)")
        let auditJSON = try hq(["report", "audit", "--json"]).json["audit"] as? [[String: Any]] ?? []
        #expect(auditJSON.allSatisfy { ($0["at"] as? String ?? "").hasSuffix("+01:00") }, "\(auditJSON)")
    }
}

/// A small chain's first reports: what is missing for lifetime value is said in plain words.
@Suite struct SmallChainReportTests {
    let folder = TemporaryFolder()

    @Test func lifetimeValueSaysWhatIsMissingInPlainWords() throws {
        let database = folder.file("hq-small.db")
        for report in ["clv", "churn"] {
            let outcome = try AgentProcess.run(["report", report, "--db", database, "--json"], executable: SyncChaosTests.hqBinary)
            #expect(outcome.exitCode == 1 && outcome.json["error"] as? String == "not_enough_history", "\(outcome.stdout)")
            let message = outcome.json["message"] as? String ?? ""
            #expect(message.contains("0 member(s) with sales") && message.contains("loyalty-hq import"), "\(message)")
            #expect(!message.contains("BG/NBD"), "no statistician's jargon: \(message)")
        }
    }
}
