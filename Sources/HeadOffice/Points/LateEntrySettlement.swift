public import Foundation
public import LoyaltyCore

extension HeadOfficeStore {
    /// Settles entries that reached head office after an expiry run but happened before it (a redemption
    /// or refund made offline): in sale order the expiry found those points already spent or refunded, so
    /// it took them a second time. They are given back at once with a visible positive `expire` entry
    /// (`reconcile:expired_twice`), and overdrafts recorded for a member who, in sale order, never
    /// overdrew are withdrawn. Running it again changes nothing.
    /// - Parameter expiredOnly: only members an expiry run touched (on ingest); false after a merge, when a
    ///   redemption recorded as an overdraft of one record may be covered by the other's points.
    /// - Returns: the points given back, by card.
    @discardableResult
    public func settleLateEntries(
        cards: [String], actor: String, now: Date, expiredOnly: Bool = true
    ) async throws -> [String: Int64] {
        let cards = Array(Set(cards).prefix(Self.maximumMembersPerReconciliation))
        guard !cards.isEmpty else { return [:] }
        let published = try await programs()
        var givenBack: [String: Int64] = [:]
        var requests: [IssuedEntryRequest] = []
        var neverOverdrew: [(memberId: Int64, overdrafts: [String])] = []
        for history in try await pointHistories(cards: cards, expiredOnly: expiredOnly) {
            // The lots as the member's last expiry run saw them: under the program in force then (without a
            // run, nothing lapsed and any lifetime replays the same spending).
            let lastRun = history.events.last { $0.kind == .expire && $0.points < 0 }
            let days =
                lastRun.flatMap {
                    HeadOfficeProgram.inForce(
                        published, now: Date(timeIntervalSince1970: Double($0.atMilliseconds) / 1000)
                    )
                    .pointsExpireAfterDays
                } ?? 365
            if expiredOnly && lastRun == nil { continue }
            var lots = PointLots(lifetimeMilliseconds: Int64(days) * 86_400_000)
            var overdrewInSaleOrder = false
            var expiries = 0
            var takenTwiceAt = Int64.min
            for event in history.events {
                let (debtBefore, owedBefore) = (lots.debt, lots.owedBack)
                lots.apply(event)
                if event.kind == .redeem && lots.debt > debtBefore { overdrewInSaleOrder = true }
                if event.kind == .expire && event.key.hasPrefix("hq:") { expiries += 1 }
                if lots.owedBack > owedBefore { takenTwiceAt = event.atMilliseconds }
            }
            // A balance below zero in sale order (a refund after a redemption) is an overdraft all the same.
            overdrewInSaleOrder = overdrewInSaleOrder || lots.debt > 0
            if lots.owedBack > 0 {
                // Dated with the event that took them twice (a given-back expiry replays after the events of its
                // millisecond), never later: an expiry run as of that day still sees it.
                requests.append(
                    IssuedEntryRequest(
                        memberId: history.memberId, card: history.card, kind: .expire, points: lots.owedBack,
                        reason: "reconcile:expired_twice: points an expiry run took were already spent or refunded "
                            + "at a store that synced after the run; given back",
                        idempotencyKey: "reconcile:expiry:\(history.card):\(expiries)",
                        createdAtMilliseconds: takenTwiceAt))
                givenBack[history.card] = lots.owedBack
            }
            if !overdrewInSaleOrder {
                neverOverdrew.append((history.memberId, history.events.filter { $0.kind == .redeem }.map(\.key)))
            }
        }
        _ = try await issue(requests, actor: actor, now: now)
        for member in neverOverdrew where !member.overdrafts.isEmpty {
            try await withdrawOverdrafts(memberId: member.memberId, entries: member.overdrafts)
        }
        return givenBack
    }
}
