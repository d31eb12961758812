import Foundation
import LoyaltyCore
import TestSupport
import Testing

/// Head office scaled out as `sync/README.md` deploys it: two stateless `loyalty-hq serve` processes on one
/// PostgreSQL primary, behind nginx with TLS (`deploy/nginx/loyalty-hq.conf`, the shipped file), and a
/// streaming replica (`pg_basebackup`) that the reports read (`--postgres-replica`). Tills sync at the same
/// time through nginx while one head-office process is killed: no sync fails beyond its next attempt, and
/// every balance read from the replica equals the tills' ledgers.
@Suite(.serialized) struct ScaleOutTests {
    static let storeCount = 8
    static let awardsPerCard = 6

    @Test func tillsSyncThroughNginxWhileAProcessDiesAndReportsReadTheReplica() throws {
        let primary = try #require(
            ProcessInfo.processInfo.environment["LOYALTY_TEST_POSTGRES_URL"], "run through scripts/test, which starts PostgreSQL")
        let folder = TemporaryFolder()
        let database = "scale_" + UUID().uuidString.prefix(8).lowercased()
        let created = try AgentProcess.run(["-q", primary, "-c", "CREATE DATABASE \(database)"], executable: "/usr/bin/psql")
        try #require(created.exitCode == 0, "\(created.stderr)")
        var components = try #require(URLComponents(string: primary))
        components.path = "/" + database
        let storage = ["--postgres", try #require(components.string)]

        // Stores and their secrets (this also migrates the database, before the replica copies it).
        let stores = (0..<Self.storeCount).map { "SO\($0)" }
        for store in stores {
            let added = try AgentProcess.run(["stores", "add", store] + storage, executable: SyncChaosTests.hqBinary)
            try #require(added.exitCode == 0, "\(added.stderr)")
            let secret = try #require(added.stdout.split(separator: "\n").last.map(String.init))
            FileManager.default.createFile(
                atPath: folder.file("\(store).secret"), contents: Data(secret.utf8), attributes: [.posixPermissions: 0o600])
        }
        let replica = try StreamingReplica(primary: primary)
        defer { replica.stop() }

        // Two head-office processes and nginx in front of them.
        let hqPorts = [SyncChaosTests.freePort(), SyncChaosTests.freePort()]
        let servers = try hqPorts.enumerated().map { index, port in
            try SyncChaosTests.Background(
                SyncChaosTests.hqBinary,
                ["serve", "--port", String(port), "--max-connections-per-client", "4096"] + storage,
                output: folder.file("hq\(index).out"))
        }
        defer { for server in servers { server.stop() } }
        for server in servers { try #require(server.waitFor("listening"), "head office did not start") }
        let tls = HeadOfficeTLSTests()
        let authority = try tls.authority("scale")
        let nginx = try NginxFrontEnd(upstreams: hqPorts, certificate: authority.certificate, key: authority.key, folder: folder)
        defer { nginx.stop() }
        let base = "https://127.0.0.1:\(nginx.port)"

        // Loopback is not authentication: through nginx, a client naming a loopback Host gets no dashboard.
        let spoofed = try AgentProcess.run(
            ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", authority.ca, "-H", "Host: 127.0.0.1", base + "/dashboard"],
            executable: "/usr/bin/curl")
        #expect(spoofed.stdout != "200", "the dashboard was served through nginx to a spoofed loopback Host")

        // Every store's till: two cards, a few sales each.
        var cards: [String: [String]] = [:]
        for (index, store) in stores.enumerated() {
            let till = folder.file("\(store).db")
            #expect(try AgentProcess.run(["init", "--store-id", store, "--db", till]).exitCode == 0)
            cards[store] = (0..<2).map { GTIN.withCheckDigit(String(format: "2907%05d%03d", index, $0)) }
            for card in cards[store]! { try award(card, count: Self.awardsPerCard, prefix: "A", till: till) }
        }
        /// Syncs `stores` at the same time, as tills do after a network outage: each store's exit status,
        /// its error output in `STORE.sync.err`.
        func sync(_ stores: [String]) throws -> [String: Int32] {
            let processes = try stores.map { store -> Process in
                let process = Process()
                process.executableURL = URL(fileURLWithPath: AgentProcess.binary)
                process.arguments = [
                    "sync", "--hq-url", base, "--store-secret-file", folder.file("\(store).secret"), "--hq-ca-file", authority.ca,
                    "--db", folder.file("\(store).db"), "--json",
                ]
                process.standardOutput = FileHandle.nullDevice
                FileManager.default.createFile(atPath: folder.file("\(store).sync.err"), contents: nil)
                process.standardError = FileHandle(forWritingAtPath: folder.file("\(store).sync.err"))
                try process.run()
                return process
            }
            var statuses: [String: Int32] = [:]
            for (store, process) in zip(stores, processes) {
                process.waitUntilExit()
                statuses[store] = process.terminationStatus
            }
            return statuses
        }
        func errors(_ store: String) -> String {
            (try? String(contentsOfFile: folder.file("\(store).sync.err"), encoding: .utf8)) ?? ""
        }

        // All stores sync at once; one head-office process is killed while they do.
        let syncing = Date()
        let victim = servers[0].process.processIdentifier
        let killer = Thread {
            usleep(300_000)
            kill(victim, SIGKILL)
        }
        killer.start()
        let first = try sync(stores)
        while servers[0].process.isRunning && Date().timeIntervalSince(syncing) < 30 { usleep(50_000) }
        #expect(!servers[0].process.isRunning, "the first head-office process was killed")
        let failed = stores.filter { first[$0] != 0 }
        print("scale-out: \(failed.count) of \(stores.count) syncs failed when a head-office process was killed; they try again")
        // The failed ones try again, once: nginx sends them to the process still running.
        let retried = try sync(failed)
        for store in failed { #expect(retried[store] == 0, "\(store) failed again: \(errors(store))") }
        // More sales and another sync with one process down: every sync succeeds at the first attempt.
        for store in stores {
            for card in cards[store]! { try award(card, count: 2, prefix: "B", till: folder.file("\(store).db")) }
        }
        let second = try sync(stores)
        for store in stores { #expect(second[store] == 0, "\(store): \(errors(store))") }

        // The replica has everything the primary has (it says how far behind it is), and every balance
        // read there equals the till's own ledger.
        let replicaStorage = storage + ["--postgres-replica", replica.url(database: database)]
        var balances: [String: Int] = [:]
        var lagReported = false
        let deadline = Date().addingTimeInterval(30)
        repeat {
            let report = try AgentProcess.run(
                ["report", "members", "--json"] + replicaStorage, executable: SyncChaosTests.hqBinary)
            try #require(report.exitCode == 0, "\(report.stderr)")
            let rows = report.json["members"] as? [[String: Any]] ?? []
            balances = Dictionary(rows.compactMap { row in (row["card"] as? String).map { ($0, row["balance"] as? Int ?? -1) } }) {
                first, _ in first
            }
            lagReported = (report.json["read_from_replica"] as? [String: Any])?["seconds_behind"] != nil
            if balances.count == stores.count * 2 { break }
            usleep(200_000)
        } while Date() < deadline
        #expect(lagReported, "a report read from the replica says how far behind it is")
        for store in stores {
            for card in cards[store]! {
                let till = try AgentProcess.run(["member", card, "--json", "--db", folder.file("\(store).db")])
                let expected = till.json["balance"] as? Int
                #expect(expected != nil && balances[card] == expected, "\(card) of \(store): replica \(balances[card] ?? -1), till \(expected ?? -1)")
            }
        }
        let lag = try AgentProcess.run(["report", "replica", "--json"] + replicaStorage, executable: SyncChaosTests.hqBinary)
        #expect(lag.exitCode == 0 && lag.json["streaming"] as? Bool == true, "\(lag.stdout) \(lag.stderr)")
        // Reports never write: the primary given as the replica is refused, not read as if it were one.
        let notReplica = try AgentProcess.run(
            ["report", "totals", "--json"] + storage + ["--postgres-replica", try #require(components.string)],
            executable: SyncChaosTests.hqBinary)
        #expect(notReplica.exitCode != 0 && notReplica.stderr.contains("not a standby"), "\(notReplica.stderr)")
    }

    func award(_ card: String, count: Int, prefix: String, till: String) throws {
        let loop = try AgentProcess.run(["award-loop", card, "--prefix", "\(prefix)\(card)", "--count", String(count), "--amount", "12.34", "--db", till])
        try #require(loop.exitCode == 0, "\(loop.stderr)")
    }
}
