import Foundation
import TestSupport
import Testing

/// A head office on SQLite (real `loyalty-hq`) with registered stores whose tills are bound, for the
/// end-to-end tests of members across the chain.
final class ChainHarness {
    let folder: TemporaryFolder
    let database: String
    private var server: SyncChaosTests.Background?
    private(set) var port = 0

    /// Registers `stores` at a new head office and binds each till's ledger (`STORE.db`) to its id.
    init(folder: TemporaryFolder, name: String, stores: [String]) throws {
        self.folder = folder
        database = folder.file("\(name).db")
        for store in stores {
            let added = try hq(["stores", "add", store])
            let secret = try #require(added.stdout.split(separator: "\n").last.map(String.init), "\(added.stderr)")
            FileManager.default.createFile(
                atPath: folder.file("\(store).secret"), contents: Data(secret.utf8), attributes: [.posixPermissions: 0o600])
            #expect(try till(store, ["init", "--store-id", store]).exitCode == 0)
        }
    }

    /// Starts `loyalty-hq serve` on a port the kernel picks (read back from its first line), so two
    /// suites running at once never share a port.
    func start(_ extraArguments: [String] = []) throws {
        let server = try SyncChaosTests.Background(
            SyncChaosTests.hqBinary, ["serve", "--port", "0", "--db", database] + extraArguments, output: database + ".out")
        self.server = server
        // Wait for the whole line (the port and what follows it): a read can catch the line half-written.
        try #require(server.waitFor(" (storage:"), "head office did not start")
        let line = try String(contentsOfFile: database + ".out", encoding: .utf8)
        let digits = line.split(separator: "http://127.0.0.1:").last?.prefix { $0.isNumber } ?? ""
        port = try #require(Int(digits), "no port in: \(line)")
    }

    func stop() { server?.stop() }

    /// A `loyalty-hq` command on this head office's database.
    @discardableResult
    func hq(_ arguments: [String]) throws -> AgentProcess.Outcome {
        try AgentProcess.run(arguments + ["--db", database], executable: SyncChaosTests.hqBinary)
    }

    /// A `loyalty-agent` command at `store`'s till, with `--json`.
    func till(_ store: String, _ arguments: [String]) throws -> AgentProcess.Outcome {
        try AgentProcess.run(arguments + ["--db", folder.file("\(store).db"), "--json"])
    }

    /// One sync of `store` with the running head office.
    func sync(_ store: String) throws -> AgentProcess.Outcome {
        let outcome = try till(
            store, ["sync", "--hq-url", "http://127.0.0.1:\(port)", "--store-secret-file", folder.file("\(store).secret")])
        if outcome.exitCode != 0 {
            // What head office said about it, for the test log.
            let log = (try? String(contentsOfFile: database + ".out", encoding: .utf8)) ?? ""
            print("sync of \(store) failed: \(outcome.stderr)\nhead office (port \(port)) log tail:\n\(log.suffix(2_000))")
        }
        return outcome
    }
}
