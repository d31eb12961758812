import Foundation
import TestSupport
import Testing

/// A store of several tills with a store hub on the LAN (issue 20), with real processes: a head office,
/// store 0042's three tills (till 1 the hub's daemon, tills 2 and 3 by command) and store 0050's one box.
/// Head office goes away and comes back, the hub is killed with a push in flight and comes back, a till
/// loses the hub; no entry is lost or doubled, and a member cannot spend the same points at two tills of
/// the store while the hub is reachable.
@Suite(.serialized) struct StoreHubTests {
    let folder = TemporaryFolder()
    let card = "2900000777774"

    final class Store {
        let folder: TemporaryFolder
        let hqPort = SyncChaosTests.freePort()
        let hubPort = SyncChaosTests.freePort()
        var headOffice: SyncChaosTests.Background?
        var hub: SyncChaosTests.Background?

        init(folder: TemporaryFolder) { self.folder = folder }

        var hqDatabase: String { folder.file("hq.db") }

        @discardableResult
        func hq(_ arguments: [String]) throws -> AgentProcess.Outcome {
            try AgentProcess.run(arguments + ["--db", hqDatabase], executable: SyncChaosTests.hqBinary)
        }

        /// A command at a till (`0042.2` is `t2`, store 0050's box is `t50`), with `--json`.
        func till(_ name: String, _ arguments: [String]) throws -> AgentProcess.Outcome {
            try AgentProcess.run(arguments + ["--db", folder.file("\(name).db"), "--json"])
        }

        /// Registers the stores at head office; each one's secret goes to `ID.secret` (mode 0600).
        func register(_ ids: [String]) throws {
            for id in ids {
                let added = try hq(["stores", "add", id])
                let secret = try #require(added.stdout.split(separator: "\n").last.map(String.init), "\(added.stderr)")
                FileManager.default.createFile(
                    atPath: folder.file("\(id).secret"), contents: Data(secret.utf8), attributes: [.posixPermissions: 0o600])
            }
        }

        func headOfficeOptions(secret: String) -> [String] {
            ["--hq-url", "http://127.0.0.1:\(hqPort)", "--store-secret-file", folder.file(secret)]
        }

        /// Tills 2 and 3 reach the hub with these (and head office with the store's secret).
        func withHub(_ hubPort: Int? = nil) -> [String] {
            headOfficeOptions(secret: "0042.secret") + ["--hub-url", "http://127.0.0.1:\(hubPort ?? self.hubPort)"]
        }

        func startHeadOffice(_ extra: [String] = []) throws {
            let server = try SyncChaosTests.Background(
                SyncChaosTests.hqBinary, ["serve", "--port", String(hqPort), "--db", hqDatabase] + extra,
                output: folder.file("hq-\(UUID().uuidString.prefix(6)).out"))
            try #require(server.waitFor(" (storage:"), "head office did not start")
            headOffice = server
        }

        func startHub() throws {
            let hub = try SyncChaosTests.Background(
                AgentProcess.binary,
                [
                    "run", "--db", folder.file("t1.db"), "--no-scanners", "--listen", "127.0.0.1:0", "--hub-listen",
                    "127.0.0.1:\(hubPort)", "--hub-interval-milliseconds", "300", "--interval", "2",
                ] + headOfficeOptions(secret: "0042.secret"),
                output: folder.file("hub-\(UUID().uuidString.prefix(6)).out"),
                environment: ["LOYALTY_API_TOKEN_FILE": folder.file("api-token")])
            try #require(hub.waitFor("store hub ready on"), "the store hub did not start")
            self.hub = hub
        }
    }

    func balance(_ outcome: AgentProcess.Outcome) -> Int? { (outcome.json["balance"] as? NSNumber)?.intValue }

    @Test func theStoresTillsShareOneViewThroughTheHubAndHeadOfficeGetsEveryEntryOnce() throws {
        let store = Store(folder: folder)
        try store.register(["0042", "0050"])
        for till in 1...3 {
            let joined = try store.till("t\(till)", ["init", "--store-id", "0042", "--till", String(till)])
            #expect(
                joined.exitCode == 0 && joined.json["store_id"] as? String == "0042.\(till)",
                "\(joined.stdout)\(joined.stderr)")
        }
        #expect(try store.till("t50", ["init", "--store-id", "0050"]).exitCode == 0)
        try store.startHeadOffice()
        try store.startHub()
        defer {
            store.hub?.stop()
            store.headOffice?.stop()
        }

        // Enrolled and earning at till 2; every till syncs with head office and the hub.
        #expect(try store.till("t2", ["enroll", card, "--name", "Ann"]).exitCode == 0)
        #expect(try store.till("t2", ["award", card, "--amount", "100.00", "--receipt", "R1"]).exitCode == 0)
        #expect(try store.till("t50", ["award", card, "--amount", "20.00", "--receipt", "S1"]).exitCode == 0)
        #expect(try store.till("t50", ["sync"] + store.headOfficeOptions(secret: "0050.secret")).exitCode == 0)
        for till in ["t2", "t3"] {
            let synced = try store.till(till, ["sync"] + store.withHub())
            #expect(synced.exitCode == 0, "\(synced.stdout)\(synced.stderr)")
        }
        #expect(balance(try store.till("t3", ["member", card])) == 120, "till 3 sees the member as head office does")

        // The hub's box syncs too (its daemon would within its interval; a command on the box uses the hub's tables).
        let hubSynced = try AgentProcess.run(
            ["sync", "--db", folder.file("t1.db"), "--json"] + store.headOfficeOptions(secret: "0042.secret"))
        #expect(hubSynced.exitCode == 0 && hubSynced.json["store_hub"] != nil, "\(hubSynced.stdout)\(hubSynced.stderr)")
        // The WAN goes: head office unreachable. The tills still see each other's entries through the hub.
        store.headOffice?.stop()
        let first = try store.till("t2", ["redeem", card, "--points", "60", "--receipt", "R2"] + store.withHub())
        #expect(first.exitCode == 0, "\(first.stdout)\(first.stderr)")
        // The hub's own till sees it too (found by attack), by command without the daemon's settings.
        let atTheHub = try AgentProcess.run(
            ["redeem", card, "--points", "100", "--receipt", "H1", "--db", folder.file("t1.db"), "--json"]
                + store.headOfficeOptions(secret: "0042.secret"))
        #expect(
            atTheHub.exitCode != 0 && (atTheHub.stdout + atTheHub.stderr).contains("over_balance"),
            "\(atTheHub.stdout)\(atTheHub.stderr)")
        let second = try store.till("t3", ["redeem", card, "--points", "100", "--receipt", "R3"] + store.withHub())
        #expect(second.exitCode != 0, "the same points spent again at another till of the store: \(second.stdout)")
        #expect(second.stderr.contains("60 points"), "\(second.stderr)")
        let rest = try store.till("t3", ["redeem", card, "--points", "60", "--receipt", "R3"] + store.withHub())
        #expect(rest.exitCode == 0, "\(rest.stderr)")
        #expect(balance(rest) == 0)
        #expect(try store.till("t2", ["award", card, "--amount", "50.00", "--receipt", "R4"]).exitCode == 0)
        // (The daemon exchanges every few seconds; by command, a sync does it.)
        #expect(try store.till("t2", ["sync"] + store.withHub()).json["store_hub"] != nil)
        let offline = try store.till("t3", ["sync"] + store.withHub())
        #expect(offline.exitCode == 4, "head office is unreachable: \(offline.stdout)")
        #expect(offline.json["store_hub"] != nil && offline.json["head_office_error"] != nil, "\(offline.stdout)")
        #expect(balance(try store.till("t3", ["member", card])) == 50, "till 2's sale reached till 3 through the hub")

        // The hub is killed with a push in flight; the tills then work alone, each on its own view.
        let pushing = try SyncChaosTests.Background(
            AgentProcess.binary, ["sync", "--db", folder.file("t2.db")] + store.withHub(),
            output: folder.file("push.out"))
        usleep(20_000)
        store.hub?.kill9()
        pushing.stop()
        #expect(try store.till("t2", ["award", card, "--amount", "10.00", "--receipt", "R5"]).exitCode == 0)
        let alone = try store.till("t3", ["redeem", card, "--points", "10", "--receipt", "R6"] + store.withHub())
        #expect(alone.exitCode == 0, "a till without its hub works alone: \(alone.stderr)")

        // Head office and the hub come back. Till 3 is cut off from the hub (a wrong port): it syncs alone.
        try store.startHeadOffice()
        try store.startHub()
        let partitioned = try store.till("t3", ["sync"] + store.withHub(SyncChaosTests.freePort()))
        #expect(
            partitioned.exitCode == 0, "head office reachable, the hub not: \(partitioned.stdout)\(partitioned.stderr)")
        #expect(partitioned.json["store_hub_error"] != nil, "\(partitioned.stdout)")
        // Till 2 gives its entries to the hub only: the hub relays them to head office.
        let relayedFrom = try store.till("t2", ["sync"] + store.withHub() + ["--hq-url", "http://127.0.0.1:1"])
        #expect(
            relayedFrom.json["store_hub"] != nil && relayedFrom.json["head_office_error"] != nil,
            "\(relayedFrom.stdout)\(relayedFrom.stderr)")
        let tillTwoEntries = try #require((try store.till("t2", ["status"]).json["entries"] as? NSNumber)?.intValue)
        var relayed = 0
        for _ in 0..<100 {
            let totals = try store.hq(["report", "totals", "--json"]).json["totals"] as? [[String: Any]] ?? []
            relayed = (totals.first { $0["store_id"] as? String == "0042.2" }?["entries"] as? NSNumber)?.intValue ?? 0
            if relayed == tillTwoEntries { break }
            usleep(200_000)
        }
        #expect(relayed == tillTwoEntries, "the hub relayed till 2's entries to head office")

        // Everyone syncs (twice: what one till pushed reaches the others' snapshots).
        for _ in 0..<2 {
            for till in ["t2", "t3"] {
                let synced = try store.till(till, ["sync"] + store.withHub())
                #expect(synced.exitCode == 0, "\(synced.stdout)\(synced.stderr)")
            }
            #expect(try store.till("t50", ["sync"] + store.headOfficeOptions(secret: "0050.secret")).exitCode == 0)
            usleep(1_000_000)  // the hub's own loop syncs every 2 s
        }
        let hqMember = try store.hq(["member", card, "--json"])
        let hqBalance = try #require((hqMember.json["balance"] as? NSNumber)?.intValue, "\(hqMember.stdout)")
        // 100 + 20 - 60 - 60 + 50 + 10 - 10: every entry once, whichever till or path it took.
        #expect(hqBalance == 50)
        for till in ["t1", "t2", "t3", "t50"] {
            #expect(try store.till(till, ["verify"]).exitCode == 0, "\(till)'s ledger verifies")
        }
        for till in ["t2", "t3"] {
            #expect(
                balance(try store.till(till, ["member", card])) == hqBalance, "\(till) shows head office's balance")
        }
        // Head office's totals per till equal each till's ledger; the store's total adds them up.
        let report = try store.hq(["report", "totals", "--json"]).json
        let totals = report["totals"] as? [[String: Any]] ?? []
        var storeEntries = 0
        for (till, ledger) in [("t1", "0042.1"), ("t2", "0042.2"), ("t3", "0042.3"), ("t50", "0050")] {
            let entries = (try store.till(till, ["status"]).json["entries"] as? NSNumber)?.intValue ?? -1
            let atHeadOffice =
                (totals.first { $0["store_id"] as? String == ledger }?["entries"] as? NSNumber)?.intValue ?? 0
            #expect(atHeadOffice == entries, "\(ledger): head office \(atHeadOffice), till \(entries)")
            if ledger.hasPrefix("0042.") { storeEntries += entries }
        }
        // `status` says the hub is in use: how many tills it knows, and how far it holds this till's entries.
        let tillThree = try store.till("t3", ["status"]).json
        #expect((tillThree["store_hub_tills"] as? NSNumber)?.intValue == 3, "\(tillThree)")
        #expect(
            (tillThree["store_hub_acknowledged"] as? NSNumber)?.intValue
                == (tillThree["last_seq"] as? NSNumber)?.intValue)
        // The manager's page at the hub lists every till of the store, with its scanners and backlog.
        let hubOutput = try String(contentsOfFile: try #require(store.hub?.output), encoding: .utf8)
        let apiURL = try #require(
            hubOutput.split(separator: "\n").first { $0.hasPrefix("loyalty-agent ready on ") }?.split(separator: " ")
                .last)
        // In Chromium, as the manager opens it on the hub's box.
        let dom = folder.file("manager.html")
        try PageDriver.run(
            [
                ["open": "\(apiURL)/manager"],
                ["waitFor": "#store-tills table"],
                ["dom": dom],
                ["screenshot": PageDriver.screenshots.appendingPathComponent("manager-store-tills.png").path],
            ], folder: folder)
        let html = try String(contentsOfFile: dom, encoding: .utf8)
        #expect(
            html.contains("0042.2") && html.contains("0042.3") && html.contains("0042.1 (this till)")
                && html.contains("none attached") && html.contains("id=\"other-tills-today\""),
            "\(html.suffix(3_000))")
        let stores = report["stores"] as? [[String: Any]] ?? []
        let store42 = stores.first { $0["store_id"] as? String == "0042" }
        #expect((store42?["entries"] as? NSNumber)?.intValue == storeEntries, "\(report)")
    }

    /// Found by attack: a till head office revoked still wrote through the hub, and the other tills counted
    /// its points for good (5,000 points spent that head office never held). The hub withdraws it.
    @Test func aTillHeadOfficeRevokedIsWithdrawnFromTheStore() throws {
        let store = Store(folder: folder)
        try store.register(["0042"])
        for till in 1...3 {
            #expect(try store.till("t\(till)", ["init", "--store-id", "0042", "--till", String(till)]).exitCode == 0)
        }
        // A revocation reaches head office at once (not after its 10 s credential cache).
        try store.startHeadOffice(["--credential-cache-seconds", "0"])
        try store.startHub()
        defer {
            store.hub?.stop()
            store.headOffice?.stop()
        }
        #expect(try store.till("t2", ["enroll", card, "--name", "Ann"]).exitCode == 0)
        #expect(try store.till("t2", ["award", card, "--amount", "60.00", "--receipt", "R1"]).exitCode == 0)
        #expect(try store.till("t2", ["sync"] + store.withHub()).exitCode == 0)
        #expect(try store.till("t3", ["sync"] + store.withHub()).exitCode == 0)
        #expect(try store.hq(["stores", "revoke", "0042.3"]).exitCode == 0)
        #expect(try store.till("t3", ["award", card, "--amount", "5000.00", "--receipt", "REV1"]).exitCode == 0)
        _ = try store.till("t3", ["sync"] + store.withHub())  // head office refuses it; the hub takes it first
        var withdrawn = false
        for _ in 0..<100 where !withdrawn {
            let exchanged = try store.till("t2", ["sync"] + store.withHub() + ["--hq-url", "http://127.0.0.1:1"])
            let tills = (exchanged.json["store_hub"] as? [String: Any])?["tills"] as? [[String: Any]] ?? []
            withdrawn = tills.contains { $0["ledger"] as? String == "0042.3" && $0["refused"] != nil }
            if !withdrawn { usleep(200_000) }
        }
        #expect(withdrawn, "the hub learnt from head office that till 3 is revoked")
        #expect(balance(try store.till("t2", ["member", card])) == 60, "till 3's refused points do not count")
        let overspend = try store.till("t2", ["redeem", card, "--points", "61", "--receipt", "R2"] + store.withHub())
        #expect(overspend.exitCode != 0, "\(overspend.stdout)")
        let refused = try store.till("t3", ["sync"] + store.withHub() + ["--hq-url", "http://127.0.0.1:1"])
        #expect((refused.json["store_hub_error"] as? String)?.contains("till_refused") == true, "\(refused.stdout)")
    }

    /// Found by attack: two till daemons asked to redeem the same points at the same moment (POS API) both
    /// spent them. The hub holds points for one redemption at a time: exactly one is taken.
    @Test func twoTillDaemonsRedeemingTheSamePointsAtOnceSpendThemOnce() throws {
        let store = Store(folder: folder)
        try store.register(["0042"])
        for till in 1...3 {
            #expect(try store.till("t\(till)", ["init", "--store-id", "0042", "--till", String(till)]).exitCode == 0)
        }
        try store.startHeadOffice()
        try store.startHub()
        #expect(try store.till("t2", ["enroll", card, "--name", "Ann"]).exitCode == 0)
        #expect(try store.till("t2", ["award", card, "--amount", "100.00", "--receipt", "R1"]).exitCode == 0)
        for till in ["t2", "t3"] { #expect(try store.till(till, ["sync"] + store.withHub()).exitCode == 0) }
        store.headOffice?.stop()
        var daemons: [SyncChaosTests.Background] = []
        defer {
            for daemon in daemons { daemon.stop() }
            store.hub?.stop()
        }
        var urls: [String] = []
        for till in ["t2", "t3"] {
            let daemon = try SyncChaosTests.Background(
                AgentProcess.binary,
                ["run", "--db", folder.file("\(till).db"), "--no-scanners", "--listen", "127.0.0.1:0"]
                    + store.withHub(),
                output: folder.file("\(till)-daemon.out"),
                environment: ["LOYALTY_API_TOKEN_FILE": folder.file("api-token")])
            daemons.append(daemon)
            try #require(daemon.waitFor("loyalty-agent ready on"), "till \(till)'s daemon did not start")
            let line = try String(contentsOfFile: daemon.output, encoding: .utf8)
            urls.append(String(try #require(line.split(separator: "\n").first?.split(separator: " ").last)))
        }
        let token = try String(contentsOfFile: folder.file("api-token"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        // Both at the same moment.
        let requests = try urls.enumerated().map { index, url in
            let curl = Process()
            curl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            curl.arguments = [
                "curl", "-s", "--max-time", "20", "-X", "POST", "-H", "Content-Type: application/json", "-H",
                "Authorization: Bearer \(token)", "-d", #"{"card":"\#(card)","points":60,"receipt":"Z\#(index)"}"#,
                url + "/v1/redemptions",
            ]
            let output = Pipe()
            curl.standardOutput = output
            try curl.run()
            return (curl, output)
        }
        let answers = requests.map { curl, output in
            let data = output.fileHandleForReading.readDataToEndOfFile()
            curl.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }
        let taken = answers.filter { $0.contains(#""balance":40"#) }
        #expect(taken.count == 1 && answers.contains { $0.contains("over_balance") }, "\(answers)")
        // Every till ends with 40 (the hub relays both tills' entries; no till shows -20).
        for till in ["t2", "t3"] {
            var shown: Int?
            for _ in 0..<50 {
                shown = balance(try store.till(till, ["member", card]))
                if shown == 40 { break }
                usleep(200_000)
            }
            #expect(shown == 40, "\(till)")
        }
    }

    /// A till of another store, or a request not signed by a till of the store, gets nothing from the hub.
    @Test func theHubServesOnlyItsOwnStoresTills() throws {
        let store = Store(folder: folder)
        try store.register(["0042", "0050"])
        #expect(try store.till("t1", ["init", "--store-id", "0042", "--till", "1"]).exitCode == 0)
        #expect(try store.till("t9", ["init", "--store-id", "0050", "--till", "9"]).exitCode == 0)
        try store.startHeadOffice()
        try store.startHub()
        defer {
            store.hub?.stop()
            store.headOffice?.stop()
        }
        #expect(try store.till("t9", ["award", card, "--amount", "10.00", "--receipt", "X1"]).exitCode == 0)
        let foreign = try store.till(
            "t9",
            ["sync"] + store.headOfficeOptions(secret: "0050.secret") + [
                "--hub-url", "http://127.0.0.1:\(store.hubPort)",
            ])
        #expect((foreign.json["store_hub_error"] as? String)?.contains("wrong_store") == true, "\(foreign.stdout)")
        // Signed with another store's secret while claiming a till of 0042: refused.
        #expect(try store.till("t2", ["init", "--store-id", "0042", "--till", "2"]).exitCode == 0)
        let offline = ["--hq-url", "http://127.0.0.1:1"]
        let forged = try store.till(
            "t2",
            ["sync"] + store.headOfficeOptions(secret: "0050.secret") + [
                "--hub-url", "http://127.0.0.1:\(store.hubPort)",
            ] + offline)
        #expect(
            (forged.json["store_hub_error"] as? String)?.contains("bad_signature") == true,
            "\(forged.stdout)\(forged.stderr)")
        // Signed rightly: the hub lists the store's tills, none of another store.
        let honest = try store.till("t2", ["sync"] + store.withHub() + offline)
        let known = (honest.json["store_hub"] as? [String: Any])?["tills"] as? [[String: Any]] ?? []
        let ledgers = Set(known.compactMap { $0["ledger"] as? String })
        #expect(ledgers == ["0042.1", "0042.2"], "\(honest.stdout)\(honest.stderr)")
    }
}
