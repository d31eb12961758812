/// What a sale has earned, redeemed and already given back: the input to planning a refund.
public struct SaleRefundState: Hashable, Sendable {
    /// The sale amount of the earn entry (0 when the receipt only redeemed points).
    public var saleMinorUnits: Int64
    public var earnedPoints: Int64
    /// Points the sale's redemption spent (positive).
    public var redeemedPoints: Int64
    /// Amount already refunded by earlier refunds of this receipt.
    public var refundedMinorUnits: Int64
    /// Earned points already taken back (positive).
    public var reversedEarnPoints: Int64
    /// Redeemed points already given back (positive).
    public var restoredRedeemPoints: Int64

    public init(
        saleMinorUnits: Int64, earnedPoints: Int64, redeemedPoints: Int64, refundedMinorUnits: Int64 = 0,
        reversedEarnPoints: Int64 = 0, restoredRedeemPoints: Int64 = 0
    ) {
        self.saleMinorUnits = saleMinorUnits
        self.earnedPoints = earnedPoints
        self.redeemedPoints = redeemedPoints
        self.refundedMinorUnits = refundedMinorUnits
        self.reversedEarnPoints = reversedEarnPoints
        self.restoredRedeemPoints = restoredRedeemPoints
    }

    public var isFullyRefunded: Bool {
        refundedMinorUnits >= saleMinorUnits && reversedEarnPoints >= earnedPoints && restoredRedeemPoints >= redeemedPoints
    }
}

/// The entries a refund writes: earned points taken back and redeemed points given back, pro rata.
public struct RefundPlan: Hashable, Sendable {
    /// The amount this refund covers (0 for a redemption-only receipt).
    public var refundMinorUnits: Int64
    /// Earned points to take back (positive; the entry carries it negated).
    public var reverseEarnPoints: Int64
    /// Redeemed points to give back (positive).
    public var restoreRedeemPoints: Int64

    /// Plans a refund of `amountMinorUnits` (nil: everything that remains) of a sale.
    ///
    /// Cumulative and pro rata: after refunds totalling `r` of a sale `s` that earned `e`, exactly
    /// `floor(e·r/s)` points have been taken back, and all of `e` once `r == s`; never more than was
    /// earned. Redeemed points come back the same way.
    ///
    /// - Parameter lineTakeBack: for a sale recorded with lines, what the returned lines earned
    ///   (``LineRefundPlan``): taken back instead of a share of the whole sale's points.
    public static func plan(
        _ state: SaleRefundState, amountMinorUnits: Int64?, lineTakeBack: Int64? = nil
    ) throws(LoyaltyError) -> RefundPlan {
        guard !state.isFullyRefunded else {
            throw .refused("already_refunded", "this receipt is already fully refunded; nothing is left to take back")
        }
        let remaining = state.saleMinorUnits - state.refundedMinorUnits
        let refund: Int64
        if let amountMinorUnits {
            guard amountMinorUnits > 0 else {
                throw .badInput("zero_amount", "a refund amount must be greater than zero")
            }
            guard state.saleMinorUnits > 0 else {
                throw .badInput(
                    "no_sale_amount", "this receipt only redeemed points; refund it without --amount to give them back")
            }
            guard amountMinorUnits <= remaining else {
                throw .refused(
                    "over_refund",
                    "only \(remaining) minor units of this sale are left to refund; refund at most that")
            }
            refund = amountMinorUnits
        } else {
            refund = remaining
        }
        let refundedAfter = state.refundedMinorUnits + refund
        let complete = refundedAfter >= state.saleMinorUnits
        func share(_ total: Int64) -> Int64 {
            complete ? total : Rounding.down.scale(total, by: refundedAfter, dividedBy: state.saleMinorUnits)
        }
        // Clamped, not asserted: the state may count other stores' returns (head office's figures), which a
        // store that was cut off can have overtaken; a refund never adds earned points nor takes more than earned.
        let reverse = lineTakeBack ?? (share(state.earnedPoints) - state.reversedEarnPoints)
        return RefundPlan(
            refundMinorUnits: refund,
            reverseEarnPoints: min(max(0, reverse), max(0, state.earnedPoints - state.reversedEarnPoints)),
            restoreRedeemPoints: max(0, share(state.redeemedPoints) - state.restoredRedeemPoints))
    }
}
