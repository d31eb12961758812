import Foundation
import HTMLRendering
import LedgerStore
import LoyaltyCore

/// The store manager's page (`GET /manager`): problems in plain words first, then the scanners,
/// sync, today's totals and the members close to their next tier. Reloads after each scan (today's
/// totals change) and every ``refreshSeconds`` (sync).
enum ManagerPage {
    static let refreshSeconds = 30

    /// Everything the page shows, read when it is requested.
    struct View {
        var status: StoreStatus
        var facts: AgentFacts
        var scanners: [ScannerBoard.Device]
        var likelyScanners: [ScannerBoard.Device]
        var scannerProblems: [ScannerBoard.Problem]
        var prospects: [TierProspect]
        var now: Date
        /// A store of several tills: the tills the hub knows, and the other tills' figures today.
        var storeTills: [StoreTillsSection.Till] = []
        var otherTillsToday: (entries: Int64, points: Int64, amountMinor: Int64)? = nil
    }

    /// What is wrong, each with what to do, worst first. Empty: all is well.
    static func problems(_ view: View) -> [String] {
        var problems: [String] = []
        let status = view.status
        if status.health != "ok" {
            problems.append(
                "The ledger database reports damage (\(status.health)). Stop the agent and call support; do not delete the file."
            )
        }
        if status.storeId == nil {
            problems.append(
                "This till is not assigned to a store yet: run `loyalty-agent init --store-id STORE_ID`. Sales are kept meanwhile."
            )
        }
        if !view.facts.scannersWatched {
            problems.append(
                "Scanners are not watched (the agent runs with --no-scanners): cards must be typed at the till.")
        } else if view.scanners.isEmpty {
            problems.append(
                "No scanner is attached: check the scanner's cable, and that it is configured (scanner.allow in agent.yaml)."
            )
        }
        for device in view.likelyScanners {
            let usbId = device.usbId ?? "its VID:PID"
            problems.append(
                "\(device.name) types like a scanner but is not configured as one (\(device.usbId ?? device.id)): add \(usbId) to "
                    + "scanner.allow in agent.yaml, then reload the agent (systemctl reload loyalty-agent).")
        }
        if !view.facts.headOfficeConfigured {
            problems.append(
                "No head office is configured (hq.url in agent.yaml): points stay on this till until it is.")
        } else if let error = status.lastSyncError, let at = status.lastSyncErrorAt, at > (status.lastSyncSuccess ?? "")
        {
            problems.append(
                "Head office has been unreachable since \(status.offlineSince ?? at): \(error). Sales keep working offline; "
                    + "\(status.unsyncedEntries) entries wait to be sent."
            )
        } else if status.lastSyncSuccess == nil {
            problems.append("This till has never synced with head office yet.")
        }
        for problem in view.scannerProblems.suffix(3) {
            problems.append("Scanner: \(problem.message)")
        }
        return problems
    }

    /// - Parameter capability: what lets this page follow the scans (and nothing else: it is read-only).
    static func render(_ view: View, capability: String) -> String {
        let status = view.status
        let problems = problems(view)
        let problemList =
            problems.isEmpty
            ? "<p id=\"all-well\" class=\"ok\">All is well: scanners attached, ledger healthy, in step with head office.</p>"
            : "<ul id=\"problems\">" + problems.map { "<li class=\"bad\">\(HTML.escape($0))</li>" }.joined() + "</ul>"
        let scannerRows = view.scanners.map { device in
            "<tr><td>\(HTML.escape(device.name)) \(HTML.escape(device.usbId ?? ""))<br><span class=\"muted\">\(HTML.escape(device.id))</span></td><td>\(HTML.escape(device.node))</td><td>\(HTML.escape(device.layout ?? ""))</td>"
                + "<td>\(device.grabbed ? "yes" : "no")</td></tr>"
        }.joined()
        let likelyRows = view.likelyScanners.map { device in
            "<li>\(HTML.escape(device.name)) \(HTML.escape(device.usbId ?? "")) <span class=\"muted\">\(HTML.escape(device.id)) "
                + "\(HTML.escape(device.node))</span></li>"
        }.joined()
        let prospectRows = view.prospects.map { prospect in
            let missing =
                prospect.pointsToNextTier.map { "\($0) points" }
                ?? "\(prospect.spendToNextTier ?? "") \(status.currency)"
            return "<tr><td>\(HTML.escape(prospect.name ?? "—"))</td><td>••••\(HTML.escape(prospect.cardLast4))</td>"
                + "<td>\(HTML.escape(prospect.tier))</td><td>\(HTML.escape(missing)) to \(HTML.escape(prospect.nextTier))</td></tr>"
        }.joined()
        let body = """
            <main id="manager">
            <h1>Store \(HTML.escape(status.storeId ?? "(unassigned)"))</h1>
            <p class="muted">Updated \(HTML.escape(ChainTime.text(view.now, timeZone: status.timeZone))) · program version \(status.programVersion)</p>
            <section class="card"><h2>Problems</h2>\(problemList)</section>
            <section class="card" id="today"><h2>Today (\(HTML.escape(status.timeZone)))</h2>
              <div class="figures">
                <div><div class="figure" id="sales-today">\(HTML.escape(status.salesToday))</div><div class="muted">net sales \(HTML.escape(status.currency))</div></div>
                <div><div class="figure" id="points-issued">\(status.pointsIssuedToday)</div><div class="muted">points issued</div></div>
                <div><div class="figure" id="points-redeemed">\(status.pointsRedeemedToday)</div><div class="muted">points redeemed</div></div>
                <div><div class="figure" id="points-reversed">\(status.pointsReversedToday)</div><div class="muted">points reversed</div></div>
                <div><div class="figure" id="entries-today">\(status.entriesToday)</div><div class="muted">ledger entries</div></div>
              </div>
            </section>
            <section class="card" id="scanners"><h2>Scanners</h2>
              \(view.scanners.isEmpty ? "<p class=\"bad\">No scanner attached.</p>" : "<table><tr><th>scanner</th><th>device</th><th>layout</th><th>grabbed</th></tr>\(scannerRows)</table>")
              \(likelyRows.isEmpty ? "" : "<h2>Likely scanners, not configured</h2><ul id=\"likely-scanners\">\(likelyRows)</ul>")
            </section>
            <section class="card" id="sync"><h2>Head office</h2>
              <table>
                <tr><td>last successful sync</td><td id="last-sync">\(HTML.escape(status.lastSyncSuccess ?? "never"))</td></tr>
                <tr><td>entries not yet at head office</td><td id="backlog">\(status.unsyncedEntries)</td></tr>
                <tr><td>last error</td><td>\(HTML.escape(status.lastSyncError ?? "none"))</td></tr>
              </table>
            </section>
            \(StoreTillsSection.render(view.storeTills, own: status.storeId, otherTillsToday: view.otherTillsToday))
            <section class="card" id="close-to-tier"><h2>Members close to their next tier</h2>
              \(prospectRows.isEmpty ? "<p class=\"muted\">None within 20 % of their next tier.</p>" : "<table><tr><th>name</th><th>card</th><th>tier</th><th>still to spend</th></tr>\(prospectRows)</table>")
            </section>
            <section class="card"><h2>Ledger</h2>
              <p>\(status.members) members · \(status.entries) entries · \(status.databaseBytes / 1024) KiB · health <span id="ledger-health" class="\(status.health == "ok" ? "ok" : "bad")">\(HTML.escape(status.health))</span></p>
            </section>
            <span id="capability" hidden data-value="\(HTML.escape(capability))"></span>
            </main>
            """
        return HTML.document(
            title: "Store \(status.storeId ?? "(unassigned)") — loyalty agent", bodyClass: "manager",
            refreshSeconds: refreshSeconds,
            body: body, script: script)
    }

    /// Today's totals change with each scan's sale: reload a moment after one.
    static let script = """
        const capability = document.getElementById('capability').dataset.value;
        const scans = new EventSource('/v1/scans?capability=' + encodeURIComponent(capability));
        scans.addEventListener('scan', () => setTimeout(() => location.reload(), 3000));
        """
}

/// What the daemon was started with, for the manager's page.
public struct AgentFacts: Sendable {
    public var scannersWatched: Bool
    public var headOfficeConfigured: Bool

    public init(scannersWatched: Bool, headOfficeConfigured: Bool) {
        self.scannersWatched = scannersWatched
        self.headOfficeConfigured = headOfficeConfigured
    }
}
