public import LoyaltyCore

/// What head office knows of one member that decides the once-per-member grants: the bonuses stores
/// paid, head office's earlier corrections, the first enrolment and the first sale that still stands.
public struct MemberGrantFacts: Hashable, Sendable {
    /// An entry of a store. A till's batch never ends between it and the grant written with it (the
    /// outbox keeps an operation's entries together), so head office sees both or neither.
    public struct StoreEvent: Hashable, Sendable {
        public var storeId: String
        public var seq: Int64
        public var atMilliseconds: Int64
        /// The program version the till recorded on the entry.
        public var ruleVersion: Int

        public init(storeId: String, seq: Int64, atMilliseconds: Int64, ruleVersion: Int = 1) {
            self.storeId = storeId
            self.seq = seq
            self.atMilliseconds = atMilliseconds
            self.ruleVersion = ruleVersion
        }
    }

    public var memberId: Int64
    public var card: String
    /// Net points of each grant's bonus entries, by store.
    public var paid: [OncePerMemberGrant: [String: Int64]] = [:]
    /// How many of each grant's bonus entries still stand (not taken back by a refund).
    public var payments: [OncePerMemberGrant: Int] = [:]
    /// When the latest bonus entry of each grant was paid (a payment too many is taken back at its time).
    public var latestPaymentAtMilliseconds: [OncePerMemberGrant: Int64] = [:]
    /// Head office's corrections of one grant: their net points and how many there are (the next key).
    public struct Corrections: Hashable, Sendable {
        public var points: Int64 = 0
        public var count = 0
    }

    /// A referral bonus paid for this member as the new member.
    public struct PaidReferral: Hashable, Sendable {
        public var referrerMemberId: Int64
        public var referrerCard: String
        public var standing: ReferralStanding
        /// How many corrections of it there are (the next key).
        public var corrections: Int
    }

    /// A referral bonus paid for another record of this member that a merge joined to it: one person
    /// enrols once, so it is taken back from both sides (once).
    public struct MergedReferral: Hashable, Sendable {
        public var referredCard: String
        public var referrerMemberId: Int64
        public var referrerCard: String
        public var paid: Int64
    }

    /// Head office's corrections, by grant.
    public var corrected: [OncePerMemberGrant: Corrections] = [:]
    /// The member's earliest enrolment at any store.
    public var firstEnrolment: StoreEvent?
    /// The member's earliest sale not fully refunded.
    public var firstStandingSale: StoreEvent?
    /// The referral bonus paid for this member as the new member, if any (the earliest).
    public var referral: PaidReferral?
    /// Further referral bonuses paid for records merged into this member, not taken back yet.
    public var mergedReferrals: [MergedReferral] = []
    /// The member's first sale imported from the old system, if any.
    public var firstImportedSaleAtMilliseconds: Int64?

    public init(memberId: Int64, card: String) {
        self.memberId = memberId
        self.card = card
    }

    /// When a correction of `grant` by `points` counts in 12-month figures: a payment too many is taken back at
    /// the time of the latest one, a missing grant is given at the event that earns it (found by attack: a tier
    /// reached on a bonus head office took back held until the next review).
    public func countsAtMilliseconds(correcting grant: OncePerMemberGrant, by points: Int64) -> Int64? {
        if points < 0 { return latestPaymentAtMilliseconds[grant] }
        switch grant {
        case .enrolmentBonus: return firstEnrolment?.atMilliseconds
        case .firstPurchase: return firstStandingSale?.atMilliseconds
        case .referral: return nil
        }
    }

    /// Each grant's standing under the program of the event that earns it (`program(event)`).
    public func standings(program: (StoreEvent) -> LoyaltyProgram) -> [GrantStanding] {
        var result: [GrantStanding] = []
        for grant in OncePerMemberGrant.allCases {
            let event: StoreEvent?
            let due: Int64
            switch grant {
            case .enrolmentBonus:
                event = firstEnrolment
                due = event.map { program($0).bonuses?.enrolmentPoints ?? 0 } ?? 0
            case .firstPurchase:
                // A sale imported from the old system before it: the member's first purchase was not here.
                let boughtBefore =
                    firstStandingSale.map { sale in
                        firstImportedSaleAtMilliseconds.map { $0 < sale.atMilliseconds } ?? false
                    } ?? false
                event = boughtBefore ? nil : firstStandingSale
                due = event.map { program($0).bonuses?.firstPurchasePoints ?? 0 } ?? 0
            case .referral:
                continue  // head office pays it itself; ``referral`` decides it
            }
            result.append(
                GrantStanding(
                    grant: grant, paidByStore: paid[grant] ?? [:], payments: payments[grant] ?? 0,
                    corrected: corrected[grant]?.points ?? 0, due: max(0, due)))
        }
        return result
    }
}
