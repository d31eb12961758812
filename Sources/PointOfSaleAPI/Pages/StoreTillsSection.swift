import Foundation
import HTMLRendering
import LedgerStore

/// The manager page's whole-store section (a store of several tills with a hub): every till the hub
/// knows, its scanners and its backlog, and today's figures of the store's other tills.
enum StoreTillsSection {
    /// One till as the hub described it (the `tills` of its answer, kept by the ledger as JSON).
    struct Till: Decodable {
        struct Report: Decodable {
            var scanners: [String]
            var head_office_backlog: Int64
            var last_head_office_sync_ms: Int64?
        }
        var ledger: String
        var report: Report?
        var last_seen_ms: Int64?
        var hub_acknowledged: Int64
    }

    /// The tills in `json` (nil or unreadable: none, the till has no hub).
    static func tills(_ json: String?) -> [Till] {
        guard let json else { return [] }
        return (try? JSONDecoder().decode([Till].self, from: Data(json.utf8))) ?? []
    }

    static func render(
        _ tills: [Till], own: String?, otherTillsToday: (entries: Int64, points: Int64, amountMinor: Int64)?
    ) -> String {
        guard !tills.isEmpty else { return "" }
        func time(_ milliseconds: Int64?) -> String {
            milliseconds.map { ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double($0) / 1000)) }
                ?? "never"
        }
        let rows = tills.map { till in
            let scanners =
                till.report.map { $0.scanners.isEmpty ? "none attached" : $0.scanners.joined(separator: ", ") } ?? "—"
            return "<tr class=\"till\"><td>\(HTML.escape(till.ledger))\(till.ledger == own ? " (this till)" : "")</td>"
                + "<td>\(HTML.escape(scanners))</td><td>\(till.report.map { String($0.head_office_backlog) } ?? "—")</td>"
                + "<td>\(HTML.escape(time(till.report?.last_head_office_sync_ms)))</td><td>\(HTML.escape(time(till.last_seen_ms)))</td></tr>"
        }.joined()
        let others =
            otherTillsToday.map {
                "<p id=\"other-tills-today\">The store's other tills today: \($0.entries) entries, \($0.points) points net, sales "
                    + "\(String(format: "%.2f", Double($0.amountMinor) / 100)).</p>"
            } ?? ""
        return """
            <section class="card" id="store-tills"><h2>The store's tills (through the store hub)</h2>
              <table><tr><th>till</th><th>scanners</th><th>entries not yet at head office</th><th>last head-office sync</th><th>last heard by the hub</th></tr>\(rows)</table>
              \(others)
            </section>
            """
    }
}
