/// One change of a member's points, as the lots see it.
public struct PointEvent: Hashable, Sendable {
    /// Identifies the entry (`store:seq`, or head office's id) so a refund can name the sale it undoes.
    public var key: String
    public var kind: EntryKind
    public var points: Int64
    public var atMilliseconds: Int64
    /// For a reversal: the key of the entry it reverses.
    public var refersTo: String?

    public init(key: String, kind: EntryKind, points: Int64, atMilliseconds: Int64, refersTo: String? = nil) {
        self.key = key
        self.kind = kind
        self.points = points
        self.atMilliseconds = atMilliseconds
        self.refersTo = refersTo
    }
}

/// A member's points as lots: every grant of points (a sale, a bonus, redeemed points given back) is
/// a lot that lapses `lifetimeMilliseconds` after it was granted. Spending takes from the oldest lot
/// first; a refund takes back its own sale's lot first. Expiry takes what is left of lapsed lots, so it
/// never touches points already spent and never takes a balance below zero.
///
/// When a refund reaches head office after the points of its sale already expired, the refund and the
/// expiry took the same points twice; ``owedBack`` counts them and the next expiry run gives them back
/// (a positive `expire` entry). So the balance after a run does not depend on the order in which the
/// refund and the expiry happened.
///
/// Invariant after every event: `balance == Σ remaining − debt − owedBack`, no lot below zero.
public struct PointLots: Sendable {
    public struct Lot: Hashable, Sendable {
        public var key: String
        public var grantedAtMilliseconds: Int64
        public var expiresAtMilliseconds: Int64
        /// Points of the lot not yet spent, refunded or expired (≥ 0).
        public var remaining: Int64
        /// Points of the lot that expired and were not given back (≥ 0).
        public var expired: Int64
    }

    public let lifetimeMilliseconds: Int64
    public internal(set) var lots: [Lot] = []
    /// Points spent beyond every lot (an overdraft); new lots pay it first.
    public internal(set) var debt: Int64 = 0
    /// Points taken twice (expired, then refunded or expired again) that head office owes back.
    public internal(set) var owedBack: Int64 = 0
    public internal(set) var balance: Int64 = 0
    // Internal, not private: `PointLots+Checkpoint.swift` writes and reads them.
    var indexByKey: [String: Int] = [:]
    /// What each spending event took from which lot, so a refund of a redemption puts the points back
    /// into the lots they came from, with their original expiry.
    var takenByKey: [String: [(lot: Int, points: Int64)]] = [:]
    /// When each of those spending events happened (kept lots leave out old ones).
    var takenAtByKey: [String: Int64] = [:]
    /// Lots before this index are empty: spending starts here.
    var firstLive = 0

    public init(lifetimeMilliseconds: Int64) {
        precondition(lifetimeMilliseconds > 0, "points live for some time")
        self.lifetimeMilliseconds = lifetimeMilliseconds
    }

    /// Applies one event; events come in time order.
    public mutating func apply(_ event: PointEvent) {
        balance += event.points
        switch (event.kind, event.points.signum()) {
        case (_, 0):
            break
        case (.expire, 1):
            // Expiry given back: it cancels points taken twice; anything beyond is a plain grant.
            let cancelled = min(event.points, owedBack)
            owedBack -= cancelled
            if event.points > cancelled { grant(event.points - cancelled, key: event.key, at: event.atMilliseconds) }
        case (.expire, _):
            expire(-event.points, at: event.atMilliseconds)
        case (.reverse, 1) where event.refersTo.map { takenByKey[$0] != nil } ?? false:
            // Redeemed points given back (a refund of the sale): into the lots they were taken from.
            let restored = restore(event.points, takenBy: event.refersTo!)
            if event.points > restored { grant(event.points - restored, key: event.key, at: event.atMilliseconds) }
        case (_, 1):
            grant(event.points, key: event.key, at: event.atMilliseconds)
        default:
            var needed = -event.points
            if let refersTo = event.refersTo, let index = indexByKey[refersTo] {
                let fromLot = min(needed, lots[index].remaining)
                lots[index].remaining -= fromLot
                needed -= fromLot
                // Points of this sale that already expired: the refund takes them a second time.
                let twice = min(needed, lots[index].expired)
                lots[index].expired -= twice
                owedBack += twice
                needed -= twice
            }
            spend(needed, key: event.key, at: event.atMilliseconds)
        }
        assert(balance == lots.reduce(0) { $0 + $1.remaining } - debt - owedBack, "lots add up to the balance")
    }

    /// Points of lots lapsed by `milliseconds` that are still there: what an expiry run at that moment
    /// takes, at most the balance left after giving back ``owedBack``.
    public func dueForExpiry(atMilliseconds milliseconds: Int64) -> Int64 {
        let lapsed = lots[firstLive...].reduce(Int64(0)) {
            $0 + ($1.expiresAtMilliseconds <= milliseconds ? $1.remaining : 0)
        }
        return max(0, min(lapsed, balance + owedBack))
    }

    /// Points of lots still there that lapse after `from` and by `until`, by lapse time, oldest first.
    public func expiring(after from: Int64, until: Int64) -> [(expiresAtMilliseconds: Int64, points: Int64)] {
        lots[firstLive...].filter { $0.remaining > 0 && $0.expiresAtMilliseconds > from && $0.expiresAtMilliseconds <= until }
            .map { ($0.expiresAtMilliseconds, $0.remaining) }
    }

    private mutating func grant(_ points: Int64, key: String, at milliseconds: Int64) {
        let repaid = min(points, debt)
        debt -= repaid
        indexByKey[key] = lots.count
        lots.append(
            Lot(
                key: key, grantedAtMilliseconds: milliseconds, expiresAtMilliseconds: milliseconds + lifetimeMilliseconds,
                remaining: points - repaid, expired: 0))
    }

    /// Takes `points` from the oldest lots; what no lot holds becomes debt.
    private mutating func spend(_ points: Int64, key: String, at milliseconds: Int64) {
        var needed = points
        var index = firstLive
        var taken: [(lot: Int, points: Int64)] = []
        while needed > 0 && index < lots.count {
            let take = min(needed, lots[index].remaining)
            lots[index].remaining -= take
            needed -= take
            if take > 0 { taken.append((index, take)) }
            index += 1
        }
        if !taken.isEmpty {
            takenByKey[key] = taken
            takenAtByKey[key] = milliseconds
        }
        advanceFirstLive()
        debt += needed
    }

    /// Puts up to `points` back into the lots the spending `key` took them from (first taken, first back);
    /// returns how many went back (the rest had come from no lot: it was debt).
    private mutating func restore(_ points: Int64, takenBy key: String) -> Int64 {
        var left = points
        var taken = takenByKey[key] ?? []
        for position in taken.indices where left > 0 {
            let back = min(left, taken[position].points)
            lots[taken[position].lot].remaining += back
            taken[position].points -= back
            firstLive = min(firstLive, taken[position].lot)
            left -= back
        }
        takenByKey[key] = taken.filter { $0.points > 0 }
        return points - left
    }

    /// Moves `points` of lapsed lots (oldest first) to expired; an expiry that finds fewer lapsed points
    /// (a refund took them first) took points twice: they are owed back.
    private mutating func expire(_ points: Int64, at milliseconds: Int64) {
        var needed = points
        var index = firstLive
        while needed > 0 && index < lots.count && lots[index].expiresAtMilliseconds <= milliseconds {
            let taken = min(needed, lots[index].remaining)
            lots[index].remaining -= taken
            lots[index].expired += taken
            needed -= taken
            index += 1
        }
        advanceFirstLive()
        owedBack += needed
    }

    mutating func advanceFirstLive() {
        while firstLive < lots.count && lots[firstLive].remaining == 0 && lots[firstLive].expired == 0 { firstLive += 1 }
    }
}
