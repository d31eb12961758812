public import Foundation
public import LoyaltyCore

/// A member's 12-month figure at the moment of one of their sales, with the tier they hold at least.
public struct TierFigureAtSale: Hashable, Sendable {
    public var memberId: Int64
    /// The member's tier floor: set by the last review, raised since by sales (`reviewed_tier`).
    public var floor: String?
    public var atMilliseconds: Int64
    /// The 12 months up to and including the sale.
    public var progress: TierProgress

    public init(memberId: Int64, floor: String?, atMilliseconds: Int64, progress: TierProgress) {
        self.memberId = memberId
        self.floor = floor
        self.atMilliseconds = atMilliseconds
        self.progress = progress
    }
}

extension HeadOfficeStore {
    /// Upgrade at once, downgrade only at review: each sale's tier (the figure of the 12 months up to the
    /// sale, under the program in force then) raises the member's floor, so a refund arriving with or after
    /// the sale no longer lowers the tier head office and the tills show. A review sets the floor again.
    /// - Returns: the floors raised, by member.
    @discardableResult
    public func holdTiersReached(sales: [(card: String, atMilliseconds: Int64)]) async throws -> [Int64: String] {
        guard !sales.isEmpty else { return [:] }
        let published = try await programs()
        var raised: [Int64: String] = [:]
        for figure in try await tierFigures(at: Array(sales.prefix(Self.maximumMembersPerReconciliation))) {
            let program = HeadOfficeProgram.inForce(
                published, now: Date(timeIntervalSince1970: Double(figure.atMilliseconds) / 1000))
            let reached = program.tier(for: figure.progress)
            let held = raised[figure.memberId] ?? figure.floor
            let rank = { (name: String?) in name.flatMap { name in program.tiers.firstIndex { $0.name == name } } ?? -1 }
            if rank(reached.name) > rank(held) { raised[figure.memberId] = reached.name }
        }
        try await raiseTierFloors(raised)
        return raised
    }
}
