import Foundation
import LoyaltyCore
import TestSupport
import Testing

/// Who may touch points through the till's API. Loopback is not authentication: a web page open in
/// a browser on the box can send requests to 127.0.0.1. Each test here failed before the guard: a
/// `text/plain` cross-origin post redeemed 100 points, any `Host` was answered.
@Suite(.serialized) struct TillAPIAccessTests {
    let folder = TemporaryFolder()
    let card = GTIN.withCheckDigit("290000055501")

    /// The ledger of till `name`, in a folder of its own (its API token file is beside it).
    func database(_ name: String) -> String {
        try? FileManager.default.createDirectory(atPath: folder.file(name), withIntermediateDirectories: true)
        return folder.file("\(name)/till.db")
    }

    /// A till with a member holding 50 points, its daemon running (behind `launcher`, e.g. prlimit).
    func till(_ name: String, launcher: [String] = []) throws -> DaemonAPITests.Daemon {
        let database = database(name)
        #expect(try AgentProcess.run(["init", "--store-id", name, "--db", database]).exitCode == 0)
        #expect(try AgentProcess.run(["enroll", card, "--db", database]).exitCode == 0)
        #expect(
            try AgentProcess.run(["award", card, "--amount", "50.00", "--receipt", "R-1", "--db", database]).exitCode
                == 0)
        return try DaemonAPITests.Daemon(database: database, folder: folder, launcher: launcher)
    }

    func balance(_ database: String) throws -> Int? {
        try AgentProcess.run(["member", card, "--db", database, "--json"]).json["balance"] as? Int
    }

    @Test func requestsWithoutTheTokenFromAnotherOriginOrHostChangeNothing() throws {
        let daemon = try till("ACCESS")
        defer {
            kill(daemon.process.processIdentifier, SIGTERM)
            daemon.process.waitUntilExit()
        }
        let redeem = #"{"card": "\#(card)", "receipt": "EVIL-1", "points": 10}"#
        // The reviewer's request: a browser's "simple" cross-origin post.
        let simple = try daemon.request(
            "POST", "/v1/redemptions", redeem, asPOS: false,
            headers: ["Content-Type: text/plain", "Origin: http://evil.example"])
        #expect(simple.status == 403 && simple.json["error"] as? String == "cross_origin", "\(simple)")
        // The same without an Origin (a script on the box): no token, no redemption.
        let anonymous = try daemon.request(
            "POST", "/v1/redemptions", redeem, asPOS: false, headers: ["Content-Type: application/json"])
        #expect(anonymous.status == 401 && anonymous.json["error"] as? String == "unauthorized", "\(anonymous)")
        let wrongToken = try daemon.request(
            "POST", "/v1/redemptions", redeem, asPOS: false,
            headers: ["Content-Type: application/json", "Authorization: Bearer " + String(repeating: "a", count: 64)])
        #expect(wrongToken.status == 401)
        // Even with the token: a form or text body, another origin, another site, a rebinding Host.
        for headers in [
            ["Content-Type: text/plain"], ["Origin: http://evil.example"], ["Origin: null"],
            ["Sec-Fetch-Site: cross-site"], ["Sec-Fetch-Site: same-site"], ["Host: evil.example:8787"],
            ["Origin: http://localhost:1"],
        ] {
            let refused = try daemon.request("POST", "/v1/redemptions", redeem, headers: headers)
            #expect(
                (400..<500).contains(refused.status) && refused.json["ok"] as? Bool == false, "\(headers): \(refused)")
        }
        let read = try daemon.request("GET", "/v1/members/\(card)", asPOS: false)
        #expect(read.status == 401 && read.json["balance"] == nil, "a member is not readable without the token")
        let rebound = try daemon.request("GET", "/v1/members/\(card)", headers: ["Host: evil.example"])
        #expect(
            rebound.status == 421 && rebound.json["balance"] == nil, "a DNS-rebinding page reads nothing: \(rebound)")
        for path in ["/v1/sales", "/v1/refunds"] {
            let body = #"{"card": "\#(card)", "receipt": "EVIL-2", "amount": "1000.00", "return_receipt": "X"}"#
            #expect(
                try daemon.request("POST", path, body, asPOS: false, headers: ["Content-Type: application/json"]).status
                    == 401)
        }
        // Pages may still be fetched (nothing in them another origin can read), and health answers.
        #expect(try daemon.request("GET", "/v1/health", asPOS: false).status == 200)
        #expect(try balance(database("ACCESS")) == 50, "nothing was redeemed")

        // The POS client with its token: the same redemption goes through, once.
        let pos = try daemon.request("POST", "/v1/redemptions", redeem)
        #expect(pos.status == 200 && pos.json["balance"] as? Int == 40, "\(pos)")
        let sameOrigin = try daemon.request(
            "GET", "/v1/members/\(card)", headers: ["Origin: \(daemon.url)", "Sec-Fetch-Site: same-origin"])
        #expect(sameOrigin.status == 200 && sameOrigin.json["balance"] as? Int == 40)
    }

    @Test func thePagesCapabilitiesReachOnlyTheScanStreamAndTheKiosksTap() throws {
        let daemon = try till("PAGES")
        defer {
            kill(daemon.process.processIdentifier, SIGTERM)
            daemon.process.waitUntilExit()
        }
        func capability(_ page: String, _ pattern: String) throws -> String {
            let html = try curlText(daemon.url + page)
            let range = try #require(
                html.range(of: pattern, options: .regularExpression), "\(page) carries its capability")
            return String(html[range]).split(separator: "\"")[1].description
        }
        let kiosk = try capability("/kiosk", #"data-capability="[a-p]+""#)
        let manager = try capability("/manager", #"data-value="[a-p]+""#)
        #expect(kiosk != manager)
        for (name, value) in [("kiosk", kiosk), ("manager", manager)] {
            let header = "X-Loyalty-Capability: \(value)"
            let redeem = #"{"card": "\#(card)", "receipt": "PAGE-\#(name)", "points": 10}"#
            let json = "Content-Type: application/json"
            #expect(
                try daemon.request("POST", "/v1/redemptions", redeem, asPOS: false, headers: [header, json]).status
                    == 401)
            #expect(try daemon.request("GET", "/v1/members/\(card)", asPOS: false, headers: [header]).status == 401)
            let sale = #"{"card": "\#(card)", "receipt": "PAGE-\#(name)", "amount": "10.00"}"#
            #expect(try daemon.request("POST", "/v1/sales", sale, asPOS: false, headers: [header, json]).status == 401)
            let stream = try curlText(daemon.url + "/v1/scans?capability=\(value)", seconds: 1)
            #expect(stream.hasPrefix(": scans"), "the \(name) page follows the scans: \(stream)")
            let tap = try daemon.request(
                "POST", "/v1/feedback", #"{"card": "\#(card)", "score": 4, "key": "tap-\#(name)"}"#, asPOS: false,
                headers: [header, json])
            // Only the kiosk taps, and (found by an outside review) only for the card it has just shown.
            #expect(tap.status == (name == "kiosk" ? 409 : 401), "\(name) \(tap)")
        }
        // The POS names the card (a lookup): the kiosk shows it, and its tap answers for that scan once.
        #expect(try daemon.request("GET", "/v1/members/\(card)").json["balance"] as? Int == 50)
        let run = try capability("/kiosk", #"data-run="[a-z0-9]+""#)
        let stream = try curlText(daemon.url + "/v1/scans?capability=\(kiosk)", seconds: 1, headers: ["Last-Event-ID: 0"])
        let eventId = try #require(stream.split(separator: "\n").last { $0.hasPrefix("id: ") }?.dropFirst(4), "\(stream)")
        let headers = ["X-Loyalty-Capability: \(kiosk)", "Content-Type: application/json"]
        let tap = #"{"card": "\#(card)", "score": 5, "key": "kiosk-\#(run)-\#(eventId)"}"#
        #expect(try daemon.request("POST", "/v1/feedback", tap, asPOS: false, headers: headers).status == 200)
        let otherCard = GTIN.withCheckDigit("290000055599")
        let other = #"{"card": "\#(otherCard)", "score": 1, "key": "kiosk-\#(run)-\#(eventId)"}"#
        let refusedOther = try daemon.request("POST", "/v1/feedback", other, asPOS: false, headers: headers)
        #expect(refusedOther.status == 409, "\(refusedOther)")
        // The key written another way ("-064" for 64) is no second answer (found by an outside review).
        let padded = #"{"card": "\#(card)", "score": 1, "key": "kiosk-\#(run)-0\#(eventId)"}"#
        #expect(try daemon.request("POST", "/v1/feedback", padded, asPOS: false, headers: headers).status == 409)
        // A newer scan: the earlier one can no longer be answered.
        #expect(try daemon.request("GET", "/v1/members/\(card)").status == 200)
        let stale = #"{"card": "\#(card)", "score": 2, "key": "kiosk-\#(run)-\#(eventId)"}"#
        #expect(try daemon.request("POST", "/v1/feedback", stale, asPOS: false, headers: headers).status == 409)
    }

    @Test func aRotatedTokenTakesEffectAtOnceAndAFileOthersCanReadIsRefused() throws {
        let daemon = try till("ROTATE")
        defer {
            kill(daemon.process.processIdentifier, SIGTERM)
            daemon.process.waitUntilExit()
        }
        let database = database("ROTATE")
        let old = daemon.token
        #expect(old.count == 64 && old.allSatisfy { ("a"..."p").contains($0) }, "\(old)")
        let mode = try FileManager.default.attributesOfItem(atPath: daemon.tokenFile)[.posixPermissions] as? Int
        #expect(mode == 0o640, "the token file is mode 0640, for the POS application's group")
        let rotated = try AgentProcess.run(["api-token", "--rotate", "--db", database, "--json"])
        #expect(rotated.exitCode == 0 && rotated.json["token_file"] as? String == daemon.tokenFile, "\(rotated.stdout)")
        #expect(!rotated.stdout.contains(daemon.token), "the token is never printed")
        #expect(daemon.token != old)
        let stale = try daemon.request(
            "GET", "/v1/members/\(card)", asPOS: false, headers: ["Authorization: Bearer \(old)"])
        #expect(stale.status == 401, "the old token stops working without a restart")
        #expect(try daemon.request("GET", "/v1/members/\(card)").status == 200)

        // A token file every user can read: the running daemon stops accepting its token at once (found
        // by review: it kept the cached one), and the daemon's start is refused with what to do.
        chmod(daemon.tokenFile, 0o644)
        #expect(try daemon.request("GET", "/v1/members/\(card)").status == 401, "a world-readable token is refused")
        chmod(daemon.tokenFile, 0o640)
        #expect(try daemon.request("GET", "/v1/members/\(card)").status == 200)
        let current = daemon.token
        try FileManager.default.moveItem(atPath: daemon.tokenFile, toPath: daemon.tokenFile + ".away")
        let gone = try daemon.request(
            "GET", "/v1/members/\(card)", asPOS: false, headers: ["Authorization: Bearer \(current)"])
        #expect(gone.status == 401, "a deleted token file refuses every token")
        try FileManager.default.moveItem(atPath: daemon.tokenFile + ".away", toPath: daemon.tokenFile)
        chmod(daemon.tokenFile, 0o644)
        let start = try AgentProcess.run(["run", "--no-scanners", "--listen", "127.0.0.1:0", "--db", database])
        #expect(start.exitCode == 2 && start.stderr.contains("readable by every user"), "\(start.stderr)")
        #expect(!start.stderr.contains(daemon.token))
    }

    /// Defect: 16 connect/disconnect cycles of the scan stream, one client at a time, and every later
    /// subscriber got 503 for good. A kiosk that reconnects must always get its stream back.
    @Test func theScanStreamSurvivesManyReconnects() throws {
        let daemon = try till("STREAM")
        defer {
            kill(daemon.process.processIdentifier, SIGTERM)
            daemon.process.waitUntilExit()
        }
        let url = daemon.url + "/v1/scans"
        for _ in 0..<40 {
            _ = try curlText(url, seconds: 0.2, headers: ["Authorization: Bearer \(daemon.token)"])
        }
        let stream = try curlText(url, seconds: 1, headers: ["Authorization: Bearer \(daemon.token)"])
        #expect(stream.hasPrefix(": scans"), "a subscriber after 40 reconnects gets the stream: \(stream)")
    }

    /// A page from another origin, in Chromium, tries what a hostile web page would: a simple post, a
    /// form post and a read. None changes or reveals a point; the kiosk keeps working (PageTests).
    @Test func aPageFromAnotherOriginInChromiumCannotSpendOrReadPoints() throws {
        let daemon = try till("BROWSER")
        defer {
            kill(daemon.process.processIdentifier, SIGTERM)
            daemon.process.waitUntilExit()
        }
        let site = folder.file("site")
        try FileManager.default.createDirectory(atPath: site, withIntermediateDirectories: true)
        let page = """
            <!doctype html><html><body><p id="state">trying</p>
            <form id="form" method="POST" action="\(daemon.url)/v1/redemptions" enctype="text/plain" target="sink">
              <input name='{"card": "\(card)", "receipt": "EVIL-FORM", "points": 10, "x": "' value='"}'></form>
            <iframe name="sink"></iframe>
            <script>
            (async () => {
              const results = [];
              const body = JSON.stringify({card: '\(card)', receipt: 'EVIL-FETCH', points: 10});
              try { await fetch('\(daemon.url)/v1/redemptions', {method: 'POST', mode: 'no-cors', body,
                                headers: {'Content-Type': 'text/plain'}}); results.push('simple-sent'); }
              catch (e) { results.push('simple-failed'); }
              try { const r = await fetch('\(daemon.url)/v1/members/\(card)'); results.push('read:' + (await r.text())); }
              catch (e) { results.push('read-failed'); }
              try { await fetch('\(daemon.url)/v1/redemptions', {method: 'POST', body,
                                headers: {'Content-Type': 'application/json'}}); results.push('preflighted-sent'); }
              catch (e) { results.push('preflighted-failed'); }
              document.getElementById('form').submit();
              await new Promise(r => setTimeout(r, 1500));
              document.getElementById('state').textContent = results.join(' | ');
              document.body.dataset.done = '1';
            })();
            </script></body></html>
            """
        try page.write(toFile: site + "/evil.html", atomically: true, encoding: .utf8)
        let port = Int.random(in: 20_000...40_000)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = ["python3", "-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", site]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        // SIGKILL: the test process may hand its children SIGTERM blocked.
        defer {
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        for _ in 0..<100
        where (try? curlText("http://127.0.0.1:\(port)/evil.html", seconds: 1))?.contains("state") != true {
            Thread.sleep(forTimeInterval: 0.05)
        }
        let dom = folder.file("evil.html")
        try PageDriver.run(
            [["open": "http://127.0.0.1:\(port)/evil.html"], ["waitFor": "body[data-done='1']"], ["dom": dom]],
            folder: folder)
        let html = try String(contentsOfFile: dom, encoding: .utf8)
        #expect(html.contains("read-failed") && !html.contains("\"balance\""), "the page read nothing: \(html)")
        #expect(try daemon.request("GET", "/v1/members/\(card)").json["balance"] as? Int == 50, "no point was spent")
        let history = try AgentProcess.run(["member", card, "--db", database("BROWSER"), "--json"]).stdout
        #expect(!history.contains("EVIL"), "no entry from the page")
    }

    /// A program on the box that opens sockets to the till's API and sends nothing (or a byte now and
    /// then) cannot keep the POS client out: the longest-waiting connection is closed to make room.
    /// Under a descriptor limit of 200 the 300 sockets would leave none for the POS client.
    @Test func slowConnectionsDoNotKeepThePOSClientOut() throws {
        let daemon = try till("SLOW", launcher: ["prlimit", "--nofile=200:200", "--"])
        defer {
            kill(daemon.process.processIdentifier, SIGTERM)
            daemon.process.waitUntilExit()
        }
        let port = try #require(UInt16(daemon.url.split(separator: ":").last ?? ""))
        var slow: [Int32] = []
        defer { for descriptor in slow { close(descriptor) } }
        for _ in 0..<300 {
            if let descriptor = HeadOfficeUnderAbuseTests.slowClient(port: port) { slow.append(descriptor) }
        }
        #expect(slow.count == 300)
        for descriptor in slow { _ = send(descriptor, "x", 1, Int32(MSG_NOSIGNAL)) }
        let sale = try daemon.request(
            "POST", "/v1/sales", #"{"card": "\#(card)", "receipt": "SLOW-1", "amount": "5.00"}"#)
        #expect(sale.status == 200 && sale.json["balance"] as? Int == 55, "\(sale)")
    }

    /// `curl` a URL for at most `seconds`, returning what arrived.
    func curlText(_ url: String, seconds: Double = 5, headers: [String] = []) throws -> String {
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        curl.arguments = ["curl", "-s", "-N", "--max-time", String(seconds)] + headers.flatMap { ["-H", $0] } + [url]
        let pipe = Pipe()
        curl.standardOutput = pipe
        try curl.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        curl.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
