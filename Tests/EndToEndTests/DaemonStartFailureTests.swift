import Foundation
import TestSupport
import Testing

/// A daemon that cannot start says why and exits; found by attack: with head office configured, a start-up that
/// failed after the head-office client was made crashed ("Client not shut down before the deinit") instead.
@Suite struct DaemonStartFailureTests {
    let folder = TemporaryFolder()

    @Test func aDaemonWhosePortIsTakenExitsWithTheReasonAndNoCrash() throws {
        let chain = try ChainHarness(folder: folder, name: "hq-port", stores: ["A"])
        try chain.start()
        defer { chain.stop() }
        // Head office's own port is taken: the till's API cannot listen there.
        let outcome = try AgentProcess.run([
            "run", "--no-scanners", "--listen", "127.0.0.1:\(chain.port)", "--hq-url", "http://127.0.0.1:\(chain.port)",
            "--store-secret-file", folder.file("A.secret"), "--db", folder.file("A.db"),
        ])
        #expect(outcome.exitCode != 0, "\(outcome.stdout)")
        #expect(!outcome.stderr.contains("Fatal error"), "\(outcome.stderr)")
        #expect(!outcome.stdout.contains("ready on"), "\(outcome.stdout)")
    }

    /// Found by review: the store hub's port taken by another program stopped the till with exit 3, but only after
    /// it had printed "ready" (a POS or systemd waiting for it took the till for served).
    @Test func aStoreHubWhosePortIsTakenNeverSaysReady() throws {
        let chain = try ChainHarness(folder: folder, name: "hub-port", stores: ["0042"])
        try chain.start()
        defer { chain.stop() }
        let initialised = try chain.till("t1", ["init", "--store-id", "0042", "--till", "1"])
        #expect(initialised.exitCode == 0, "\(initialised.stderr)")
        let outcome = try AgentProcess.run([
            "run", "--no-scanners", "--listen", "127.0.0.1:0", "--hub-listen", "127.0.0.1:\(chain.port)",
            "--hq-url", "http://127.0.0.1:\(chain.port)", "--store-secret-file", folder.file("0042.secret"),
            "--db", folder.file("t1.db"),
        ])
        #expect(outcome.exitCode == 3, "\(outcome.stdout)\n\(outcome.stderr)")
        #expect(outcome.stderr.contains("another program already listens there"), "\(outcome.stderr)")
        #expect(!outcome.stderr.contains("Fatal error"), "\(outcome.stderr)")
        #expect(!outcome.stdout.contains("ready on"), "\(outcome.stdout)")
    }
}
