/// How a fractional number of points becomes a whole number. Stated in every program version.
public enum Rounding: String, Sendable, Codable, CaseIterable {
    /// Towards zero: 12.99 units earn 12 points.
    case down
    /// To the nearest whole point, halves up.
    case halfUp = "half_up"
    /// Away from zero.
    case up

    /// `numerator / denominator` for non-negative operands, rounded by this rule.
    /// Works on full-width products, so it never overflows for `Int64` inputs.
    public func divide(_ numerator: (high: Int64, low: UInt64), by denominator: Int64) -> Int64 {
        precondition(denominator > 0 && numerator.high >= 0, "rounding is defined for non-negative values")
        let (quotient, remainder) = denominator.dividingFullWidth(numerator)
        switch self {
        case .down: return quotient
        case .up: return remainder > 0 ? quotient + 1 : quotient
        case .halfUp: return remainder * 2 >= denominator ? quotient + 1 : quotient
        }
    }

    /// `value * multiplier / divisor` rounded by this rule, exact for any non-negative `Int64` inputs
    /// whose result fits.
    public func scale(_ value: Int64, by multiplier: Int64, dividedBy divisor: Int64) -> Int64 {
        precondition(value >= 0 && multiplier >= 0, "rounding is defined for non-negative values")
        return divide(value.multipliedFullWidth(by: multiplier), by: divisor)
    }

    /// `numerator / denominator` rounded by this rule, or nil when the result does not fit in `Int64`.
    public func dividedIfFits(_ numerator: (high: Int64, low: UInt64), by denominator: Int64) -> Int64? {
        precondition(denominator > 0 && numerator.high >= 0, "rounding is defined for non-negative values")
        let wide = UInt128(UInt64(numerator.high)) << 64 | UInt128(numerator.low)
        let (quotient, remainder) = wide.quotientAndRemainder(dividingBy: UInt128(denominator))
        let rounded: UInt128
        switch self {
        case .down: rounded = quotient
        case .up: rounded = remainder > 0 ? quotient + 1 : quotient
        case .halfUp: rounded = remainder * 2 >= UInt128(denominator) ? quotient + 1 : quotient
        }
        return rounded <= UInt128(Int64.max) ? Int64(rounded) : nil
    }

    /// `value * multiplier / divisor` rounded by this rule, or nil when the result does not fit.
    public func scaledIfFits(_ value: Int64, by multiplier: Int64, dividedBy divisor: Int64) -> Int64? {
        precondition(value >= 0 && multiplier >= 0, "rounding is defined for non-negative values")
        return dividedIfFits(value.multipliedFullWidth(by: multiplier), by: divisor)
    }
}
