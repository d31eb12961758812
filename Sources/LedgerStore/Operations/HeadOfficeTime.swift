public import Foundation
import GRDB

#if canImport(Glibc)
    import Glibc
#endif

/// Head office's clock as this till last learnt it: the offset from the till's wall clock, and, for the rest of the
/// machine's boot, the reading itself tied to the time since boot. A wall clock set right (or wrong) after the
/// reading moves nothing: found by attack, a till two days fast learnt the offset, was set right as its message
/// asked, and then dated every sale two days back (out of reach of the day cap) until its next sync.
struct HeadOfficeClock: Sendable {
    /// Head office's time minus the till's wall clock when last learnt (0 when never).
    var offsetMilliseconds: Int64
    /// Head office's time at `sinceBootMilliseconds` of boot `bootId` (nil when never learnt in this boot).
    var reading: (bootId: String, headOfficeMilliseconds: Int64, sinceBootMilliseconds: Int64)?

    /// Head office's time now: from the reading while the machine has not restarted, else the wall clock moved by
    /// the offset.
    func now(wallClockMilliseconds: Int64, bootId: String?, sinceBootMilliseconds: Int64) -> Int64 {
        if reading?.bootId == bootId, reading != nil {
            // Time since boot that went back within one boot: the reading came from a process whose clocks were
            // not the machine's (a clock-faking tool); neither it nor its offset is trusted.
            guard hasReading(bootId: bootId, sinceBootMilliseconds: sinceBootMilliseconds),
                let time = headOfficeTime(atSinceBootMilliseconds: sinceBootMilliseconds, bootId: bootId)
            else { return wallClockMilliseconds }
            return time
        }
        let (time, overflow) = wallClockMilliseconds.addingReportingOverflow(offsetMilliseconds)
        return overflow ? wallClockMilliseconds : time
    }

    /// Head office's time at `sinceBootMilliseconds` of boot `bootId`, from a reading of the same boot taken at or
    /// after it (an entry written before the reading is dated exactly), nil without one.
    func headOfficeTime(atSinceBootMilliseconds sinceBoot: Int64, bootId: String?) -> Int64? {
        guard let reading, reading.bootId == bootId, sinceBoot >= 0 else { return nil }
        let (elapsed, overflow) = sinceBoot.subtractingReportingOverflow(reading.sinceBootMilliseconds)
        guard !overflow, elapsed.magnitude <= UInt64(HeadOfficeClock.longestBootMilliseconds) else { return nil }
        let (time, later) = reading.headOfficeMilliseconds.addingReportingOverflow(elapsed)
        return later ? nil : time
    }

    /// Whether head office's time now comes from a reading of this boot (entries are then dated exactly).
    func hasReading(bootId: String?, sinceBootMilliseconds: Int64) -> Bool {
        guard let reading, reading.bootId == bootId else { return false }
        return sinceBootMilliseconds >= reading.sinceBootMilliseconds
    }

    /// A bound on one boot's length for the arithmetic above (a century).
    static let longestBootMilliseconds: Int64 = 100 * 366 * 86_400_000

    /// `"BOOT_ID HEAD_OFFICE_MS SINCE_BOOT_MS"` as kept in the ledger's meta.
    var storedReading: String? {
        reading.map { "\($0.bootId) \($0.headOfficeMilliseconds) \($0.sinceBootMilliseconds)" }
    }

    static func reading(
        _ text: String?
    ) -> (bootId: String, headOfficeMilliseconds: Int64, sinceBootMilliseconds: Int64)? {
        guard let parts = text?.split(separator: " "), parts.count == 3, let time = Int64(parts[1]),
            let sinceBoot = Int64(parts[2]), sinceBoot >= 0
        else { return nil }
        return (String(parts[0]), time, sinceBoot)
    }

    /// This boot of the machine (nil where the kernel does not say).
    static let bootId: String? = {
        guard let text = try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8) else {
            return nil
        }
        let id = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return id.isEmpty || id.contains(" ") ? nil : id
    }()

    /// Milliseconds since boot, suspended time included (CLOCK_BOOTTIME: the wall clock's changes do not touch it).
    static func sinceBootMilliseconds() -> Int64 {
        var time = timespec()
        #if canImport(Glibc)
            clock_gettime(clockid_t(CLOCK_BOOTTIME), &time)
        #endif
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }
}

/// The time this till writes on its entries: head office's clock as last learnt (a `stale` refusal, or the time on
/// every sync's answer). Found by attack: a till 20 minutes behind dated a sale on the day before, where the per-day
/// cap of the member's real day did not reach it (+300 points, nothing reconciled). Operations given a time (`at:`)
/// use it as given.
extension LedgerDatabase {
    /// The largest difference followed (as the sync client's): beyond it the clock is a configuration error.
    public static let maximumHeadOfficeClockOffsetMilliseconds: Int64 = 7 * 86_400_000

    /// Head office's time minus this till's wall clock, now.
    public var headOfficeClockOffsetMilliseconds: Int64 {
        let wall = Date().millisecondsSince1970
        return headOfficeNowMilliseconds(wall: wall) - wall
    }

    /// Now, by head office's clock as last learnt.
    public func headOfficeNow() -> Date {
        Date(millisecondsSince1970: headOfficeNowMilliseconds(wall: Date().millisecondsSince1970))
    }

    private func headOfficeNowMilliseconds(wall: Int64) -> Int64 {
        headOfficeClock.withLock {
            $0.now(
                wallClockMilliseconds: wall, bootId: HeadOfficeClock.bootId,
                sinceBootMilliseconds: HeadOfficeClock.sinceBootMilliseconds())
        }
    }

    /// Whether entries written now are dated by a reading of head office's clock taken in this boot.
    public func isDatedByAReadingOfThisBoot() -> Bool {
        headOfficeClock.withLock {
            $0.hasReading(
                bootId: HeadOfficeClock.bootId, sinceBootMilliseconds: HeadOfficeClock.sinceBootMilliseconds())
        }
    }

    /// Keeps how this till dated entry `seq` when the way of dating changes (found by attack: a till two days behind
    /// sold before its first sync, and head office counted the sale two days back, out of the day cap). An entry
    /// dated by the till's own clock (no reading of head office's in this boot; within a second of that clock, so
    /// not a time a caller gave) keeps its time since boot through its epoch; a reading later in the same boot then
    /// dates it exactly. One read per entry; a write only when the way changes.
    func rememberHowEntryWasDated(_ seq: Int64, datedAt millis: Int64, _ db: Database) throws {
        // One reading of the clocks for the whole decision (this runs with every entry).
        let sinceBoot = HeadOfficeClock.sinceBootMilliseconds()
        let bootId = HeadOfficeClock.bootId
        let clock = headOfficeClock.withLock { $0 }
        let dated = clock.now(
            wallClockMilliseconds: Date().millisecondsSince1970, bootId: bootId, sinceBootMilliseconds: sinceBoot)
        let ownClock =
            bootId != nil && !clock.hasReading(bootId: bootId, sinceBootMilliseconds: sinceBoot)
            && (millis - dated).magnitude <= 1_000
        let epoch: (bootId: String?, delta: Int64) = ownClock ? (bootId, millis - sinceBoot) : (nil, 0)
        let last = try db.cachedStatement(
            sql: "SELECT boot_id, dated_minus_since_boot_ms FROM entry_clock_epochs ORDER BY from_seq DESC LIMIT 1"
        ).firstRow([]) { row in (bootId: row.optionalText(0), delta: row.int64(1)) }
        // No row yet: every entry so far was dated exactly (or by a caller).
        let current = last ?? (bootId: nil, delta: 0)
        let same =
            current.bootId == epoch.bootId && (epoch.bootId == nil || (current.delta - epoch.delta).magnitude <= 1_000)
        guard !same else { return }
        try db.cachedStatement(
            sql:
                "INSERT OR REPLACE INTO entry_clock_epochs (from_seq, boot_id, dated_minus_since_boot_ms) VALUES (?, ?, ?)"
        ).execute(arguments: [seq, epoch.bootId, epoch.delta])
    }

    /// How far head office's clock, as learnt since, puts each of `seqs` from the time it was dated by: only entries
    /// dated by this till's own clock in the boot of the reading, and only a minute or more (a clock's usual drift
    /// is no correction).
    func clockCorrections(seqs: ClosedRange<Int64>, _ db: Database) throws -> [Int64: Int64] {
        let clock = headOfficeClock.withLock { $0 }
        guard let bootId = HeadOfficeClock.bootId, clock.reading?.bootId == bootId else { return [:] }
        let epochs = try Row.fetchAll(
            db,
            sql: """
                SELECT from_seq, boot_id, dated_minus_since_boot_ms FROM entry_clock_epochs
                WHERE from_seq <= ? AND from_seq >= IFNULL((SELECT MAX(from_seq) FROM entry_clock_epochs WHERE from_seq <= ?), 0)
                ORDER BY from_seq
                """,
            arguments: [seqs.upperBound, seqs.lowerBound]
        ).map { (from: $0[0] as Int64, bootId: $0[1] as String?, delta: $0[2] as Int64) }
        guard epochs.contains(where: { $0.bootId == bootId }) else { return [:] }
        var corrections: [Int64: Int64] = [:]
        for row in try Row.fetchAll(
            db, sql: "SELECT seq, created_at FROM entries WHERE seq BETWEEN ? AND ?",
            arguments: [seqs.lowerBound, seqs.upperBound])
        {
            let (seq, dated): (Int64, Int64) = (row[0], row[1])
            guard let epoch = epochs.last(where: { $0.from <= seq }), epoch.bootId == bootId else { continue }
            let (sinceBoot, overflow) = dated.subtractingReportingOverflow(epoch.delta)
            guard !overflow, let time = clock.headOfficeTime(atSinceBootMilliseconds: sinceBoot, bootId: bootId) else {
                continue
            }
            let (correction, wrapped) = time.subtractingReportingOverflow(dated)
            guard !wrapped, correction.magnitude >= 60_000,
                correction.magnitude <= UInt64(Self.maximumHeadOfficeClockOffsetMilliseconds)
            else { continue }
            corrections[seq] = correction
        }
        return corrections
    }

    /// Keeps head office's clock, read now as `milliseconds` ahead of this till's wall clock (a later process
    /// starts from it).
    public func recordHeadOfficeClockOffset(milliseconds: Int64) throws {
        guard milliseconds.magnitude <= UInt64(Self.maximumHeadOfficeClockOffsetMilliseconds) else { return }
        let wall = Date().millisecondsSince1970
        var clock = HeadOfficeClock(offsetMilliseconds: milliseconds, reading: nil)
        if let bootId = HeadOfficeClock.bootId {
            clock.reading = (bootId, wall + milliseconds, HeadOfficeClock.sinceBootMilliseconds())
        }
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO store_meta (key, value) VALUES ('hq_clock_offset_ms', ?), ('hq_clock_reading', ?)
                    ON CONFLICT (key) DO UPDATE SET value = excluded.value
                    """,
                arguments: [String(milliseconds), clock.storedReading ?? ""])
        }
        headOfficeClock.withLock { $0 = clock }
    }

    /// The clock kept in the ledger's meta (offset 0 when none or out of bounds).
    static func storedHeadOfficeClock(_ db: Database) throws -> HeadOfficeClock {
        let stored = try String.fetchOne(db, sql: "SELECT value FROM store_meta WHERE key = 'hq_clock_offset_ms'")
        guard let offset = stored.flatMap({ Int64($0) }),
            offset.magnitude <= UInt64(maximumHeadOfficeClockOffsetMilliseconds)
        else { return HeadOfficeClock(offsetMilliseconds: 0, reading: nil) }
        let reading = try String.fetchOne(db, sql: "SELECT value FROM store_meta WHERE key = 'hq_clock_reading'")
        return HeadOfficeClock(offsetMilliseconds: offset, reading: HeadOfficeClock.reading(reading))
    }
}
