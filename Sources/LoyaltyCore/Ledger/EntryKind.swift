/// What a ledger entry records. Entries are immutable; a mistake is corrected by a new entry.
public enum EntryKind: String, Sendable, Codable, CaseIterable {
    /// Points earned by a sale.
    case earn
    /// Points spent as a discount.
    case redeem
    /// A refund or void taking back earned points, or giving back redeemed ones.
    case reverse
    /// A manual correction with a reason.
    case adjust
    /// Points granted by a promotion or event (enrolment, birthday).
    case bonus
    /// Points that lapsed.
    case expire
    /// A member enrolled at this store (0 points): carries the profile to head office in the same
    /// acknowledged stream as the points, so every store and head office learn the member.
    case enroll
    /// The member's name or birthday changed at this store (0 points): head office takes the newest.
    case profile
    /// A coupon issued, used or voided (0 points): `coupon_code` names it, `reason` says which.
    case coupon
}
