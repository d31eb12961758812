import Foundation
import LoyaltyCore
import TestSupport
import Testing

/// `loyalty-agent run`: the local POS API over real HTTP on loopback, beside the CLI on the same
/// ledger; SIGTERM stops it cleanly, and after SIGKILL the ledger still verifies.
@Suite(.serialized) struct DaemonAPITests {
    let folder = TemporaryFolder()

    /// The running daemon and its base URL.
    final class Daemon {
        let process = Process()
        let url: String
        /// The API token file the daemon made beside its ledger.
        let tokenFile: String

        init(
            database: String, folder: TemporaryFolder, environment extra: [String: String] = [:], launcher: [String] = []
        ) throws {
            let out = folder.file("daemon-\(UUID().uuidString.prefix(6)).out")
            FileManager.default.createFile(atPath: out, contents: nil)
            let arguments = ["run", "--no-scanners", "--listen", "127.0.0.1:0", "--db", database]
            if launcher.isEmpty {
                process.executableURL = URL(fileURLWithPath: AgentProcess.binary)
                process.arguments = arguments
            } else {
                process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                process.arguments = launcher + [AgentProcess.binary] + arguments
            }
            var environment = ProcessInfo.processInfo.environment
            environment.removeValue(forKey: "LOYALTY_HQ_URL")
            environment.merge(extra) { $1 }
            process.environment = environment
            process.standardOutput = FileHandle(forWritingAtPath: out)
            process.standardError = FileHandle.nullDevice
            try process.run()
            var found: String?
            for _ in 0..<200 where found == nil {
                let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
                if let range = text.range(of: #"http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) { found = String(text[range]) }
                if found == nil { Thread.sleep(forTimeInterval: 0.05) }
            }
            url = try #require(found, "the daemon printed its address")
            tokenFile = URL(fileURLWithPath: database).deletingLastPathComponent().appendingPathComponent("api-token").path
        }

        /// The POS client's token, as the file holds it now.
        var token: String {
            ((try? String(contentsOfFile: tokenFile, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// `curl` a request as the POS client (its token, a JSON body), or with `headers` alone when
        /// `asPOS` is false; returns the status and the JSON body.
        func request(
            _ method: String, _ path: String, _ body: String? = nil, asPOS: Bool = true, headers: [String] = []
        ) throws -> (status: Int, json: [String: Any]) {
            let curl = Process()
            curl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            let pos = asPOS ? ["-H", "Authorization: Bearer \(token)", "-H", "Content-Type: application/json"] : []
            // The body goes through stdin: it may be larger than a command line can hold.
            curl.arguments =
                ["curl", "-s", "-X", method, "-w", "\n%{http_code}"] + pos + headers.flatMap { ["-H", $0] } + [url + path]
                + (body == nil ? [] : ["--data-binary", "@-"])
            let pipe = Pipe()
            let input = Pipe()
            curl.standardOutput = pipe
            curl.standardInput = input
            try curl.run()
            input.fileHandleForWriting.write(Data((body ?? "").utf8))
            try input.fileHandleForWriting.close()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            curl.waitUntilExit()
            let text = String(decoding: data, as: UTF8.self)
            let status = Int(text.split(separator: "\n").last ?? "") ?? 0
            let json = (try? JSONSerialization.jsonObject(with: Data(text.split(separator: "\n").dropLast().joined(separator: "\n").utf8)))
            return (status, json as? [String: Any] ?? [:])
        }
    }

    @Test func salesRedemptionsAndRefundsOverTheAPIAreIdempotentAndSigtermStopsCleanly() throws {
        let database = folder.file("till.db")
        #expect(try AgentProcess.run(["init", "--store-id", "S1", "--db", database]).exitCode == 0)
        let card = GTIN.withCheckDigit("290000099901")
        #expect(try AgentProcess.run(["enroll", card, "--db", database]).exitCode == 0)
        let daemon = try Daemon(database: database, folder: folder)
        defer { if daemon.process.isRunning { daemon.process.terminate() } }

        let sale = #"{"card": "\#(card)", "receipt": "API-1", "amount": "12.50"}"#
        let first = try daemon.request("POST", "/v1/sales", sale)
        #expect(first.status == 200 && first.json["points"] as? Int == 12 && first.json["replayed"] as? Bool == false, "\(first)")
        let retry = try daemon.request("POST", "/v1/sales", sale)
        #expect(retry.status == 200 && retry.json["replayed"] as? Bool == true && retry.json["seq"] as? Int == first.json["seq"] as? Int)
        let conflict = try daemon.request("POST", "/v1/sales", #"{"card": "\#(card)", "receipt": "API-1", "amount": "99.00"}"#)
        #expect(conflict.status == 409 && conflict.json["error"] as? String == "receipt_conflict")
        let malformed = try daemon.request("POST", "/v1/sales", #"{"card": 12}"#)
        #expect(malformed.status == 400 && malformed.json["ok"] as? Bool == false)
        let badCard = try daemon.request("POST", "/v1/sales", #"{"card": "4111111111111111", "receipt": "API-2", "amount": "1.00"}"#)
        #expect(badCard.status == 400 && badCard.json["error"] as? String == "payment_card")

        // The CLI keeps working beside the daemon, on the same ledger.
        let cli = try AgentProcess.run(["award", card, "--amount", "5.00", "--receipt", "CLI-1", "--db", database, "--json"])
        #expect(cli.exitCode == 0 && cli.json["balance"] as? Int == 17, "\(cli.stdout) \(cli.stderr)")

        let redemption = try daemon.request("POST", "/v1/redemptions", #"{"card": "\#(card)", "receipt": "API-3", "points": 10}"#)
        #expect(redemption.status == 200 && redemption.json["balance"] as? Int == 7)
        let over = try daemon.request("POST", "/v1/redemptions", #"{"card": "\#(card)", "receipt": "API-4", "points": 100}"#)
        #expect(over.status == 409 && over.json["error"] as? String == "over_balance")
        let refund = #"{"receipt": "API-1", "return_receipt": "RET-1", "amount": "2.50"}"#
        let refunded = try daemon.request("POST", "/v1/refunds", refund)
        #expect(refunded.status == 200 && refunded.json["reversed_points"] as? Int == -2, "\(refunded)")
        #expect(try daemon.request("POST", "/v1/refunds", refund).json["replayed"] as? Bool == true)
        let member = try daemon.request("GET", "/v1/members/\(card)")
        #expect(member.status == 200 && member.json["balance"] as? Int == 5)
        #expect(try daemon.request("GET", "/v1/members/2900000000000").status == 400, "a misread check digit")

        kill(daemon.process.processIdentifier, SIGTERM)
        daemon.process.waitUntilExit()
        #expect(daemon.process.terminationStatus == 0, "SIGTERM stops the daemon cleanly")
        #expect(try AgentProcess.run(["verify", "--db", database]).exitCode == 0)
    }

    @Test func extremeValuesFromThePOSGetA4xxAndTheDaemonKeepsServing() throws {
        let database = folder.file("extremes.db")
        #expect(try AgentProcess.run(["init", "--store-id", "S5", "--db", database]).exitCode == 0)
        let card = GTIN.withCheckDigit("290000099903")
        #expect(try AgentProcess.run(["enroll", card, "--db", database]).exitCode == 0)
        let daemon = try Daemon(database: database, folder: folder)
        defer { kill(daemon.process.processIdentifier, SIGTERM); daemon.process.waitUntilExit() }
        let long = String(repeating: "x", count: 10_000)
        let bodies: [(String, String)] = [
            ("/v1/redemptions", #"{"card": "\#(card)", "receipt": "E-1", "points": 9223372036854775807}"#),
            ("/v1/redemptions", #"{"card": "\#(card)", "receipt": "E-2", "points": -9223372036854775808}"#),
            ("/v1/redemptions", #"{"card": "\#(card)", "receipt": "E-3", "points": 0}"#),
            ("/v1/redemptions", #"{"card": "\#(card)", "receipt": "E-3b", "points": 1, "sale_amount": "-1"}"#),
            ("/v1/sales", #"{"card": "\#(card)", "receipt": "E-4", "amount": "99999999999999999999999"}"#),
            ("/v1/sales", #"{"card": "\#(card)", "receipt": "E-5", "amount": "-12.50"}"#),
            ("/v1/sales", #"{"card": "\#(card)", "receipt": "\#(long)", "amount": "1.00"}"#),
            ("/v1/sales", #"{"card": "\#(card)", "receipt": "", "amount": "1.00"}"#),
            ("/v1/sales", #"{"card": "カード🎫", "receipt": "E-6", "amount": "1.00"}"#),
            ("/v1/sales", #"{"card": "\#(card)", "receipt": "E-7", "lines": [{"sku": "\#(long)", "category": "x", "amount": "1"}]}"#),
            ("/v1/sales", #"{"card": "\#(card)", "receipt": "E-8", "lines": []}"#),
            ("/v1/refunds", #"{"receipt": "nope", "return_receipt": "R", "amount": "99999999999999999999"}"#),
            ("/v1/refunds", #"{"receipt": "E-9", "return_receipt": "\#(long)"}"#),
            ("/v1/sales", String(repeating: " ", count: 300_000) + "{}"),
            ("/v1/sales", ""),
            ("/v1/feedback", #"{"card": "\#(card)", "score": 9223372036854775807}"#),
            ("/v1/feedback", #"{"card": "\#(card)", "score": -9223372036854775808}"#),
            ("/v1/feedback", #"{"card": "\#(card)", "score": 0}"#),
            ("/v1/feedback", #"{"card": "\#(card)", "score": 4, "key": "\#(long)"}"#),
            ("/v1/feedback", #"{"card": "\#(card)", "score": 4, "key": "clé 🎫"}"#),
            ("/v1/feedback", #"{"card": "\#(card)", "score": 4, "key": ""}"#),
            ("/v1/feedback", #"{"card": "4111111111111111", "score": 4}"#),
            ("/v1/feedback", ""),
        ]
        for (path, body) in bodies {
            let result = try daemon.request("POST", path, body)
            #expect((400..<500).contains(result.status) && result.json["ok"] as? Bool == false, "\(path) \(body.prefix(80)): \(result)")
        }
        // Another member's receipt: one sale has one member.
        let other = GTIN.withCheckDigit("290000099904")
        #expect(try AgentProcess.run(["enroll", other, "--db", database]).exitCode == 0)
        #expect(try daemon.request("POST", "/v1/sales", #"{"card": "\#(card)", "receipt": "SHARED", "amount": "5.00"}"#).status == 200)
        let stolen = try daemon.request("POST", "/v1/redemptions", #"{"card": "\#(other)", "receipt": "SHARED", "points": 1}"#)
        #expect(stolen.status == 409, "\(stolen)")
        #expect(try daemon.request("GET", "/v1/members/\(long)").status == 400)
        // One answer per kiosk scan: the second tap under the same key keeps the first.
        let tap = try daemon.request("POST", "/v1/feedback", #"{"card": "\#(card)", "score": 5, "key": "kiosk-run-1"}"#)
        let again = try daemon.request("POST", "/v1/feedback", #"{"card": "\#(card)", "score": 1, "key": "kiosk-run-1"}"#)
        #expect(tap.json["replayed"] as? Bool == false && again.json["replayed"] as? Bool == true && again.json["score"] as? Int == 5)
        #expect(try daemon.request("GET", "/v1/health").status == 200, "still serving")
        #expect(try AgentProcess.run(["verify", "--db", database]).exitCode == 0)
    }

    /// A datagram socket standing in for systemd's `$NOTIFY_SOCKET`.
    struct NotifySocket {
        let path: String
        let descriptor: Int32

        init(path: String) throws {
            self.path = path
            descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { buffer in
                for (index, byte) in path.utf8.enumerated() { buffer[index] = byte }
            }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            try #require(bound == 0)
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        /// The next message, or nil after 10 s.
        func receive() -> String? {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(descriptor, &buffer, buffer.count, 0)
            return count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : nil
        }
    }

    @Test func theDaemonTellsSystemdItIsReadyPingsTheWatchdogAndSaysWhenItStops() throws {
        let database = folder.file("notify.db")
        #expect(try AgentProcess.run(["init", "--store-id", "S4", "--db", database]).exitCode == 0)
        let socket = try NotifySocket(path: folder.file("notify.sock"))
        defer { close(socket.descriptor) }
        let daemon = try Daemon(
            database: database, folder: folder, environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "1000000"])
        var messages: [String] = []
        for _ in 0..<3 { if let message = socket.receive() { messages.append(message) } }
        #expect(messages.contains { $0.hasPrefix("READY=1") && $0.contains(daemon.url) }, "\(messages)")
        #expect(messages.contains("WATCHDOG=1"), "pings at half of WATCHDOG_USEC: \(messages)")
        kill(daemon.process.processIdentifier, SIGTERM)
        var stopping = false
        for _ in 0..<5 where !stopping { stopping = socket.receive() == "STOPPING=1" }
        daemon.process.waitUntilExit()
        #expect(stopping && daemon.process.terminationStatus == 0)
    }

    @Test func afterSigkillMidStreamTheLedgerVerifiesAndAcknowledgedSalesSurvive() throws {
        let database = folder.file("killed.db")
        #expect(try AgentProcess.run(["init", "--store-id", "S2", "--db", database]).exitCode == 0)
        let card = GTIN.withCheckDigit("290000099902")
        #expect(try AgentProcess.run(["enroll", card, "--db", database]).exitCode == 0)
        let daemon = try Daemon(database: database, folder: folder)
        var acknowledged = 0
        for index in 0..<40 {
            let result = try daemon.request("POST", "/v1/sales", #"{"card": "\#(card)", "receipt": "K-\#(index)", "amount": "1.00"}"#)
            if result.status == 200 { acknowledged += 1 }
        }
        kill(daemon.process.processIdentifier, SIGKILL)
        daemon.process.waitUntilExit()
        #expect(acknowledged == 40)
        #expect(try AgentProcess.run(["verify", "--db", database]).exitCode == 0)
        let restarted = try Daemon(database: database, folder: folder)
        defer { kill(restarted.process.processIdentifier, SIGTERM); restarted.process.waitUntilExit() }
        #expect(try restarted.request("GET", "/v1/members/\(card)").json["balance"] as? Int == 40, "every acknowledged sale survived")
    }
}

/// The daemon's scan stream under umockdev: a recorded scanner's scans reach an SSE listener with the
/// member's balance from the ledger (a listener that connects late resumes with Last-Event-ID).
@Suite(.serialized) struct DaemonScanStreamTests {
    let folder = TemporaryFolder()

    @Test func aReplayedScanReachesTheEventStreamWithTheMembersBalance() throws {
        let database = folder.file("scans.db")
        #expect(try AgentProcess.run(["init", "--store-id", "S3", "--db", database]).exitCode == 0)
        #expect(try AgentProcess.run(["enroll", "2900000777774", "--db", database]).exitCode == 0)
        #expect(try AgentProcess.run(["award", "2900000777774", "--amount", "42.00", "--receipt", "R-1", "--db", database]).exitCode == 0)
        let out = folder.file("run.out")
        FileManager.default.createFile(atPath: out, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ScannerFixtureTests.underUmockdev("honeywell-us-ean13") + [
            AgentProcess.binary, "run", "--listen", "127.0.0.1:0", "--db", database, "--layout", "us",
        ]
        process.standardOutput = FileHandle(forWritingAtPath: out)
        process.standardError = FileHandle.nullDevice
        try process.run()
        // umockdev-run does not pass signals on: stop the agent, its child, directly.
        func stopAgent() throws {
            let pkill = Process()
            pkill.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            pkill.arguments = ["pkill", "-TERM", "-P", String(process.processIdentifier)]
            try pkill.run()
            pkill.waitUntilExit()
        }
        defer {
            if process.isRunning { try? stopAgent() }
            process.waitUntilExit()
        }
        var url: String?
        for _ in 0..<200 where url == nil {
            let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) { url = String(text[range]) }
            if url == nil { Thread.sleep(forTimeInterval: 0.05) }
        }
        let base = try #require(url)
        // The fixture plays as soon as the scanner is opened: resume from the start of the stream.
        let events = try PluggedDaemon.keptScans(base, token: PluggedDaemon.token(database: database), waitingSeconds: 4)
        let member = events.first { $0["status"] as? String == "member" }
        #expect(member?["card"] as? String == "2900000777774", "\(events)")
        #expect(member?["balance"] as? Int == 42 && member?["enrolled"] as? Bool == true)
        #expect(events.contains { $0["status"] as? String == "rejected" && $0["reason"] as? String == "not_a_member_card" })
        try stopAgent()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "SIGTERM releases the scanner and exits cleanly")
    }
}
