/// Points a program version gives for events rather than spend. Zero (or absent) gives nothing.
public struct ProgramBonuses: Hashable, Sendable, Codable {
    /// Given at the till when a member enrols.
    public var enrolmentPoints: Int64 = 0
    /// Given at the till with a member's first sale; taken back when that sale is fully refunded.
    public var firstPurchasePoints: Int64 = 0
    /// Given by head office to both the new member and the member who referred them, once the new
    /// member's first sale reaches head office.
    public var referralPoints: Int64 = 0

    public init(enrolmentPoints: Int64 = 0, firstPurchasePoints: Int64 = 0, referralPoints: Int64 = 0) {
        self.enrolmentPoints = enrolmentPoints
        self.firstPurchasePoints = firstPurchasePoints
        self.referralPoints = referralPoints
    }

    /// The largest bonus a program may give, so no bonus can overflow a balance.
    public static let maximumPoints: Int64 = 1_000_000

    public var isEmpty: Bool { enrolmentPoints == 0 && firstPurchasePoints == 0 && referralPoints == 0 }
}
