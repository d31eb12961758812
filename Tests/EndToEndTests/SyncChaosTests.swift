import TestSupport
import Foundation
import GRDB
import Testing

@testable import LedgerStore
import LoyaltyCore

/// Invariant 4 with real processes on loopback: three agents with random entries, head office
/// killed (-9) and restarted at random moments, and a fault-injecting proxy between them that drops
/// requests, loses responses after head office committed, duplicates and delays requests. Afterwards
/// head office's total per store and per member equals the stores' ledgers, every entry is stored
/// once, and every agent's backlog is 0. Members enrol, earn on cards a store has not seen, a lost card
/// is replaced and two records are merged along the way. On PostgreSQL two head-office processes share the database
/// (stateless servers), the stores' requests alternating between them at random. Against SQLite and
/// PostgreSQL.
@Suite(.serialized) struct SyncChaosTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var hqBinary: String { URL(fileURLWithPath: AgentProcess.binary).deletingLastPathComponent().appendingPathComponent("loyalty-hq").path }

    /// A free loopback port below Linux's ephemeral range (32768–60999), so a server started later
    /// on it never collides with a `--port 0` server or a client socket of a test running alongside.
    static func freePort() -> Int {
        for _ in 0..<1_000 {
            let candidate = UInt16.random(in: 20_000..<32_000)
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(descriptor) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = candidate.bigEndian
            let length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
            }
            if bound == 0 { return Int(candidate) }
        }
        preconditionFailure("no free loopback port between 20000 and 32000")
    }

    final class Background {
        let process = Process()
        let output: String
        init(_ executable: String, _ arguments: [String], output: String, environment: [String: String] = [:]) throws {
            self.output = output
            if !environment.isEmpty {
                process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            }
            FileManager.default.createFile(atPath: output, contents: nil)
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.standardOutput = FileHandle(forWritingAtPath: output)
            FileManager.default.createFile(atPath: output + ".err", contents: nil)
            process.standardError = FileHandle(forWritingAtPath: output + ".err")
            try process.run()
        }
        func waitFor(_ text: String, seconds: Double = 60) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if let content = try? String(contentsOfFile: output, encoding: .utf8), content.contains(text) { return true }
                if !process.isRunning { return false }
                usleep(50_000)
            }
            return false
        }
        func kill9() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        /// SIGTERM, then SIGKILL if it has not exited within 10 s.
        func stop() {
            if process.isRunning { process.terminate() }
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning && Date() < deadline { usleep(50_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
    }

    @Test(arguments: ["sqlite", "postgres"])
    func everyEntryReachesHeadOfficeExactlyOnceThroughFaults(_ driver: String) throws {
        let folder = TemporaryFolder()
        var storage = ["--db", folder.file("hq.db")]
        if driver == "postgres" {
            let url = try #require(ProcessInfo.processInfo.environment["LOYALTY_TEST_POSTGRES_URL"], "run through scripts/test, which starts PostgreSQL")
            let database = "chaos_" + UUID().uuidString.prefix(8).lowercased()
            let created = try AgentProcess.run(["-q", url, "-c", "CREATE DATABASE \(database)"], executable: "/usr/bin/psql")
            try #require(created.exitCode == 0, "\(created.stderr)")
            var components = try #require(URLComponents(string: url))
            components.path = "/" + database
            storage = ["--postgres", try #require(components.string)]
        }
        var random = SeededRandom(seed: TestSeed.make("sync chaos \(driver)"))
        let stores = ["S1", "S2", "S3"]
        let cards = ["2900000777774", "2900000123458", GTIN.withCheckDigit("290000055555"), GTIN.withCheckDigit("290000099999")]
        var secrets: [String: String] = [:]
        for store in stores {
            let added = try AgentProcess.run(["stores", "add", store] + storage, executable: Self.hqBinary)
            try #require(added.exitCode == 0, "\(added.stderr)")
            let secret = try #require(added.stdout.split(separator: "\n").last.map(String.init))
            FileManager.default.createFile(atPath: folder.file("\(store).secret"), contents: Data(secret.utf8), attributes: [.posixPermissions: 0o600])
            secrets[store] = secret
            for card in cards {
                _ = try AgentProcess.run(["enroll", card, "--db", folder.file("\(store).db"), "--store-id", store])
            }
        }
        // On PostgreSQL, two stateless head-office processes share the database, each behind its own fault
        // proxy; every sync goes to one of them at random, so a store's requests alternate servers. SQLite
        // is the one-process default (sync/README.md): one server.
        let serverCount = driver == "postgres" ? 2 : 1
        var hqPorts: [Int] = []
        var proxyPorts: [Int] = []
        while hqPorts.count < serverCount * 2 {
            let port = Self.freePort()
            if !hqPorts.contains(port) { hqPorts.append(port) }
        }
        proxyPorts = Array(hqPorts[serverCount...])
        hqPorts = Array(hqPorts[..<serverCount])
        var servers = try hqPorts.enumerated().map { index, port in
            try Background(Self.hqBinary, ["serve", "--port", String(port)] + storage, output: folder.file("hq\(index).out"))
        }
        for server in servers { try #require(server.waitFor("listening"), "head office did not start") }
        let proxies = try zip(proxyPorts, hqPorts).enumerated().map { index, ports in
            try Background(
                "/usr/bin/python3",
                [Self.packageRoot.appendingPathComponent("scripts/fault-proxy.py").path, String(ports.0), String(ports.1), "--seed", String(7 + index)],
                output: folder.file("proxy\(index).out"))
        }
        for proxy in proxies { try #require(proxy.waitFor("listening"), "the fault proxy did not start") }
        defer {
            for proxy in proxies { proxy.stop() }
            for server in servers { server.stop() }
        }

        func syncAll(port: Int? = nil) throws -> [Int32] {
            // The three stores sync at the same time, each through a faulty proxy picked at random (or `port`).
            let processes = try stores.map { store -> Process in
                let target = port ?? proxyPorts.randomElement(using: &random)!
                let process = Process()
                process.executableURL = URL(fileURLWithPath: AgentProcess.binary)
                process.arguments = [
                    "sync", "--db", folder.file("\(store).db"), "--hq-url", "http://127.0.0.1:\(target)",
                    "--store-secret-file", folder.file("\(store).secret"), "--json",
                ]
                process.standardOutput = FileHandle.nullDevice
                FileManager.default.createFile(atPath: folder.file("\(store).sync.err"), contents: nil)
                process.standardError = FileHandle(forWritingAtPath: folder.file("\(store).sync.err"))
                try process.run()
                return process
            }
            return processes.map {
                $0.waitUntilExit()
                return $0.terminationStatus
            }
        }
        func syncErrors() -> String {
            stores.map { (try? String(contentsOfFile: folder.file("\($0).sync.err"), encoding: .utf8)) ?? "" }.joined(separator: " | ")
        }

        var restarts = 0
        var prefix = 0
        // Members across the chain: cards enrolled at one store (some never buy), earned on provisionally
        // at stores that have not heard of them, and one lost card replaced at head office mid-run.
        var usable = cards
        var everyCard = cards
        var enrolled: [String] = []
        for round in 0..<10 {
            for store in stores {
                prefix += 1
                let card = usable.randomElement(using: &random)!
                _ = try AgentProcess.run(["award-loop", card, "--prefix", "\(store)-\(prefix)", "--count", String(Int.random(in: 5...25, using: &random)), "--db", folder.file("\(store).db")])
                _ = try AgentProcess.run(["redeem", card, "--points", String(Int.random(in: 1...8, using: &random)), "--receipt", "X\(prefix)", "--db", folder.file("\(store).db")])
                if Int.random(in: 0..<3, using: &random) == 0 {
                    let fresh = GTIN.withCheckDigit("29100000\(String(format: "%04d", prefix))")
                    let enrol = try AgentProcess.run(["enroll", fresh, "--name", "M\(prefix)", "--db", folder.file("\(store).db")])
                    #expect(enrol.exitCode == 0, "\(enrol.stderr)")
                    enrolled.append(fresh)
                    everyCard.append(fresh)
                }
                if let other = enrolled.randomElement(using: &random), Bool.random(using: &random) {
                    // Possibly a card this store has never seen: it earns provisionally, nothing is lost.
                    let sale = try AgentProcess.run([
                        "award", other, "--amount", String(Int.random(in: 1...40, using: &random)), "--receipt", "P\(prefix)",
                        "--db", folder.file("\(store).db"), "--json",
                    ])
                    #expect(sale.exitCode == 0, "\(sale.stdout) \(sale.stderr)")
                }
            }
            if round == 4 {
                // A lost card: replaced at head office; stores refuse the old one after their next pull.
                let lost = usable.removeFirst()
                let replacement = GTIN.withCheckDigit("292000000001")
                let replaced = try AgentProcess.run(["cards", "replace", lost, replacement] + storage, executable: Self.hqBinary)
                #expect(replaced.exitCode == 0, "\(replaced.stderr)")
                usable.append(replacement)
                everyCard.append(replacement)
            }
            if round == 7, enrolled.count >= 2 {
                // One person, two records: merged at head office while the stores keep selling.
                let merged = try AgentProcess.run(
                    ["members", "merge", enrolled[0], enrolled[1], "--reason", "chaos"] + storage, executable: Self.hqBinary)
                #expect([0, 1].contains(merged.exitCode), "\(merged.stderr)")  // 1: a card not at head office yet
            }
            let codes = try syncAll()
            #expect(codes.allSatisfy { [0, 4].contains($0) }, "a sync was refused: \(codes): \(syncErrors())")
            if round == 3 || Int.random(in: 0..<3, using: &random) == 0 {
                let victim = Int.random(in: 0..<servers.count, using: &random)
                servers[victim].kill9()
                restarts += 1
                servers[victim] = try Background(
                    Self.hqBinary, ["serve", "--port", String(hqPorts[victim])] + storage, output: folder.file("hq-\(restarts).out"))
                try #require(servers[victim].waitFor("listening"), "head office did not restart")
            }
        }
        // Keep syncing (faults still on) until every store reports an empty outbox.
        var settled = false
        for _ in 0..<40 where !settled {
            _ = try syncAll()
            settled = try stores.allSatisfy { try LedgerDatabase(path: folder.file("\($0).db")).status().unsyncedEntries == 0 }
        }
        #expect(settled, "some store still has a backlog")
        // Faults off: every sync must now succeed (exit 0), not merely fail "acceptably" with 4.
        for port in hqPorts {
            #expect(try syncAll(port: port) == [0, 0, 0], "a sync straight to head office (port \(port)) failed")
        }

        let totals = try AgentProcess.run(["report", "totals", "--json"] + storage, executable: Self.hqBinary)
        let rows = try #require((try JSONSerialization.jsonObject(with: Data(totals.stdout.utf8)) as? [String: Any])?["totals"] as? [[String: Any]])
        var expectedPerCard: [String: Int64] = [:]
        for store in stores {
            let ledger = try LedgerDatabase(path: folder.file("\(store).db"))
            #expect(try ledger.verify().ok)
            let (count, points) = try ledger.queue.read { db in
                (try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM entries")!, try Int64.fetchOne(db, sql: "SELECT IFNULL(SUM(points), 0) FROM entries")!)
            }
            for row in try ledger.queue.read({ try Row.fetchAll($0, sql: "SELECT card, SUM(points) FROM entries GROUP BY card") }) {
                expectedPerCard[row[0], default: 0] += row[1]
            }
            let atHeadOffice = try #require(rows.first { $0["store_id"] as? String == store })
            #expect((atHeadOffice["entries"] as? Int).map(Int64.init) == count, "\(store): every entry stored once")
            #expect((atHeadOffice["points"] as? Int).map(Int64.init) == points, "\(store): points")
            #expect(count > 50)
        }
        // Every member's balance at head office == Σ of every entry on every card it holds, at every store.
        for card in everyCard {
            let member = try AgentProcess.run(["member", card, "--json"] + storage, executable: Self.hqBinary)
            let body = (try JSONSerialization.jsonObject(with: Data(member.stdout.utf8)) as? [String: Any]) ?? [:]
            let held = (body["cards"] as? [String]) ?? []
            let expected = held.reduce(Int64(0)) { $0 + expectedPerCard[$1, default: 0] }
            if held.isEmpty {
                #expect(member.exitCode == 1 && expectedPerCard[card] == nil, "card \(card) has entries but is unknown at head office")
            } else {
                #expect((body["balance"] as? Int).map(Int64.init) == expected, "member of \(card) (cards \(held))")
            }
        }
        // Every enrolment reached head office, bought or not.
        for card in enrolled {
            let member = try AgentProcess.run(["member", card, "--json"] + storage, executable: Self.hqBinary)
            #expect(member.exitCode == 0 && member.json["enrolled_store"] is String, "enrolled \(card): \(member.stdout)")
        }
        for proxy in proxies { proxy.stop() }
        let faults = (0..<serverCount).map { (try? String(contentsOfFile: folder.file("proxy\($0).out.err"), encoding: .utf8)) ?? "" }
        #expect(faults.allSatisfy { $0.contains("lose_response") }, "every proxy should have injected faults: \(faults)")
    }
}

/// The agent's daemon: syncs on its own, retries while head office is down, stops on SIGTERM.
@Suite struct SyncDaemonTests {
    @Test func theDaemonCatchesUpAfterHeadOfficeComesBackAndStopsOnSIGTERM() throws {
        let folder = TemporaryFolder()
        let storage = ["--db", folder.file("hq.db")]
        let added = try AgentProcess.run(["stores", "add", "S1"] + storage, executable: SyncChaosTests.hqBinary)
        let secret = try #require(added.stdout.split(separator: "\n").last.map(String.init))
        FileManager.default.createFile(atPath: folder.file("S1.secret"), contents: Data(secret.utf8), attributes: [.posixPermissions: 0o600])
        let db = folder.file("S1.db")
        _ = try AgentProcess.run(["enroll", "2900000777774", "--db", db, "--store-id", "S1"])
        for index in 0..<5 {
            _ = try AgentProcess.run(["award", "2900000777774", "--amount", "10", "--receipt", "R\(index)", "--db", db])
        }
        let port = SyncChaosTests.freePort()
        // Head office is down when the daemon starts: it must back off and keep trying.
        let daemon = try SyncChaosTests.Background(
            AgentProcess.binary,
            ["daemon", "--db", db, "--hq-url", "http://127.0.0.1:\(port)", "--store-secret-file", folder.file("S1.secret"),
             "--interval", "1", "--max-backoff", "1"],
            output: folder.file("daemon.out"))
        #expect(daemon.waitFor("sync_failed", seconds: 30))
        let hq = try SyncChaosTests.Background(SyncChaosTests.hqBinary, ["serve", "--port", String(port)] + storage, output: folder.file("hq.out"))
        defer { hq.stop() }
        try #require(hq.waitFor("listening"))
        #expect(daemon.waitFor("\"event\":\"synced\"", seconds: 30), "the daemon never synced")
        let deadline = Date().addingTimeInterval(30)
        var status = try AgentProcess.run(["status", "--db", db, "--json"]).json
        while (status["unsynced_entries"] as? Int) != 0 && Date() < deadline {
            usleep(200_000)
            status = try AgentProcess.run(["status", "--db", db, "--json"]).json
        }
        #expect(status["unsynced_entries"] as? Int == 0)
        #expect(status["last_sync_success"] as? String != nil)
        daemon.process.terminate()
        daemon.process.waitUntilExit()
        #expect(daemon.process.terminationReason == .exit && daemon.process.terminationStatus == 0, "the daemon did not stop cleanly on SIGTERM")
        let member = try AgentProcess.run(["member", "2900000777774", "--json"] + storage, executable: SyncChaosTests.hqBinary)
        #expect(member.json["balance"] as? Int == 50)
    }
}

/// The agent's configuration file: head office URL, store id and secret come from it, flags and
/// environment override it, and a bad key or value stops start-up naming the key.
@Suite struct AgentConfigFileTests {
    @Test func theConfigFileDrivesTheAgentAndFlagsOverrideIt() throws {
        let folder = TemporaryFolder()
        let storage = ["--db", folder.file("hq.db")]
        let added = try AgentProcess.run(["stores", "add", "store-0042"] + storage, executable: SyncChaosTests.hqBinary)
        let secret = try #require(added.stdout.split(separator: "\n").last.map(String.init))
        FileManager.default.createFile(atPath: folder.file("secret"), contents: Data(secret.utf8), attributes: [.posixPermissions: 0o600])
        let port = SyncChaosTests.freePort()
        let config = folder.file("agent.yaml")
        try """
            # a till's settings
            db: \(folder.file("ledger.db"))
            store_id: store-0042
            offline_redeem_cap: 5
            hq:
              url: http://127.0.0.1:\(port)
              store_secret_file: \(folder.file("secret"))
            scanner:
              layout: de
            """.write(toFile: config, atomically: true, encoding: .utf8)
        #expect(try AgentProcess.run(["enroll", "2900000777774", "--config", config]).exitCode == 0)
        #expect(try AgentProcess.run(["award", "2900000777774", "--amount", "30", "--receipt", "R1", "--config", config]).exitCode == 0)
        let status = try AgentProcess.run(["status", "--json"], environment: ["LOYALTY_AGENT_CONFIG": config]).json
        #expect(status["store_id"] as? String == "store-0042")
        #expect(status["database_path"] as? String == folder.file("ledger.db"))
        // Offline (never synced): the configured cap applies.
        let capped = try AgentProcess.run(["redeem", "2900000777774", "--points", "10", "--receipt", "R2", "--config", config, "--json"])
        #expect(capped.exitCode == 1 && capped.json["error"] as? String == "offline_cap")
        // A flag overrides the file.
        #expect(try AgentProcess.run(["status", "--config", config, "--db", folder.file("other.db"), "--json"]).json["database_path"] as? String == folder.file("other.db"))

        let hq = try SyncChaosTests.Background(SyncChaosTests.hqBinary, ["serve", "--port", String(port)] + storage, output: folder.file("hq.out"))
        defer { hq.stop() }
        try #require(hq.waitFor("listening"))
        let synced = try AgentProcess.run(["sync", "--config", config, "--json"])
        #expect(synced.exitCode == 0, "\(synced.stderr)")
        // The enrolment and the sale: both travel to head office.
        #expect(synced.json["pushed_entries"] as? Int == 2)
    }

    @Test(arguments: [
        ("hq:\n  ulr: http://x\n", "hq.ulr"),
        ("stor_id: s1\n", "stor_id"),
        ("offline_redeem_cap: lots\n", "offline_redeem_cap"),
        ("store_id: [1, 2]\n", "store_id"),
        ("currency: EURO\n", "EURO"),
        ("db: [unclosed\n", "YAML"),
    ])
    func aBadKeyOrValueStopsStartUpNamingIt(_ yaml: String, _ named: String) throws {
        let folder = TemporaryFolder()
        try yaml.write(toFile: folder.file("agent.yaml"), atomically: true, encoding: .utf8)
        let outcome = try AgentProcess.run(["status", "--config", folder.file("agent.yaml"), "--db", folder.file("x.db")])
        #expect(outcome.exitCode == 2)
        #expect(outcome.stderr.contains(named), "\(outcome.stderr)")
        if named == "hq.ulr" { #expect(outcome.stderr.contains("line 2"), "the line of the wrong key: \(outcome.stderr)") }
        #expect(!FileManager.default.fileExists(atPath: folder.file("x.db")), "started despite a bad configuration")
    }

    @Test func aNamedConfigFileThatDoesNotExistIsAnError() throws {
        let outcome = try AgentProcess.run(["status", "--config", "/nonexistent/agent.yaml"])
        #expect(outcome.exitCode == 2 && outcome.stderr.contains("/nonexistent/agent.yaml"))
    }
}
