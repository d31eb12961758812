import Foundation
import Synchronization

/// How far head office's clock is from this till's, learnt from a `stale` refusal: requests are signed by head
/// office's clock, so a till whose clock drifted still syncs (its entries keep the till's times; head office
/// counts those more than 15 minutes ahead from their arrival).
public final class HeadOfficeClock: Sendable {
    /// The largest difference followed: a clock further off is a configuration error to fix, not to sign around.
    public static let maximumOffsetMilliseconds: Int64 = 7 * 86_400_000
    private let offset = Mutex<Int64>(0)

    public init() {}

    /// Head office's time minus this till's, in milliseconds (0 until a refusal said otherwise).
    public var offsetMilliseconds: Int64 { offset.withLock { $0 } }

    /// Now by head office's clock.
    func now(_ local: Date = Date()) -> Date {
        local.addingTimeInterval(Double(offsetMilliseconds) / 1000)
    }

    /// Follows head office's time from a refusal; false when it is too far off to follow.
    func follow(headOfficeMilliseconds: Int64, local: Date = Date()) -> Bool {
        let localMilliseconds = Int64((local.timeIntervalSince1970 * 1000).rounded())
        let (difference, overflow) = headOfficeMilliseconds.subtractingReportingOverflow(localMilliseconds)
        guard !overflow, difference.magnitude <= UInt64(Self.maximumOffsetMilliseconds) else { return false }
        offset.withLock { $0 = difference }
        return true
    }
}
