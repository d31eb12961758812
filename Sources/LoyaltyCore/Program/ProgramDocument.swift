import Foundation

extension LoyaltyProgram {
    /// The program as the JSON document head office stores and sends to the stores (sorted keys).
    ///
    /// Under spend tiers each tier also carries its threshold under the name agents read before
    /// `tiers_by` existed (`minimumRollingSpendMinorUnits`): tills not yet upgraded keep reading new
    /// versions. A points program leaves that name out, so those tills skip a version they would
    /// misread as spend and keep the last one they have.
    public func document() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.userInfo[Tier.writesSpendThresholdUnderItsFormerName] = !tiersCountPoints
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }
}
