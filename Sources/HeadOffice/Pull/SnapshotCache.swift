import Foundation
import SyncProtocol
import Synchronization

/// Member snapshots as a pull computed them, for the next tills that pull the same member at the same
/// version. Every till pulls every changed member, so without it a fleet of tills made head office compute
/// each snapshot once per till (fleet-benchmark: 50 tills pulling 2,000 members took 8 s each).
///
/// A snapshot is the same for every store at one member version, one chain day and one program version, but
/// for two parts each pull sets itself: `includesStoreSeq` (the store's mark) and head office's own entries
/// newer than the store's cursor (kept here with their versions). Entries live at most
/// ``maximumAgeMilliseconds``: the 12-month figures move with the clock, and head office's aging steps a
/// minute at a time (``RollingAging``), so a kept snapshot is never staler than a fresh one could be.
final class SnapshotCache: Sendable {
    struct Key: Hashable {
        var memberId: Int64
        var version: Int64
        /// The chain day's start (the day's points) and the program in force (the tier).
        var dayStart: Int64
        var programVersion: Int
    }

    /// One member's snapshot without the store's parts, and head office's entries with their versions.
    struct Value: Sendable {
        var snapshot: MemberSnapshot
        var issued: [(entry: HeadOfficeEntry, version: Int64)]
        var computedAtMilliseconds: Int64
    }

    static let maximumEntries = 50_000
    static let maximumAgeMilliseconds: Int64 = 60_000

    private let entries = Mutex<[Key: Value]>([:])

    /// The snapshots kept for `keys` and still fresh at `now`.
    func lookup(_ keys: [Key], now: Int64) -> [Key: Value] {
        entries.withLock { entries in
            var found: [Key: Value] = [:]
            for key in keys {
                // Never from the future either: after head office's clock was set back, a snapshot computed
                // "later" would otherwise stay fresh until it came round again (found by review).
                if let value = entries[key],
                    (0..<Self.maximumAgeMilliseconds).contains(now - value.computedAtMilliseconds)
                {
                    found[key] = value
                }
            }
            return found
        }
    }

    /// Keeps freshly computed snapshots; at the bound, everything older than a fresh one goes first, and if
    /// that is not enough, everything (a pull recomputes what it needs).
    func store(_ values: [Key: Value], now: Int64) {
        entries.withLock { entries in
            if entries.count + values.count > Self.maximumEntries {
                entries = entries.filter { now - $0.value.computedAtMilliseconds < Self.maximumAgeMilliseconds }
                if entries.count + values.count > Self.maximumEntries { entries.removeAll(keepingCapacity: true) }
            }
            entries.merge(values) { _, new in new }
        }
    }

    /// The snapshot for one store: its mark, and head office's entries newer than its cursor.
    static func snapshot(_ value: Value, includesStoreSeq: Int64, cursor: Int64) -> MemberSnapshot {
        var snapshot = value.snapshot
        snapshot.includesStoreSeq = includesStoreSeq
        let newer = value.issued.filter { $0.version > cursor }.map(\.entry)
        snapshot.headOfficeEntries = newer.isEmpty ? nil : newer
        return snapshot
    }
}
