import Foundation
import TestSupport
import Testing

/// A till whose head office goes away and comes back: the cashier and the manager are told what
/// happened in plain words, since when, and what to check; the daemon's log says when it started
/// syncing, when head office went away and when it came back.
@Suite(.serialized) struct OfflineTillTests {
    let folder = TemporaryFolder()

    /// Defect: `sync` printed "connection reset (error set): Connection refused) (errno: 111)", with no
    /// advice and no "offline since".
    @Test func aSyncWithHeadOfficeDownSaysWhatToCheckAndSinceWhen() throws {
        let chain = try ChainHarness(folder: folder, name: "hq-offline", stores: ["S-OFF"])
        try chain.start()
        #expect(try chain.sync("S-OFF").exitCode == 0)
        chain.stop()
        let arguments = ["--db", folder.file("S-OFF.db")]
        let sync = [
            "sync", "--hq-url", "http://127.0.0.1:\(chain.port)", "--store-secret-file", folder.file("S-OFF.secret"),
        ]
        let failed = try AgentProcess.run(sync + arguments)
        #expect(failed.exitCode == 4)
        #expect(
            failed.stderr.contains("nothing answers at 127.0.0.1:\(chain.port) (connection refused)")
                && failed.stderr.contains("is loyalty-hq running there, and is hq.url right?"), "\(failed.stderr)")
        #expect(!failed.stderr.contains("errno"), "the library's words: \(failed.stderr)")
        let since = try offlineSince(arguments)
        #expect(since != nil, "status says since when head office is unreachable")
        // Still offline: since when stays the first failure.
        #expect(try AgentProcess.run(sync + arguments).exitCode == 4)
        #expect(try offlineSince(arguments) == since)
        try chain.start()
        defer { chain.stop() }
        #expect(try chain.sync("S-OFF").exitCode == 0)
        let status = try AgentProcess.run(["status"] + arguments)
        #expect(!status.stdout.contains("offline since") && !status.stdout.contains("last sync error"), "\(status.stdout)")
    }

    /// Found by an outside review: a head office that sent the answer's head and then went quiet (a cable
    /// pulled mid-answer) hung `sync` for good. The attempt ends within the request timeout (15 s) and
    /// says so. A head office that answers and refuses (a wrong secret) is no outage: no "offline since".
    @Test func aHeadOfficeGoingQuietMidAnswerEndsTheAttemptAndARefusalIsNoOutage() throws {
        let chain = try ChainHarness(folder: folder, name: "hq-quiet", stores: ["S-Q"])
        let arguments = ["--db", folder.file("S-Q.db")]
        // Answers every connection with a head and 10 bytes of a 100,000-byte body, then nothing. Debian's
        // python3 itself (a version manager's shim would leave it running when terminated, holding the
        // test runner's output open), and it ends by itself after 120 s whatever happens to the test.
        let stall = Process()
        stall.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        stall.arguments = [
            "-c",
            """
            import socket, sys, time
            server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen(8)
            print(server.getsockname()[1], flush=True)
            server.settimeout(1)
            held, end = [], time.time() + 120
            while time.time() < end:
                try:
                    connection, _ = server.accept()
                except socket.timeout:
                    continue
                connection.recv(65536)
                connection.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\nContent-Length: 100000\\r\\n\\r\\n{\\"members\\"")
                held.append(connection)
            """,
        ]
        let portPipe = Pipe()
        stall.standardOutput = portPipe
        stall.standardError = FileHandle.nullDevice
        try stall.run()
        // SIGKILL: a child of the test runner may start with SIGTERM blocked.
        defer {
            kill(stall.processIdentifier, SIGKILL)
            stall.waitUntilExit()
        }
        let port = String(decoding: portPipe.fileHandleForReading.availableData, as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let quiet = try AgentProcess.run(
            ["sync", "--hq-url", "http://127.0.0.1:\(port)", "--store-secret-file", folder.file("S-Q.secret")] + arguments)
        #expect(quiet.exitCode == 4 && quiet.stderr.contains("no answer from 127.0.0.1:\(port) within 15 s"), "\(quiet.stderr)")

        try chain.start()
        defer { chain.stop() }
        #expect(try chain.sync("S-Q").exitCode == 0)
        FileManager.default.createFile(
            atPath: folder.file("wrong.secret"), contents: Data(String(repeating: "k", count: 64).utf8),
            attributes: [.posixPermissions: 0o600])
        let refused = try AgentProcess.run(
            ["sync", "--hq-url", "http://127.0.0.1:\(chain.port)", "--store-secret-file", folder.file("wrong.secret")]
                + arguments)
        #expect(refused.exitCode != 0 && refused.stderr.contains("401"), "\(refused.stderr)")
        #expect(try offlineSince(arguments) == nil, "head office answered: the store is not offline")
    }

    /// The daemon logs that it syncs (where, how often), the first failure as a warning, and the
    /// recovery; the manager page says since when head office is unreachable.
    @Test func theDaemonLogsStartLossAndRecoveryOfHeadOffice() throws {
        let chain = try ChainHarness(folder: folder, name: "hq-recovery", stores: ["S-REC"])
        try chain.start()
        let port = chain.port
        let database = folder.file("S-REC.db")
        let daemon = try PluggedDaemon(
            devices: [],
            arguments: [
                "--db", database, "--no-scanners", "--hq-url", "http://127.0.0.1:\(port)", "--store-secret-file",
                folder.file("S-REC.secret"), "--interval", "1",
            ], folder: folder)
        defer { daemon.stop() }
        try daemon.waitForLog { $0.contains("sync with head office every 1 s") && $0.contains("127.0.0.1:\(port)") }
        chain.stop()
        // Killed between two syncs (connection refused) or in the middle of one (connection closed).
        try wait(daemon, chain) { $0.contains("WARNING sync failed: head office unreachable: ") }
        let page = try daemon.get("/manager")
        #expect(page.contains("Head office has been unreachable since"), "\(page)")
        // Head office back on the same port.
        try chain.start(["--port", "\(port)"])
        defer { chain.stop() }
        try wait(daemon, chain) { $0.contains("head office reachable again after") }
        let log = daemon.logText
        #expect(log.components(separatedBy: "sync failed: ").count == 2, "one warning, then quieter: \(log)")
        #expect(daemon.stop() == 0)
    }

    private func offlineSince(_ arguments: [String]) throws -> String? {
        let status = try AgentProcess.run(["status", "--json"] + arguments)
        return status.json["offline_since"] as? String
    }

    /// Waits (at most 60 s: the loop's backoff is random) until the daemon's log satisfies `condition`.
    private func wait(_ daemon: PluggedDaemon, _ chain: ChainHarness, until condition: (String) -> Bool) throws {
        for _ in 0..<600 where !condition(daemon.logText) { Thread.sleep(forTimeInterval: 0.1) }
        let headOffice = ["", ".err"].map { (try? String(contentsOfFile: chain.database + ".out" + $0, encoding: .utf8)) ?? "" }
        try #require(condition(daemon.logText), "the daemon's log: \(daemon.logText)\nhead office: \(headOffice)")
    }
}
