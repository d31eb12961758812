public import Foundation

extension HeadOfficeStore {
    /// Joins each provisional member (a card sold at a store before any store knew it, never enrolled,
    /// holding only that card) to the member a store added the card to: one card, one member chain-wide,
    /// whichever store synced first. Each join is a `members merge` in the audit trail, and the member's
    /// once-per-member grants and coupons are reconciled after it.
    /// - Returns: the conflicts resolved this way.
    @discardableResult
    public func joinProvisionalCards(actor: String, now: Date) async throws -> [CardConflict] {
        var joined: [CardConflict] = []
        for conflict in try await cardConflicts() where conflict.heldByProvisional {
            do {
                try await mergeMembers(
                    keep: conflict.addedTo, other: conflict.card, actor: actor,
                    reason:
                        "reconcile:provisional_card_joined: store \(conflict.storeId) added the card to this member; "
                        + "it had been used at a store before any store knew it",
                    now: now)
                joined.append(conflict)
            } catch let refusal as IngestRefusal where [.sameMember, .unknownCard].contains(refusal.kind) {
                // Another head-office process joined it first, or an operator merged or replaced meanwhile.
                continue
            }
        }
        for keep in Set(joined.map(\.addedTo)) {
            try await reconcileAfterMerge(keep: keep, actor: actor, now: now)
        }
        return joined
    }
}
