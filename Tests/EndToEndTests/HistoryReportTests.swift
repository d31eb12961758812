import Foundation
import LoyaltyCore
import TestSupport
import Testing

/// A chain moving from another loyalty system: its history imported through `loyalty-hq import`,
/// then the segment reports, by hand-computed figures, as a head-office operator runs them.
@Suite(.serialized) struct HistoryReportTests {
    let folder = TemporaryFolder()
    let cards = (1...4).map { GTIN.withCheckDigit("29000000001\($0)") }

    func hq(_ arguments: [String]) throws -> AgentProcess.Outcome {
        try AgentProcess.run(arguments + ["--db", folder.file("hq.db")], executable: SyncChaosTests.hqBinary)
    }

    func write(_ name: String, _ lines: [String]) -> String {
        let path = folder.file(name)
        FileManager.default.createFile(atPath: path, contents: Data(lines.joined(separator: "\r\n").utf8))
        return path
    }

    @Test func aBadFileImportsNothingAndNamesEveryBadLine() throws {
        let file = write("bad.csv", [
            "card,store,receipt,time,amount",
            "\(cards[0]),OLD,R1,2026-03-30T10:00:00Z,100.00",
            "\(cards[0]),OLD,R2,yesterday,10.00",
            "4111111111111111,OLD,R3,2026-03-30T10:00:00Z,10.00",
            "\(cards[1]),OLD,R4,2026-03-30T10:00:00Z,0",
            "\(cards[1]),OLD,R9,2026-03-30T10:00:00Z,-5.00",
            "\(cards[1]),OLD,R5,2026-03-30T10:00:00Z",
            // Found by review: a sale in year 9999 counted in every 12-month figure for ever; year 1 made a
            // member 739,957 days old.
            "\(cards[2]),OLD,R6,9999-12-31T23:59:59Z,1.00",
            "\(cards[2]),OLD,R7,0001-01-01T00:00:00Z,1.00",
            // Found by review: impossible dates and times were rolled over to real ones.
            "\(cards[2]),OLD,R8,2026-02-30T00:00:00Z,1.00",
            "\(cards[2]),OLD,R9,2026-01-01T25:00:00Z,1.00",
        ])
        let outcome = try hq(["import", file])
        #expect(outcome.exitCode == 2)
        for line in [3, 4, 5, 7, 8, 9, 10, 11] { #expect(outcome.stderr.contains("line \(line):"), "\(outcome.stderr)") }
        #expect(outcome.stderr.contains("in the future"), "\(outcome.stderr)")
        #expect(!outcome.stderr.contains("line 2:"))
        #expect(!(outcome.stdout + outcome.stderr).contains("4111111111111111"))
        // Lines that read well but contradict the history (a refund of a sale no one imported) come next.
        let orphan = write("orphan.csv", [
            "card,store,receipt,time,amount",
            "\(cards[0]),OLD,R1,2026-03-30T10:00:00Z,100.00",
            "\(cards[1]),OLD,R9,2026-03-30T10:00:00Z,-5.00",
        ])
        let refused = try hq(["import", orphan])
        #expect(refused.exitCode == 2 && refused.stderr.contains("line 3:") && refused.stderr.contains("no sale"), "\(refused.stderr)")
        let rfm = try hq(["report", "rfm", "--as-of", "2026-03-31", "--json"])
        #expect(rfm.exitCode == 0 && (rfm.json["members"] as? [Any])?.isEmpty == true, "nothing was imported: \(rfm.stdout)")
    }

    @Test func importedHistoryGivesTheHandComputedSegments() throws {
        let (a, b, c, d) = (cards[0], cards[1], cards[2], cards[3])
        let file = write("history.csv", [
            "time,card,store,receipt,amount",  // any column order
            "2025-12-01T09:00:00Z,\(a),OLD-1,A1,20.00",
            "2026-03-01T09:00:00Z,\(a),OLD-1,A2,50",
            "2026-03-30T18:30:00+02:00,\(a),OLD-2,A3,100.00",
            "2026-04-02T09:00:00Z,\(a),OLD-2,A3,-50.00",  // refunded after the as-of date: not counted
            "2026-02-01T12:00:00Z,\(b),OLD-1,B1,300.00",
            "2026-02-05T12:00:00Z,\(b),OLD-1,B1,-100.00",
            "2025-01-10T12:00:00Z,\(c),OLD-1,C1,40.00",
            "2026-03-20T10:00:00,\(d),OLD-2,D1,10.00",  // local time in the chain's zone
            "",
        ])
        let imported = try hq(["import", file, "--json"])
        #expect(imported.exitCode == 0, "\(imported.stderr)")
        #expect(imported.json["sales"] as? Int == 6 && imported.json["refunds"] as? Int == 2)
        #expect(imported.json["members_created"] as? Int == 4)
        let again = try hq(["import", file, "--json"])
        #expect(again.json["sales"] as? Int == 0 && again.json["already_imported"] as? Int == 8, "\(again.stdout)")

        // R: days since the last sale; F: sales in the window; M: net spend. n = 3 (C bought 445 days before).
        let rfm = try hq(["report", "rfm", "--as-of", "2026-03-31", "--json"])
        let members = try #require(rfm.json["members"] as? [[String: Any]])
        #expect(members.map { $0["card"] as? String } == [a, b, d])
        func scores(_ member: [String: Any]) -> [Int] {
            ["recency_days", "frequency", "monetary_minor", "recency_score", "frequency_score", "monetary_score"].map {
                member[$0] as? Int ?? -1
            }
        }
        #expect(scores(members[0]) == [1, 3, 17_000, 4, 4, 2] && members[0]["segment"] as? String == "loyal")
        // B and D bought once each: the tie shares the better frequency score (one other no better: 1 + 5·1/3).
        #expect(scores(members[1]) == [58, 1, 20_000, 1, 2, 4] && members[1]["segment"] as? String == "hibernating")
        #expect(scores(members[2]) == [11, 1, 1_000, 2, 2, 1] && members[2]["segment"] as? String == "hibernating")
        // One name per figure in JSON, CSV and the table; money as a decimal beside the minor units.
        #expect(members[0]["monetary"] as? String == "170.00", "\(members[0])")
        let rfmCSV = try hq(["report", "rfm", "--as-of", "2026-03-31", "--csv"]).stdout
        let columns = rfmCSV.split(separator: "\n").first.map { $0.split(separator: ",").map(String.init) } ?? []
        #expect(columns == ["card", "recency_days", "frequency", "monetary", "recency_score", "frequency_score", "monetary_score", "segment"])
        #expect(columns.allSatisfy { members[0][$0] != nil }, "every CSV column is a JSON field: \(members[0])")

        let lifecycle = try hq(["report", "lifecycle", "--as-of", "2026-03-31", "--json"])
        let stages = (lifecycle.json["members"] as? [[String: Any]] ?? []).map { $0["stage"] as? String ?? "" }
        #expect(stages == ["active", "active", "churned", "new"], "\(lifecycle.stdout)")

        // 80 % of 380.00 is 304.00: B (200.00) then A (170.00) reach it.
        let superUsers = try hq(["report", "super-users", "--as-of", "2026-03-31", "--json"])
        let summary = try #require(superUsers.json["summary"] as? [String: Any])
        #expect(summary["k"] as? Int == 2 && summary["n"] as? Int == 3)
        #expect(abs((summary["share"] as? Double ?? 0) - 37_000.0 / 38_000.0) < 1e-9)

        let csv = try hq(["report", "lifecycle", "--as-of", "2026-03-31", "--csv"])
        #expect(csv.stdout.hasPrefix("card,stage,days_since_last_sale"))
        let text = try hq(["report", "super-users", "--as-of", "2026-03-31"])
        #expect(text.stdout.contains("2 of 3 members"), "\(text.stdout)")

        // Four members are too few to fit the lifetime-value models: a clear refusal, not a crash.
        let clv = try hq(["report", "clv", "--as-of", "2026-03-31"])
        #expect(clv.exitCode == 1 && clv.stderr.contains("loyalty-hq import"), "\(clv.stderr)")
    }

    @Test func settingsAreCheckedAndTheTimeZoneMovesTheDays() throws {
        let file = write("late.csv", ["card,store,receipt,time,amount", "\(cards[0]),OLD,L1,2026-03-31T23:30:00Z,10.00"])
        #expect(try hq(["import", file]).exitCode == 0)
        let utc = try hq(["report", "rfm", "--as-of", "2026-03-31", "--json"])
        #expect((utc.json["members"] as? [[String: Any]])?.first?["recency_days"] as? Int == 0)
        let bad = try hq(["settings", "set", "time_zone", "Mars/Olympus"])
        #expect(bad.exitCode == 2 && bad.stderr.contains("IANA"))
        #expect(try hq(["settings", "set", "dormant_days", "ten"]).exitCode == 2)
        #expect(try hq(["settings", "set", "time_zone", "Asia/Tokyo"]).exitCode == 0)
        // 23:30 UTC is already 1 April in Tokyo: after the as-of date.
        let tokyo = try hq(["report", "rfm", "--as-of", "2026-03-31", "--json"])
        #expect((tokyo.json["members"] as? [Any])?.isEmpty == true, "\(tokyo.stdout)")
        #expect(try hq(["report", "rfm", "--as-of", "2026-02-30"]).exitCode == 2)
        let shown = try hq(["settings", "show", "--json"])
        #expect(shown.json["time_zone"] as? String == "Asia/Tokyo" && shown.json["margin"] as? String == "0.3")
    }
}
