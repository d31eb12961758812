import Foundation
import LedgerStore
import LoyaltyCore
import TestSupport
import Testing

/// The kiosk and manager pages in headless Chromium, live from scans replayed under umockdev. Each
/// test asserts on the rendered DOM and keeps its screenshots in `.build/page-screenshots/`.
@Suite(.serialized) struct PageTests {
    let folder = TemporaryFolder()
    static let card = "2900000777774"

    /// A till with a member (Ada, 42.00 spent) and another member (Grace) close to silver; nil
    /// `database`: a till of its own (`till.db`), else one a chain harness already bound.
    func till(_ bound: String? = nil) throws -> String {
        let database = bound ?? folder.file("till.db")
        if bound == nil {
            #expect(try AgentProcess.run(["init", "--store-id", "S-PAGES", "--db", database]).exitCode == 0)
        }
        #expect(try AgentProcess.run(["enroll", Self.card, "--name", "Ada", "--db", database]).exitCode == 0)
        #expect(
            try AgentProcess.run(["award", Self.card, "--amount", "42.00", "--receipt", "R-1", "--db", database])
                .exitCode == 0)
        let close = GTIN.withCheckDigit("290000012345")
        #expect(try AgentProcess.run(["enroll", close, "--name", "Grace", "--db", database]).exitCode == 0)
        #expect(
            try AgentProcess.run(["award", close, "--amount", "460.00", "--receipt", "R-2", "--db", database]).exitCode
                == 0)
        return database
    }

    @Test func theKioskShowsTheScannedMemberAndStoresTheFeedbackTap() throws {
        let chain = try ChainHarness(folder: folder, name: "hq-kiosk", stores: ["S-PAGES"])
        let database = try till(folder.file("S-PAGES.db"))
        let daemon = try PluggedDaemon(
            devices: [.init(fixture: "honeywell-us-ean13", eventNumber: 5)],
            arguments: ["--db", database, "--layout", "us"],
            folder: folder, environment: ["JOURNAL_STREAM": "8:1234"])
        defer { daemon.stop() }
        let shots = PageDriver.screenshots
        let dom = folder.file("kiosk-member.html")
        try PageDriver.run(
            [
                ["open": daemon.url + "/kiosk"],
                // The page follows the scan stream before the customer scans.
                ["waitFor": "#kiosk[data-state=waiting]"],
                ["screenshot": shots.appendingPathComponent("kiosk-waiting.png").path],
                ["signal": Int(daemon.pid), "name": "SIGUSR1"],
                ["waitFor": "#kiosk[data-state=member]"],
                ["dom": dom],
                ["screenshot": shots.appendingPathComponent("kiosk-member.png").path],
                ["tap": "[data-score='4']"],
                ["waitFor": "#thanks:not([hidden])"],
                ["screenshot": shots.appendingPathComponent("kiosk-thanks.png").path],
            ], folder: folder)
        let html = try String(contentsOfFile: dom, encoding: .utf8)
        #expect(html.contains("Welcome, Ada"), "the member's name")
        #expect(html.contains(#"<span id="member-balance">42</span>"#), "the balance from the ledger")
        #expect(html.contains(#"<strong id="member-tier">base</strong>"#))
        #expect(html.contains("458.00 more to spend for silver"), "progress to the next tier")
        #expect(!html.contains(Self.card), "the full card number is never shown")

        // The metrics count what happened: three scans (one member), one attached scanner, one answer.
        try daemon.waitForLog { $0.components(separatedBy: "scan card=").count > 3 }
        let metrics = try daemon.get("/metrics")
        for line in [
            #"loyalty_scans_total{outcome="member"} 1"#, #"loyalty_scans_total{outcome="not_a_member_card"} 1"#,
            #"loyalty_scans_total{outcome="bad_check_digit"} 1"#, "loyalty_scanners_attached 1",
            "loyalty_feedback_answers_total 1",
            "loyalty_sync_backlog_entries 5",
        ] {
            #expect(metrics.contains(line + "\n") || metrics.contains(line + ".0\n"), "\(line) in \(metrics)")
        }
        #expect(daemon.stop() == 0)
        // Under systemd the log lines carry their syslog priority, and never a full card number.
        let log = daemon.logText
        #expect(log.contains("<5>attached usb-0c2e:0b61") && log.contains("<6>scan card=…7774"), "\(log)")
        #expect(!log.contains(Self.card), "a full card number in the log: \(log)")

        // The tap is in the ledger as the member's answer, on its way to head office.
        let ledger = try LedgerDatabase(path: database)
        let answers = try ledger.outbox(limit: 100).filter { $0.feedbackScore != nil }
        #expect(
            answers.count == 1 && answers.first?.feedbackScore == 4 && answers.first?.card == Self.card, "\(answers)")

        // At head office the answer makes Ada's attitude high (average kiosk answer ≥ 4).
        try chain.start()
        defer { chain.stop() }
        #expect(try chain.sync("S-PAGES").exitCode == 0)
        let types = try chain.hq(["report", "loyalty-types", "--json"]).json["members"] as? [[String: Any]] ?? []
        let ada = types.first { $0["card"] as? String == Self.card }
        #expect(ada?["attitude_high"] as? Bool == true, "\(types)")
        let grace = types.first { $0["card"] as? String == GTIN.withCheckDigit("290000012345") }
        #expect(grace?["attitude_high"] as? Bool == false, "no answer, no referral")
    }

    @Test func theManagerPageShowsScannersTotalsTierProspectsAndProblems() throws {
        let database = try till()
        let daemon = try PluggedDaemon(
            devices: [
                .init(fixture: "honeywell-us-ean13", eventNumber: 5),
                .init(fixture: "unknown-fast-typist", eventNumber: 7),
            ],
            arguments: ["--db", database, "--layout", "us", "--scanner", "0c2e:0b61"], folder: folder)
        defer { daemon.stop() }
        try daemon.plugNext()
        kill(daemon.pid, SIGUSR1)
        try daemon.waitForLog { $0.contains("likely scanner") }
        let dom = folder.file("manager.html")
        try PageDriver.run(
            [
                ["open": daemon.url + "/manager"],
                ["waitFor": "#scanners table"],
                ["dom": dom],
                ["screenshot": PageDriver.screenshots.appendingPathComponent("manager.png").path],
            ], folder: folder)
        let html = try String(contentsOfFile: dom, encoding: .utf8)
        #expect(html.contains("Store S-PAGES"))
        #expect(html.contains("usb-0c2e:0b61-Honeywell"), "the attached scanner")
        #expect(
            html.contains(#"id="likely-scanners""#) && html.contains("1a2b:3c4d"),
            "the unconfigured device that types like a scanner")
        #expect(html.contains(#"<div class="figure" id="sales-today">502.00</div>"#), "today's net sales")
        #expect(html.contains(#"<div class="figure" id="points-issued">502</div>"#))
        #expect(
            html.contains(
                "<td>Grace</td><td>••••\(GTIN.withCheckDigit("290000012345").suffix(4))</td><td>base</td><td>40.00 EUR to silver</td>"
            ), "a member close to silver")
        #expect(!html.contains("Ada</td>"), "Ada is far from silver")
        #expect(html.contains("No head office is configured"), "problems in plain words")
        #expect(html.contains("add 1a2b:3c4d to scanner.allow"))
        #expect(!html.contains("No scanner is attached"))
        #expect(html.contains(#"id="ledger-health" class="ok">ok<"#))
        #expect(daemon.stop() == 0)
    }

    /// Defect: on a till without readers (`--no-scanners`), a card the POS sent with a sale never reached
    /// the kiosk, which stayed on "Scan your member card". The sale's card now shows like a scan, with
    /// the balance after the sale; the event says where it came from (`pos`).
    @Test func theKioskShowsACardTheCashierTypedAtThePOS() throws {
        let database = try till()
        let daemon = try PluggedDaemon(devices: [], arguments: ["--db", database, "--no-scanners"], folder: folder)
        defer { daemon.stop() }
        let token = PluggedDaemon.token(database: database)
        let sale = #"{"card": "2900 0007 7777 4", "receipt": "POS-1", "amount": "8.00"}"#
        let dom = folder.file("kiosk-typed.html")
        try PageDriver.run(
            [
                ["open": daemon.url + "/kiosk"],
                ["waitFor": "#kiosk[data-state=waiting]"],
                [
                    "run": [
                        "curl", "-sf", "-X", "POST", "-H", "Authorization: Bearer \(token)", "-H",
                        "Content-Type: application/json", "--data", sale, daemon.url + "/v1/sales",
                    ]
                ],
                ["waitFor": "#kiosk[data-state=member]"],
                ["dom": dom],
                ["screenshot": PageDriver.screenshots.appendingPathComponent("kiosk-typed.png").path],
            ], folder: folder)
        let html = try String(contentsOfFile: dom, encoding: .utf8)
        #expect(html.contains("Welcome, Ada"), "the member the POS named")
        #expect(html.contains(#"<span id="member-balance">50</span>"#), "42 before, 8 for this sale")
        let events = try PluggedDaemon.keptScans(daemon.url, token: token, waitingSeconds: 1)
        #expect(events.count == 1 && events.first?["device"] as? String == "pos", "\(events)")
        #expect(daemon.stop() == 0)
    }

    /// Under a program whose tiers count points (sync/examples/program-points-tiers.yaml), the kiosk shows
    /// the points still needed and the tier's benefits, and the manager page the points a member is short.
    @Test func theKioskAndManagerPageShowPointsProgressAndTierBenefitsWhenTiersCountPoints() throws {
        let chain = try ChainHarness(folder: folder, name: "hq-points-kiosk", stores: ["S-POINTS"])
        try chain.start()
        defer { chain.stop() }
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("sync/examples/program-points-tiers.yaml").path
        #expect(try chain.hq(["program", "publish", example]).exitCode == 0)
        #expect(try chain.sync("S-POINTS").exitCode == 0)
        let database = folder.file("S-POINTS.db")
        let grace = GTIN.withCheckDigit("290000012345")
        // Ada: 520 points and the 50-point first-purchase bonus, silver; Grace: 430 + 50, 20 short of silver.
        for (card, name, amount) in [(Self.card, "Ada", "520.00"), (grace, "Grace", "430.00")] {
            #expect(try AgentProcess.run(["enroll", card, "--name", name, "--db", database]).exitCode == 0)
            let award = try AgentProcess.run(["award", card, "--amount", amount, "--receipt", "P-\(name)", "--db", database])
            #expect(award.exitCode == 0, "\(award.stderr)")
        }
        let daemon = try PluggedDaemon(
            devices: [.init(fixture: "honeywell-us-ean13", eventNumber: 5)], arguments: ["--db", database, "--layout", "us"],
            folder: folder)
        defer { daemon.stop() }
        let kiosk = folder.file("kiosk-points.html")
        let manager = folder.file("manager-points.html")
        try PageDriver.run(
            [
                ["open": daemon.url + "/kiosk"],
                ["waitFor": "#kiosk[data-state=waiting]"],
                ["signal": Int(daemon.pid), "name": "SIGUSR1"],
                ["waitFor": "#kiosk[data-state=member]"],
                ["dom": kiosk],
                ["screenshot": PageDriver.screenshots.appendingPathComponent("kiosk-points.png").path],
                ["open": daemon.url + "/manager"],
                ["waitFor": "#scanners table"],
                ["dom": manager],
            ], folder: folder)
        let html = try String(contentsOfFile: kiosk, encoding: .utf8)
        #expect(html.contains(#"<strong id="member-tier">silver</strong>"#), "upgraded by points at the till")
        #expect(html.contains(#"<p id="member-benefits" class="muted">Your silver benefits: free coffee at the bakery counter</p>"#))
        #expect(html.contains("930 more points for gold"), "1,500 − 570 points")
        let page = try String(contentsOfFile: manager, encoding: .utf8)
        #expect(page.contains("<td>base</td><td>20 points to silver</td>"), "Grace, 20 points short")
        #expect(daemon.stop() == 0)
    }
}
