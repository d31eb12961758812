import ArgumentParser
import LedgerStore

struct Verify: LedgerCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check every ledger invariant; exits 3 if any fails.",
        discussion: "Balance == sum of entries for every member, sequence contiguity, refunds within their sales, SQLite integrity_check.")

    @OptionGroup var global: GlobalOptions

    struct Output: Encodable {
        var ok: Bool
        var members: Int64
        var entries: Int64
        var checks: [VerificationReport.Check]
    }

    func execute(_ ledger: LedgerDatabase) throws -> CommandOutput {
        let report = try ledger.verify()
        var lines = [report.ok ? "Ledger OK: \(report.members) members, \(report.entries) entries." : "LEDGER FAILED VERIFICATION — stop the agent and call support; keep a copy of the database file."]
        for check in report.checks {
            lines.append("  [\(check.ok ? "ok" : "FAIL")] \(check.name): \(check.detail)")
        }
        return CommandOutput(
            json: Output(ok: report.ok, members: report.members, entries: report.entries, checks: report.checks),
            human: lines.joined(separator: "\n"), exitCode: report.ok ? 0 : AgentExit.storage.rawValue)
    }
}
