import Foundation
import TestSupport
import Testing

/// What a head-office operator meets at the command line: a repeated registration says what to do
/// instead, and output into a closed pipe (`| head -1`) ends quietly.
@Suite struct OperatorCommandTests {
    let folder = TemporaryFolder()

    @Test func registeringAStoreTwiceSaysHowToGiveItANewSecret() throws {
        let database = folder.file("hq.db")
        func hq(_ arguments: [String]) throws -> AgentProcess.Outcome {
            try AgentProcess.run(arguments + ["--db", database], executable: SyncChaosTests.hqBinary)
        }
        let first = try hq(["stores", "add", "0042"])
        #expect(first.exitCode == 0)
        let secret = first.stdout.split(separator: "\n").last.map(String.init)
        let again = try hq(["stores", "add", "0042", "--json"])
        #expect(again.exitCode == 1, "refused, not bad input: \(again.stdout)")
        #expect(again.json["error"] as? String == "store_exists")
        #expect((again.json["message"] as? String ?? "").contains("loyalty-hq stores rotate-secret 0042"), "\(again.stdout)")
        // The first secret still works: nothing changed.
        #expect(try hq(["stores", "list", "--json"]).stdout.contains("0042"))
        #expect(secret?.isEmpty == false)
    }

    /// Republishing the program in force (a retried script) creates no version: stores would switch for
    /// nothing and the history would say the program changed. A changed file is the next version.
    @Test func republishingTheSameProgramCreatesNothing() throws {
        let database = folder.file("hq-programs.db")
        func hq(_ arguments: [String]) throws -> AgentProcess.Outcome {
            try AgentProcess.run(arguments + ["--db", database], executable: SyncChaosTests.hqBinary)
        }
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("sync/examples/program.yaml").path
        let first = try hq(["program", "publish", example, "--json"])
        #expect(first.exitCode == 0 && first.stdout.contains("\"version\":2"), "\(first.stdout) \(first.stderr)")
        let again = try hq(["program", "publish", example])
        #expect(again.exitCode == 0 && again.stdout.contains("nothing was published"), "\(again.stdout)")
        let json = try hq(["program", "publish", example, "--json"])
        #expect(json.json["status"] as? String == "unchanged" && json.json["version"] as? Int == 2, "\(json.stdout)")
        let changed = folder.file("changed.yaml")
        let text = try String(contentsOfFile: example, encoding: .utf8)
        try text.replacingOccurrences(of: "points_per_unit: 1", with: "points_per_unit: 2").write(
            toFile: changed, atomically: true, encoding: .utf8)
        #expect(text.contains("points_per_unit: 1"), "the example's earning rate")
        let next = try hq(["program", "publish", changed, "--json"])
        #expect(next.exitCode == 0 && next.stdout.contains("\"version\":3"), "\(next.stdout) \(next.stderr)")
    }

    /// Found by an outside review: a member named `=HYPERLINK(…)` reached `report members --csv` as a
    /// formula a spreadsheet would run. It is written as text (a leading `'`); negative numbers stay.
    @Test func aNameThatLooksLikeAFormulaIsExportedAsText() throws {
        let chain = try ChainHarness(folder: folder, name: "hq-csv", stores: ["S-CSV"])
        try chain.start()
        defer { chain.stop() }
        let name = #"=HYPERLINK("http://x.example","y")"#
        #expect(try chain.till("S-CSV", ["enroll", "2900000777774", "--name", name]).exitCode == 0)
        #expect(try chain.sync("S-CSV").exitCode == 0)
        let csv = try chain.hq(["report", "members", "--csv"]).stdout
        #expect(csv.contains(#""'=HYPERLINK(""http://x.example"",""y"")""#), "\(csv)")
        #expect(!csv.contains(#","=HYPERLINK"#) && !csv.contains(#",\"=HYPERLINK"#))
    }

    /// Defect: `loyalty-hq member CARD | head -1` ended in "Fatal error: 'try!' … Broken pipe" and a
    /// backtrace. Both programs write into a pipe whose reader has gone: no crash, no backtrace.
    @Test(arguments: ["loyalty-hq", "loyalty-agent"])
    func outputIntoAClosedPipeEndsQuietly(_ program: String) throws {
        let binary = URL(fileURLWithPath: AgentProcess.binary).deletingLastPathComponent().appendingPathComponent(program)
        let process = Process()
        process.executableURL = binary
        process.arguments = ["--help"]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        // The reader is gone before the first byte is written.
        try output.fileHandleForReading.close()
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(!message.contains("Fatal error") && !message.contains("Broken pipe"), "\(message)")
        #expect(process.terminationReason == .exit || process.terminationStatus == SIGPIPE, "\(program) crashed")
        #expect(process.terminationReason != .uncaughtSignal || process.terminationStatus == SIGPIPE)
    }
}
