import Foundation
import SyncProtocol
import Testing

@testable import HeadOffice

/// The snapshots a pull keeps for the next tills: fresh for a minute of head office's clock, whichever way it moves.
@Suite struct SnapshotCacheTests {
    static let key = SnapshotCache.Key(memberId: 7, version: 3, dayStart: 0, programVersion: 1)

    static func value(at milliseconds: Int64) -> SnapshotCache.Value {
        SnapshotCache.Value(
            snapshot: MemberSnapshot(
                card: "2900000777774", cards: ["2900000777774"], balance: 40, tier: "base", rollingSpendMinor: 4000,
                includesStoreSeq: 0),
            issued: [], computedAtMilliseconds: milliseconds)
    }

    @Test func aSnapshotIsKeptForAMinuteAndNeverFromTheFuture() {
        let cache = SnapshotCache()
        let computed: Int64 = 1_795_340_000_000
        cache.store([Self.key: Self.value(at: computed)], now: computed)
        #expect(cache.lookup([Self.key], now: computed + 59_999)[Self.key]?.snapshot.balance == 40)
        #expect(cache.lookup([Self.key], now: computed + 60_000).isEmpty)
        // Head office's clock set back an hour: the snapshot "from the future" is computed again.
        #expect(cache.lookup([Self.key], now: computed - 3_600_000).isEmpty)
        // Another version of the member is another snapshot.
        var newer = Self.key
        newer.version += 1
        #expect(cache.lookup([newer], now: computed).isEmpty)
    }
}
