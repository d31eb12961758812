/// A grant the program makes once per member, whichever till makes it.
public enum OncePerMemberGrant: String, CaseIterable, Sendable, Codable {
    /// The enrolment bonus: paid by the till that enrols the member.
    case enrolmentBonus = "enrolment_bonus"
    /// The first-purchase bonus: paid with the member's first sale that is not fully refunded.
    case firstPurchase = "first_purchase"
    /// The referral bonus: paid by head office to both members while a sale of the new member stands.
    case referral

    /// The `reason` a till writes on the bonus entry of this grant.
    public var tillReason: String {
        switch self {
        case .enrolmentBonus: "enrolment bonus"
        case .firstPurchase: "first-purchase bonus"
        case .referral: "referral bonus"
        }
    }
}

/// What the chain holds for one member and one grant, and what the always-online program owes them.
///
/// Tills decide offline from their own view, so two tills may both pay a grant (two stores sell to a new
/// member before either syncs, a provisional card enrolled again at a second store, two records merged)
/// or none may (the first sale was provisional, or fully refunded). Head office, which sees every store's
/// entries, corrects the difference with one visible entry.
public struct GrantStanding: Hashable, Sendable {
    public var grant: OncePerMemberGrant
    /// Net points of this grant in the stores' entries (each bonus less what refunds took back), by store.
    public var paidByStore: [String: Int64]
    /// How many bonus entries paid it and still stand.
    public var payments: Int
    /// Net points of head office's earlier corrections of this grant.
    public var corrected: Int64
    /// What the program as if every till were always online gives: the grant's points, or 0.
    public var due: Int64

    public init(grant: OncePerMemberGrant, paidByStore: [String: Int64], payments: Int, corrected: Int64, due: Int64) {
        self.grant = grant
        self.paidByStore = paidByStore
        self.payments = payments
        self.corrected = corrected
        self.due = due
    }

    /// Everything the member holds for the grant.
    public var held: Int64 { paidByStore.values.reduce(corrected, +) }

    /// The correction that makes `held == due`, nil when they agree.
    public var correction: GrantCorrection? {
        let points = due - held
        guard points != 0 else { return nil }
        let stores = paidByStore.filter { $0.value != 0 }.keys.sorted()
        let code: String
        if points > 0 {
            code = "reconcile:\(grant.rawValue)_missing"
        } else {
            code = payments >= 2 ? "reconcile:\(grant.rawValue)_twice" : "reconcile:\(grant.rawValue)_not_due"
        }
        return GrantCorrection(grant: grant, points: points, reasonCode: code, stores: stores)
    }
}

/// One corrective entry head office writes: `adjust` of `points`, with a reason code and the stores involved.
public struct GrantCorrection: Hashable, Sendable, Codable {
    public var grant: OncePerMemberGrant
    public var points: Int64
    /// `reconcile:first_purchase_twice`, `reconcile:enrolment_bonus_missing`, …
    public var reasonCode: String
    /// Stores whose entries paid the grant.
    public var stores: [String]

    public init(grant: OncePerMemberGrant, points: Int64, reasonCode: String, stores: [String]) {
        self.grant = grant
        self.points = points
        self.reasonCode = reasonCode
        self.stores = stores
    }

    /// The entry's reason: the code, then what a person reads.
    public var reason: String {
        let paid =
            stores.isEmpty
            ? "no payment of it stands (none was paid, or a refund took it back)"
            : "paid at " + stores.joined(separator: ", ")
        return "\(reasonCode): \(grant.rawValue.replacingOccurrences(of: "_", with: " ")) is once per member; \(paid)"
    }

    /// The reason code at the start of a correction's reason, nil for any other reason.
    public static func reasonCode(in reason: String) -> String? {
        guard reason.hasPrefix("reconcile:"),
            let end = reason.firstIndex(of: ":").flatMap({ reason[reason.index(after: $0)...].firstIndex(of: ":") })
        else { return nil }
        return String(reason[..<end])
    }
}

/// A referral bonus head office paid (to the new member and to the member who referred them) when the
/// new member's first sale arrived: it stands while some sale of theirs stands.
public struct ReferralStanding: Hashable, Sendable {
    /// The bonus each of the two got.
    public var paid: Int64
    /// Net of earlier corrections of it (the new member's side).
    public var corrected: Int64
    /// Whether the new member has a sale that is not fully refunded.
    public var saleStands: Bool
    /// The referrer and the new member are one person (two records merged): never due.
    public var selfReferral: Bool

    public init(paid: Int64, corrected: Int64, saleStands: Bool, selfReferral: Bool = false) {
        self.paid = paid
        self.corrected = corrected
        self.saleStands = saleStands
        self.selfReferral = selfReferral
    }

    /// Points to add to each of the two (negative: taken back), and the reason code; nil when it stands right.
    public var correction: (points: Int64, reasonCode: String)? {
        let points = (saleStands && !selfReferral ? paid : 0) - (paid + corrected)
        guard points != 0 else { return nil }
        if points > 0 { return (points, "reconcile:referral_restored") }
        return (points, selfReferral ? "reconcile:referral_self" : "reconcile:referral_refunded")
    }
}
