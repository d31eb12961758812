import Foundation
import LoyaltyCore
import TestSupport
import Testing

/// Head office's dashboard in headless Chromium: two stores synced, one offline overdraft, a member
/// in silver — the charts and tables show them, and the page needs its password.
@Suite(.serialized) struct DashboardPageTests {
    let folder = TemporaryFolder()

    @Test func theDashboardShowsStoresOverdraftsDailyTotalsAndTiersBehindItsPassword() throws {
        let chain = try ChainHarness(folder: folder, name: "hq-dashboard", stores: ["north", "south"])
        let password = "correct horse battery"
        let passwordFile = folder.file("dashboard-password")
        FileManager.default.createFile(
            atPath: passwordFile, contents: Data(password.utf8), attributes: [.posixPermissions: 0o600])
        try chain.start(["--dashboard-password-file", passwordFile])
        defer { chain.stop() }
        let ada = "2900000777774"
        let ben = GTIN.withCheckDigit("290000012345")
        #expect(try chain.till("north", ["enroll", ada, "--name", "Ada"]).exitCode == 0)
        #expect(try chain.till("north", ["award", ada, "--amount", "600.00", "--receipt", "N-1"]).exitCode == 0)
        #expect(try chain.till("south", ["enroll", ben]).exitCode == 0)
        #expect(try chain.till("south", ["award", ben, "--amount", "20.00", "--receipt", "S-1"]).exitCode == 0)
        #expect(try chain.sync("north").exitCode == 0)
        #expect(try chain.sync("south").exitCode == 0)
        // Both tills vouch for Ada's 600 points; offline, each gives her 500.
        #expect(try chain.till("north", ["redeem", ada, "--points", "500", "--receipt", "N-2"]).exitCode == 0)
        #expect(try chain.till("south", ["redeem", ada, "--points", "500", "--receipt", "S-2"]).exitCode == 0)
        #expect(try chain.sync("north").exitCode == 0)
        #expect(try chain.sync("south").exitCode == 0)

        let url = "http://127.0.0.1:\(chain.port)/dashboard"
        let refused = try curlStatus(url, user: nil)
        #expect(refused == 401, "no password, no dashboard")
        #expect(try curlStatus(url, user: "hq:wrong password!") == 401)
        #expect(try curlStatus(url, user: "anyone:\(password)") == 200)
        for header in [
            "Authorization: Basic !!!not-base64", "Authorization: Bearer \(password)", "Authorization: Basic ",
            "Authorization: Basic " + Data("no colon at all".utf8).base64EncodedString(),
            "Authorization: Basic " + Data("hq:\(password)\u{0}".utf8).base64EncodedString(),
            "Authorization: Basic " + String(repeating: "A", count: 10_000),
        ] {
            let status = try curlStatus(url, user: nil, header: header)
            #expect(status == 401 || status == 431 || status == 400, "\(header.prefix(40)): \(status)")
        }

        let dom = folder.file("dashboard.html")
        let token = Data("hq:\(password)".utf8).base64EncodedString()
        try PageDriver.run(
            [
                ["headers": ["Authorization": "Basic \(token)"]],
                ["open": url],
                ["waitFor": "#tier-chart"],
                ["dom": dom],
                ["screenshot": PageDriver.screenshots.appendingPathComponent("dashboard.png").path],
            ], folder: folder)
        let html = try String(contentsOfFile: dom, encoding: .utf8)
        #expect(html.contains("2 stores · 2 members"))
        #expect(html.contains(#"data-label="north""#) && html.contains(#"data-label="south""#), "a lag bar per store")
        #expect(html.contains("Every store is in step."))
        #expect(html.contains("1 redemption overdrew a member"), "the second store's redemption overdrew Ada")
        #expect(html.contains("<td>••••7774</td><td>south</td><td>S-2</td><td>-500</td><td class=\"bad\">-400</td>"))
        let today = ISO8601DateFormatter.string(
            from: Date(), timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])
        #expect(
            html.contains("<tr><td>\(today)</td><td>north</td><td>600.00</td><td>600</td><td>500</td>"), "north's day")
        #expect(
            html.contains("<tr><td>\(today)</td><td>south</td><td>20.00</td><td>20</td><td>500</td>"), "south's day")
        #expect(html.contains(">620.00</text>"), "today's column: every store's net sales")
        #expect(
            html.contains(#"<g class="row" data-label="silver">"#) && html.contains(">1 (50.0 %)</text>"),
            "Ada in silver, Ben in base")
    }

    private func curlStatus(_ url: String, user: String?, header: String? = nil) throws -> Int {
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        curl.arguments =
            ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}"] + (user.map { ["-u", $0] } ?? [])
            + (header.map { ["-H", $0] } ?? []) + [url]
        let pipe = Pipe()
        curl.standardOutput = pipe
        try curl.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        curl.waitUntilExit()
        return Int(String(decoding: data, as: UTF8.self)) ?? 0
    }
}
