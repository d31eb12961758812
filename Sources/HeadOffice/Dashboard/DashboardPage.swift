import Foundation
import HTMLRendering
import LoyaltyCore

/// Head office's dashboard (`GET /dashboard` on `loyalty-hq serve`): stores and their sync lag,
/// overdrafts, totals per store and day, tier distribution — charts where a person would rather look
/// than read, with the exact figures beside them.
enum DashboardPage {
    /// A store not heard from for longer than this is drawn red.
    static let lateAfterMinutes = 60
    static let daysShown = 14
    static let overdraftsListed = 20

    struct View {
        var stores: [StoreSummary]
        var overdrafts: [Overdraft]
        var dailyTotals: [DailyStoreTotal]
        var tierCounts: [String: Int]
        var tierOrder: [String]
        var currency: Currency
        var now: Date
        /// The chain's days and time zone: the days of the totals, every time shown.
        var calendar: ChainCalendar
    }

    static func render(_ view: View) -> String {
        let nowMilliseconds = Int64(view.now.timeIntervalSince1970 * 1000)
        let today = view.calendar.today(view.now)
        let zone = view.calendar.timeZone.identifier
        let time = { (milliseconds: Int64) in ChainTime.text(milliseconds: milliseconds, timeZone: zone) }
        let money = { (minor: Int64) in Money(minorUnits: minor, currency: view.currency).decimalString }

        // Stores and their lag.
        let lagBars = view.stores.map { store -> BarChart.Bar in
            guard let contact = store.lastContactMilliseconds else {
                return .init(label: store.storeId, value: 0, text: "never synced", isProblem: true)
            }
            let minutes = max(0, nowMilliseconds - contact) / 60_000
            return .init(
                label: store.storeId, value: Double(minutes),
                text: "\(Self.duration(minutes: minutes)) · \(store.reportedBacklog) waiting",
                isProblem: minutes > Int64(lateAfterMinutes) || store.reportedBacklog > 0)
        }
        let late = lagBars.filter(\.isProblem).count
        let storeRows = view.stores.map { store in
            let contact =
                store.lastContactMilliseconds.map(time)
                ?? "never"
            return
                "<tr><td>\(HTML.escape(store.storeId))</td><td>\(HTML.escape(contact))</td><td>\(store.acknowledgedSeq)</td>"
                + "<td>\(store.reportedBacklog)</td></tr>"
        }.joined()

        // Sales per day, all stores, and the table per store and day.
        let firstDay = today - daysShown + 1
        var salesByDay: [Int: Int64] = [:]
        for total in view.dailyTotals where total.day >= firstDay {
            salesByDay[total.day, default: 0] += total.salesMinor
        }
        let dayBars = (firstDay...today).map { day in
            BarChart.Bar(
                label: String(ChainCalendar.string(day: day).suffix(5)), value: Double(max(0, salesByDay[day] ?? 0)),
                text: money(salesByDay[day] ?? 0))
        }
        let totalRows = view.dailyTotals.filter { $0.day > today - 7 }.sorted {
            ($1.day, $0.storeId) < ($0.day, $1.storeId)
        }.map { total in
            "<tr><td>\(HTML.escape(ChainCalendar.string(day: total.day)))</td><td>\(HTML.escape(total.storeId))</td>"
                + "<td>\(HTML.escape(money(total.salesMinor)))</td><td>\(total.pointsEarned)</td><td>\(total.pointsRedeemed)</td>"
                + "<td>\(total.entries)</td></tr>"
        }.joined()

        // Tiers, in the program's order.
        let tierNames = view.tierOrder + view.tierCounts.keys.filter { !view.tierOrder.contains($0) }.sorted()
        let members = view.tierCounts.values.reduce(0, +)
        let tierBars = tierNames.map { name -> BarChart.Bar in
            let count = view.tierCounts[name] ?? 0
            let share = members == 0 ? 0 : Double(count) * 100 / Double(members)
            return .init(label: name, value: Double(count), text: "\(count) (\(String(format: "%.1f", share)) %)")
        }

        let overdraftRows = view.overdrafts.suffix(overdraftsListed).reversed().map { overdraft in
            "<tr><td>••••\(HTML.escape(String(overdraft.card.suffix(4))))</td><td>\(HTML.escape(overdraft.storeId))</td>"
                + "<td>\(HTML.escape(overdraft.receipt))</td><td>\(overdraft.points)</td><td class=\"bad\">\(overdraft.balanceAfter)</td>"
                + "<td>\(HTML.escape(time(overdraft.atMilliseconds)))</td></tr>"
        }.joined()

        let body = """
            <main id="dashboard">
            <h1>Head office</h1>
            <p class="muted">\(view.stores.count) stores · \(members) members · updated \(HTML.escape(ChainTime.text(view.now, timeZone: zone)))</p>
            <section class="card" id="stores"><h2>Stores and their sync lag</h2>
              <p id="stores-summary" class="\(late == 0 ? "ok" : "bad")">\(late == 0 ? "Every store is in step." : "\(late) of \(view.stores.count) stores are behind or have not synced.")</p>
              \(BarChart.horizontal(id: "lag-chart", title: "Minutes since each store's last sync", bars: lagBars))
              <table><tr><th>store</th><th>last contact</th><th>acknowledged up to</th><th>entries waiting</th></tr>\(storeRows)</table>
            </section>
            <section class="card" id="overdrafts"><h2>Overdrafts</h2>
              <p id="overdraft-count" class="\(view.overdrafts.isEmpty ? "ok" : "bad")">\(view.overdrafts.isEmpty ? "No member overdrew." : "\(view.overdrafts.count) \(view.overdrafts.count == 1 ? "redemption" : "redemptions") overdrew a member (offline at two stores).")</p>
              \(overdraftRows.isEmpty ? "" : "<table><tr><th>card</th><th>store</th><th>receipt</th><th>points</th><th>balance after</th><th>at</th></tr>\(overdraftRows)</table>")
            </section>
            <section class="card" id="totals"><h2>Net sales per day (\(HTML.escape(view.currency.code)), last \(daysShown) days, \(HTML.escape(zone)))</h2>
              \(BarChart.columns(id: "sales-chart", title: "Net sales per day, every store", bars: dayBars))
              <h2>Per store and day, last 7 days</h2>
              <table><tr><th>day</th><th>store</th><th>net sales</th><th>points earned</th><th>points redeemed</th><th>entries</th></tr>\(totalRows)</table>
            </section>
            <section class="card" id="tiers"><h2>Tier distribution</h2>
              \(BarChart.horizontal(id: "tier-chart", title: "Members per tier", bars: tierBars))
            </section>
            </main>
            """
        return HTML.document(title: "Head office — loyalty", bodyClass: "dashboard", refreshSeconds: 60, body: body)
    }

    static func duration(minutes: Int64) -> String {
        switch minutes {
        case ..<1: "just now"
        case ..<120: "\(minutes) min ago"
        case ..<(48 * 60): "\(minutes / 60) h ago"
        default: "\(minutes / 1440) days ago"
        }
    }
}
