public import Foundation
public import LoyaltyCore

/// What `loyalty-hq expire --as-of DATE` did.
public struct ExpiryRunSummary: Codable, Hashable, Sendable {
    public struct Member: Codable, Hashable, Sendable {
        public var card: String
        /// Points that lapsed (positive here; the entry carries them negated).
        public var expired: Int64
        /// Points an earlier run expired that a refund then took back as well: given back.
        public var givenBack: Int64
    }

    public var asOf: String
    public var programVersion: Int
    /// nil: the program in force lets points live for ever, and nothing expired.
    public var afterDays: Int?
    public var expiredPoints: Int64
    public var givenBackPoints: Int64
    public var members: [Member]
}

/// Points about to lapse, for `report expiring --within`.
public struct ExpiringPoints: Codable, Hashable, Sendable {
    public var card: String
    public var points: Int64
    /// The first day (chain time zone) on which some of them lapse.
    public var firstExpiryDay: String
    public var balance: Int64
}

/// What an expiry run gathers from the members' histories.
struct ExpiryFold: Sendable {
    var requests: [IssuedEntryRequest] = []
    /// The latest expiry run's time found in any member's history.
    var latestRun = Int64.min
    /// The lots of members whose kept lots change with this run.
    var kept: [KeptPointLots] = []
}

/// Why an expiry run refused to start.
public struct ExpiryRefusal: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

extension HeadOfficeStore {
    /// Expires every member's points that lapsed by the end of `asOfDay` (chain time zone), oldest lots
    /// first, under the program in force then, and gives back points an earlier run expired that a
    /// refund also took. Each member gets at most one entry of each kind per run; running again writes
    /// nothing new. The entries reach the members' stores with their next pull.
    public func runExpiry(
        asOfDay: Int, calendar: ChainCalendar, actor: String, now: Date
    ) async throws -> ExpiryRunSummary {
        try await withExpiryRunLock {
            try await runExpiryLocked(asOfDay: asOfDay, calendar: calendar, actor: actor, now: now)
        }
    }

    private func runExpiryLocked(
        asOfDay: Int, calendar: ChainCalendar, actor: String, now: Date
    ) async throws -> ExpiryRunSummary {
        guard asOfDay <= calendar.today(now) else {
            throw ExpiryRefusal(
                message:
                    "--as-of \(ChainCalendar.string(day: asOfDay)) is in the future: points expire on days that have come"
            )
        }
        let asOfEnd = calendar.startMilliseconds(ofDay: asOfDay + 1) - 1
        let program = HeadOfficeProgram.inForce(
            try await programs(), now: Date(timeIntervalSince1970: Double(asOfEnd) / 1000))
        let dayText = ChainCalendar.string(day: asOfDay)
        var summary = ExpiryRunSummary(
            asOf: dayText, programVersion: program.version, afterDays: program.pointsExpireAfterDays, expiredPoints: 0,
            givenBackPoints: 0, members: [])
        guard let days = program.pointsExpireAfterDays else { return summary }
        let lifetime = Int64(days) * 86_400_000
        // The lots are kept as at the end of the day, before this run's entries (which count at `asOfEnd`), and
        // never later than what tills syncing as usual have sent: the rest of today's sales are not late entries.
        let checkpoint = min(asOfEnd - 1, now.milliseconds - PointLotCheckpoints.syncedWithinMilliseconds)
        let generation = try await prepareKeptPointLots(checkpointMilliseconds: checkpoint)
        let keepingSince = checkpoint - PointLotCheckpoints.refundsKeptMilliseconds
        let resuming = PointLotsResumption(lifetimeMilliseconds: lifetime, asOfMilliseconds: checkpoint)
        let (run, fold) = try await foldPointHistories(resuming: resuming, into: ExpiryFold()) { state, history in
            var expiries = history.resumed?.expiryRuns ?? 0
            var latestRun = history.resumed?.latestRunMilliseconds ?? Int64.min
            // Kept lots change only with events up to the checkpoint; a history read in full is kept anew.
            var changed = history.resumed == nil
            var kept: KeptPointLots?
            // Called before the first event after the checkpoint: by then `changed` is known (events come in time
            // order), and unchanged lots are not encoded at all.
            func keep(_ lots: PointLots) {
                guard kept == nil, changed else { return }
                kept = KeptPointLots(
                    memberId: history.memberId, lots: lots.checkpointBytes(keepingSince: keepingSince),
                    expiryRuns: expiries, latestRunMilliseconds: latestRun)
            }
            let lots = try history.replayLots(lifetimeMilliseconds: lifetime, through: asOfEnd) { event, lots in
                if event.atMilliseconds > checkpoint { keep(lots) } else { changed = true }
                if event.kind == .expire && event.key.hasPrefix("hq:") {
                    latestRun = max(latestRun, event.atMilliseconds)
                    expiries += 1
                }
            }
            keep(lots)
            state.latestRun = max(state.latestRun, latestRun)
            if let kept { state.kept.append(kept) }
            let givenBack = lots.owedBack
            let due = lots.dueForExpiry(atMilliseconds: asOfEnd)
            // The member's count of expiry entries makes the key: a second run that finds the same work
            // (two operators at once) writes it once; one that finds new work writes it under a new key.
            // The member's first card, never its row id (a merge deletes a row; SQLite may reuse its id).
            let key = "expire:\(history.card):\(dayText):\(expiries)"
            if givenBack > 0 {
                state.requests.append(
                    IssuedEntryRequest(
                        memberId: history.memberId, card: history.card, kind: .expire, points: givenBack,
                        reason: "expired points given back: a refund took them too",
                        idempotencyKey: key + ":given-back",
                        createdAtMilliseconds: asOfEnd))
            }
            if due > 0 {
                state.requests.append(
                    IssuedEntryRequest(
                        memberId: history.memberId, card: history.card, kind: .expire, points: -due,
                        reason: "points earned more than \(days) days before \(dayText) expired",
                        idempotencyKey: key + ":expired",
                        createdAtMilliseconds: asOfEnd))
            }
        }
        let requests = run.requests
        guard run.latestRun <= asOfEnd else {
            throw ExpiryRefusal(
                message:
                    "expiry already ran as of \(ChainCalendar.string(day: calendar.day(milliseconds: run.latestRun))); runs move "
                    + "forward: give that day or a later one")
        }
        _ = try await issue(requests, actor: actor, now: now)
        if let generation {
            // Another run keeping lots since this one read them wins; the next run keeps them again.
            _ = try await keepPointLots(
                run.kept, checkpointMilliseconds: checkpoint, lifetimeMilliseconds: lifetime, after: fold,
                settlingGeneration: generation)
        }
        var byCard: [String: ExpiryRunSummary.Member] = [:]
        for request in requests {
            var member = byCard[request.card] ?? .init(card: request.card, expired: 0, givenBack: 0)
            if request.points < 0 { member.expired -= request.points } else { member.givenBack += request.points }
            byCard[request.card] = member
        }
        summary.members = byCard.values.sorted { $0.card < $1.card }
        summary.expiredPoints = summary.members.reduce(0) { $0 + $1.expired }
        summary.givenBackPoints = summary.members.reduce(0) { $0 + $1.givenBack }
        return summary
    }

    /// Members whose points lapse after `asOfDay` and within `withinDays` days, by card: what the next
    /// expiry runs will take unless the points are spent first.
    public func expiringPoints(asOfDay: Int, withinDays: Int, calendar: ChainCalendar) async throws -> [ExpiringPoints]
    {
        let asOfEnd = calendar.startMilliseconds(ofDay: asOfDay + 1) - 1
        let untilEnd = calendar.startMilliseconds(ofDay: asOfDay + withinDays + 1) - 1
        let program = HeadOfficeProgram.inForce(
            try await programs(), now: Date(timeIntervalSince1970: Double(asOfEnd) / 1000))
        guard let days = program.pointsExpireAfterDays else { return [] }
        let lifetime = Int64(days) * 86_400_000
        let resuming = PointLotsResumption(lifetimeMilliseconds: lifetime, asOfMilliseconds: asOfEnd)
        let (rows, _) = try await foldPointHistories(resuming: resuming, into: [ExpiringPoints]()) { rows, history in
            let lots = try history.replayLots(lifetimeMilliseconds: lifetime, through: asOfEnd)
            let soon = lots.expiring(after: asOfEnd, until: untilEnd)
            // Never more than the member can lose: the balance caps what expiry takes.
            let points = min(soon.reduce(0) { $0 + $1.points }, max(0, lots.balance))
            guard points > 0, let first = soon.first else { return }
            rows.append(
                ExpiringPoints(
                    card: history.card, points: points,
                    firstExpiryDay: ChainCalendar.string(day: calendar.day(milliseconds: first.expiresAtMilliseconds)),
                    balance: lots.balance))
        }
        return rows.sorted { $0.card < $1.card }
    }

    /// Gives the program's referral bonus to both members once a referred member's first sale has
    /// reached head office. Each pair is paid once, however often this runs. Returns the bonuses written.
    @discardableResult
    public func grantReferralBonuses(now: Date) async throws -> Int {
        let program = HeadOfficeProgram.inForce(try await programs(), now: now)
        guard let points = program.bonuses?.referralPoints, points > 0 else { return 0 }
        let pending = try await pendingReferrals()
        let requests = pending.flatMap { referral in
            [
                IssuedEntryRequest(
                    memberId: referral.memberId, card: referral.card, kind: .bonus, points: points,
                    reason: "referral bonus: referred by card ending \(referral.referrerCard.suffix(4))",
                    idempotencyKey: "referral:new:\(referral.card)", createdAtMilliseconds: now.milliseconds),
                IssuedEntryRequest(
                    memberId: referral.referrerMemberId, card: referral.referrerCard, kind: .bonus, points: points,
                    reason: "referral bonus: referred card ending \(referral.card.suffix(4))",
                    idempotencyKey: "referral:referrer:\(referral.card)", createdAtMilliseconds: now.milliseconds),
            ]
        }
        return try await issue(requests, actor: "referrals", now: now)
    }
}
