import CardReader
import CommandLineOutput
import Foundation
import HeadOffice
import LedgerStore
import LoyaltyCore
import PointOfSaleAPI
import SyncClient
import SyncProtocol

/// The demo's story, step by step, printed as it happens.
struct DemoScript {
    let work: String
    let fixtures: String
    let recording = "honeywell-us-ean13"
    let ben = "2900000123458"

    /// Runs the story; true when every ledger verifies and head office agrees with the stores.
    /// - Parameter serveSeconds: how long the pages stay up at the end (-1: until Enter).
    func run(serveSeconds: Int) async throws -> Bool {
        say("Loyalty agent demo — real code on throw-away databases in \(work)")
        let headOffice = try SQLiteHeadOfficeStore(path: work + "/hq.db")
        try await headOffice.migrate()
        var secrets: [String: String] = [:]
        for store in ["north", "south"] {
            secrets[store] = RequestSigning.newSecret()
            try await headOffice.addStore(id: store, secret: secrets[store]!, now: Date())
        }
        let north = try LedgerDatabase(path: work + "/north.db", creating: .init(storeId: "north"))
        let south = try LedgerDatabase(path: work + "/south.db", creating: .init(storeId: "south"))
        let northScans = ScanFeed()
        let servers = DemoServers()
        let east = try StoreWithTwoTills(work: work, headOffice: headOffice)
        try await servers.start(
            headOffice: headOffice, stores: [("north", north, northScans), ("south", south, ScanFeed())],
            others: [("east-hub", east.hubRouter)])
        defer { Task { await servers.stop() } }
        say(
            """

            Pages (open them in a browser while the demo runs):
              head office dashboard  \(servers.url("hq"))/dashboard
              north kiosk            \(servers.url("north"))/kiosk
              north manager          \(servers.url("north"))/manager
              south manager          \(servers.url("south"))/manager
            """)
        func client(_ store: String, _ ledger: LedgerDatabase, url: String) -> SyncClient {
            SyncClient(
                ledger: ledger,
                settings: SyncSettings(
                    headOfficeURL: URL(string: url)!, storeId: store, secret: secrets[store]!, requestTimeoutSeconds: 3)
            )
        }

        // 1. A customer scans at north: the recorded scanner, through the real decoder.
        step("1. Scans at north, replayed from \(fixtures)/\(recording).evemu")
        var anaCard: CardNumber?
        for outcome in try scans() {
            northScans.publish(ScanEvent.describing(outcome, device: Self.recordedDevice.stableId, ledger: north).json)
            switch outcome {
            case .member(let card, let format):
                say("   member card \(card.value) (\(format.rawValue))")
                anaCard = anaCard ?? card
            case .rejected(let reason, _):
                say("   rejected: \(reason.rawValue) — \(reason.advice)")
            }
        }
        guard let ana = anaCard else { throw LoyaltyError.refused("demo_scan", "the recording gave no member card") }
        let eur = try north.program().currency
        func money(_ text: String) throws -> Money { try Money(parsing: text, currency: eur) }

        // 2. Sales at north.
        step("2. North: enrol, sales, a retried sale, a redemption, a partial return")
        let enrolled = try north.enroll(card: ana, name: "Ana Li", birthday: try CalendarDate(parsing: "1990-04-23"))
        say("   enrolled \(ana.masked) as member \(enrolled.memberId) (\(enrolled.tier))")
        let first = try north.award(card: ana, amount: try money("42.90"), receipt: try ReceiptReference("N-0001"))
        say("   award 42.90 on N-0001: +\(first.points) points, balance \(first.balance)")
        let retry = try north.award(card: ana, amount: try money("42.90"), receipt: try ReceiptReference("N-0001"))
        say("   the POS retries N-0001: replayed=\(retry.replayed), balance still \(retry.balance)")
        let big = try north.award(card: ana, amount: try money("120.00"), receipt: try ReceiptReference("N-0002"))
        say("   award 120.00 on N-0002: +\(big.points) points, balance \(big.balance)")
        let redeemed = try north.redeem(card: ana, points: 30, receipt: try ReceiptReference("N-0003"))
        say("   redeem 30 points on N-0003: \(redeemed.discount) \(eur.code) off, balance \(redeemed.balance)")
        let refund = try north.refund(
            receipt: try ReceiptReference("N-0002"), amount: try money("40.00"),
            returnReceipt: try ReceiptReference("RET-N-1"))
        say("   return 40.00 of N-0002: -\(abs(refund.reversedPoints)) points, balance \(refund.balance)")

        step("3. North syncs with head office")
        let northReport = try await client("north", north, url: servers.url("hq")).syncOnce()
        say("   pushed \(northReport.pushedEntries) entries, acknowledged up to \(northReport.acknowledgedSeq)")

        // 4. South's network is down: the till keeps selling.
        step("4. South is offline (its cable is pulled): it keeps selling")
        do {
            _ = try await client("south", south, url: "http://127.0.0.1:9").syncOnce()
        } catch {
            say("   sync: \(error)")
        }
        let benCard = try CardNumber(ben)
        _ = try south.enroll(card: benCard, name: "Ben Okafor", birthday: nil)
        let benSale = try south.award(card: benCard, amount: try money("7.35"), receipt: try ReceiptReference("S-0001"))
        say("   Ben enrols and buys for 7.35: +\(benSale.points) points")
        let anaAtSouth = try south.award(
            card: ana, amount: try money("15.00"), receipt: try ReceiptReference("S-0002"), provisionalIfUnknown: true)
        say(
            "   Ana buys for 15.00 at south, which has not heard of her: +\(anaAtSouth.points) points (provisional: \(anaAtSouth.provisional))"
        )

        step("5. South is back online: it syncs and learns Ana's balance from head office")
        let southReport = try await client("south", south, url: servers.url("hq")).syncOnce()
        say("   pushed \(southReport.pushedEntries) entries, \(southReport.membersUpdated) members updated")
        let anaAtSouthView = try south.member(card: ana, recentLimit: 0)
        say(
            "   south now shows Ana with \(anaAtSouthView.balance) points (head office's balance plus what south added since)"
        )
        let southRedeem = try south.redeem(card: ana, points: 50, receipt: try ReceiptReference("S-0003"))
        say("   Ana redeems 50 points at south: balance \(southRedeem.balance)")
        _ = try await client("south", south, url: servers.url("hq")).syncOnce()
        _ = try await client("north", north, url: servers.url("hq")).syncOnce()

        // 6. What head office knows.
        step("6. Head office's report")
        let now = Date()
        for store in try await headOffice.stores() {
            say(
                "   store \(store.storeId): acknowledged up to \(store.acknowledgedSeq), \(store.reportedBacklog) entries waiting"
            )
        }
        for card in [ana, benCard] {
            if let member = try await headOffice.member(card: card.value, now: now) {
                let shares = member.stores.map { "\($0.storeId) \($0.points)" }.joined(separator: ", ")
                say("   member \(card.masked): balance \(member.balance), tier \(member.tier) (by store: \(shares))")
            }
        }
        let overdrafts = try await headOffice.overdrafts()
        say("   overdrafts: \(overdrafts.count)")

        // 7. The invariants.
        step("7. Checks")
        let northVerified = try north.verify().ok
        let southVerified = try south.verify().ok
        let headOfficeTotal = try await headOffice.totals().reduce(Int64(0)) { $0 + $1.points }
        let storesTotal = try [north, south].reduce(Int64(0)) { total, ledger in
            total + (try ledger.outbox(after: 0, limit: 10_000).reduce(Int64(0)) { $0 + $1.points })
        }
        say("   north ledger verifies: \(northVerified); south ledger verifies: \(southVerified)")
        say(
            "   head office's total points \(headOfficeTotal) == the stores' ledgers \(storesTotal): \(headOfficeTotal == storesTotal)"
        )

        step("8. East is one store with two tills; till 1 is the store hub on the LAN")
        let eastChecked = try await east.run(headOfficeURL: servers.url("hq"), hubURL: servers.url("east-hub"), say: say)

        try await keepServing(serveSeconds, servers: servers, scans: northScans, ana: ana, north: north)
        return northVerified && southVerified && headOfficeTotal == storesTotal && eastChecked
    }

    /// The recorded scans: under umockdev through udev + evdev + the decoder (`loyalty-agent scan`),
    /// or, without umockdev, the same recording straight through the decoder.
    private func scans() throws -> [ScanOutcome] {
        let base = "\(fixtures)/\(recording)"
        if let umockdev = Self.which("umockdev-run"), let till = Self.tillBinary() {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: umockdev)
            process.arguments = [
                "-d", base + ".umockdev", "-e", "/dev/input/event5=\(base).evemu", "--",
                till, "scan", "--layout", "us",
                "--timeout", "2.5",
                "--db", work + "/north.db",
            ]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            // The scan ends by itself after 2.5 s; a till binary that hangs must not hang the demo.
            let deadline = DispatchWorkItem { if process.isRunning { process.terminate() } }
            DispatchQueue.global().asyncAfter(deadline: .now() + 30, execute: deadline)
            defer { deadline.cancel() }
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            say("   (udev + evdev under umockdev, as on a till)")
            let parser = CardScanParser()
            return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { line in
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                    return nil
                }
                if let card = object["card"] as? String { return parser.parse(card) }
                let reason = (object["reason"] as? String).flatMap(ScanRejection.init(rawValue:)) ?? .unreadable
                return .rejected(reason: reason, format: nil)
            }
        }
        say("   (umockdev or loyalty-agent is not installed: the recording goes straight through the XKB decoder)")
        let text = try String(contentsOfFile: base + ".evemu", encoding: .utf8)
        return try EvemuRecording(text: text).scans(layout: "us", rules: CardScanRules())
    }

    private func keepServing(
        _ seconds: Int, servers: DemoServers, scans: ScanFeed, ana: CardNumber, north: LedgerDatabase
    ) async throws {
        guard seconds != 0 else { return }
        say(seconds < 0 ? "\nThe pages stay up: press Enter to stop." : "\nThe pages stay up for \(seconds) s.")
        // Ana scans again every 10 s, so an open kiosk shows her.
        let replay = Task {
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(10))
                let event = ScanEvent.describing(.member(ana, .ean13), device: Self.recordedDevice.stableId, ledger: north)
                scans.publish(event.json)
            }
        }
        defer { replay.cancel() }
        if seconds < 0 {
            _ = await Task.detached { readLine() }.value
        } else {
            try await Task.sleep(for: .seconds(seconds))
        }
    }

    static let recordedDevice = InputDeviceInfo(
        syspath: "", devnode: "(recording)", stableId: "recorded-honeywell-1900",
        vendorProduct: VendorProduct("0c2e:0b61"),
        name: "Honeywell 1900 (recording)", isKeyboardLike: true)

    /// The till's binary that reads scanners: the `loyalty-agent` beside this program, else on PATH.
    static func tillBinary() -> String? {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("loyalty-agent").path
        return FileManager.default.isExecutableFile(atPath: beside) ? beside : which("loyalty-agent")
    }

    static func which(_ program: String) -> String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map { "\($0)/\(program)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    private func say(_ text: String) { Printer.out(text) }
    private func step(_ title: String) { Printer.out("\n" + title) }
}
