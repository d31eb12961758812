public import Foundation
import GRDB
public import LoyaltyCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The store's durable ledger on disk: SQLite in WAL mode with `synchronous=FULL`, so an award
/// that returned survives `kill -9` and power loss. The file and its WAL are mode 0600.
public final class LedgerDatabase: Sendable {
    let queue: DatabaseQueue
    /// The database file's path.
    public let path: String
    /// The store this ledger is bound to, or nil while it is unassigned (a till used before it was
    /// configured). Bound once (``bindStore(_:)``); entries made before are pushed under the bound id.
    public var assignedStoreId: String? { storeIdentity.withLock { $0 } }
    /// The bound store id, or an empty string while unassigned.
    public var storeId: String { assignedStoreId ?? "" }
    /// This ledger file's own identity: head office records which ledger writes each store.
    public let ledgerId: String
    private let storeIdentity: Mutex<String?>
    /// The decoded program of the newest installed version: decoding JSON on every award would
    /// cost more than the award's own SQL.
    /// Every installed program version, oldest first; reloaded when a newer version is installed.
    private let programCache = Mutex<[LoyaltyProgram]?>(nil)
    /// Head office's clock as this till last learnt it (``headOfficeNow()``), loaded at open.
    let headOfficeClock: Mutex<HeadOfficeClock>

    /// Options for a ledger created on first use.
    public struct CreationOptions: Sendable {
        /// nil: the ledger stays unassigned until ``bindStore(_:)``.
        public var storeId: String?
        public var program: LoyaltyProgram

        public init(storeId: String? = nil, program: LoyaltyProgram = .standard()) {
            self.storeId = storeId
            self.program = program
        }
    }

    /// Opens the ledger at `path`, creating it (and its folder, mode 0700) on first use.
    /// - Throws: ``StorageError`` when the file cannot be created, opened or migrated.
    public init(path: String, creating options: CreationOptions = CreationOptions(), now: Date = Date()) throws {
        self.path = path
        do {
            try Self.prepareFile(at: path)
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            configuration.label = "ledger"
            configuration.prepareDatabase { db in
                // WAL lets the manager's reads run beside the till's writes. Set here rather than via
                // GRDB's `.wal` option, which lowers synchronous to NORMAL.
                guard try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL") == "wal" else {
                    throw StorageError(
                        code: "cannot_open", message: "ledger \(path): SQLite could not switch to WAL mode")
                }
                // FULL: every commit fsyncs the WAL, so an acknowledged award survives power loss.
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            // A ledger a newer agent upgraded: this one would not keep what the newer one keeps (a downgrade).
            let unknown = try queue.read { try LedgerSchema.migrator.appliedIdentifiers($0) }
                .subtracting(LedgerSchema.migrator.migrations)
            if let newest = unknown.sorted().last {
                throw StorageError(
                    code: "newer_ledger",
                    message: "ledger \(path) was upgraded by a newer loyalty-agent (migration \(newest)): install that "
                        + "version or newer; this one does not know what it keeps")
            }
            try LedgerSchema.migrator.migrate(queue)
            let (storeId, ledgerId, offset) = try queue.write { db in
                let (storeId, ledgerId) = try Self.initialiseMeta(db, options: options, now: now)
                return (storeId, ledgerId, try Self.storedHeadOfficeClock(db))
            }
            self.headOfficeClock = Mutex(offset)
            self.storeIdentity = Mutex(storeId)
            self.ledgerId = ledgerId
            self.queue = queue
        } catch {
            throw StorageError.wrapping(error, path: path)
        }
    }

    /// Sets `synchronous=OFF` on this connection: commits no longer reach the disk before they return.
    /// Only for showing that the power-loss test detects exactly that; never used by a command.
    public func lowerDurabilityForCrashTesting() throws {
        try queue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = OFF") }
    }

    /// The connection's `PRAGMA synchronous` (2 = FULL).
    public func synchronousMode() throws -> Int {
        try queue.read { try Int.fetchOne($0, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// Creates the folder (0700) and an empty file (0600) before SQLite does, so the WAL and
    /// shared-memory files, which SQLite creates with the database file's mode, are private too.
    private static func prepareFile(at path: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) {
            do {
                try FileManager.default.createDirectory(
                    atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw StorageError(
                    code: "cannot_open",
                    message:
                        "ledger \(path): cannot create the folder \(folder); create it and give the agent's user write access"
                )
            }
        } else if !isDirectory.boolValue {
            throw StorageError(code: "cannot_open", message: "ledger \(path): \(folder) is not a folder")
        }
        let descriptor = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
        if descriptor >= 0 {
            // Tighten a file created earlier with looser permissions; failure (not the owner) is harmless.
            _ = fchmod(descriptor, 0o600)
            close(descriptor)
        } else if errno == EISDIR {
            throw StorageError(code: "cannot_open", message: "ledger \(path) is a folder; give the path of a file")
        }
        // Other failures (e.g. read-only file) surface from SQLite with its own message.
    }

    /// Store ids written by earlier versions when none was configured: they mean "unassigned".
    static let unassignedStoreIds: Set<String> = ["", "local"]
    /// Names that cannot be a store id (they mean "unassigned").
    public static var unassignedStoreIdNames: Set<String> { unassignedStoreIds }

    private static func initialiseMeta(_ db: Database, options: CreationOptions, now: Date) throws -> (String?, String)
    {
        if try String.fetchOne(db, sql: "SELECT value FROM store_meta WHERE key = 'store_id'") == nil {
            try db.execute(
                sql:
                    "INSERT INTO store_meta (key, value) VALUES ('store_id', ?), ('hq_acknowledged_seq', '0'), ('created_at', ?)",
                arguments: [options.storeId ?? "", now.millisecondsSince1970])
            let document = String(decoding: try JSONEncoder().encode(options.program), as: UTF8.self)
            try db.execute(
                sql: "INSERT INTO program_versions (version, document, installed_at) VALUES (?, ?, ?)",
                arguments: [options.program.version, document, now.millisecondsSince1970])
        }
        // Ledgers from before ledger ids get theirs on first open.
        try db.execute(
            sql: "INSERT INTO store_meta (key, value) VALUES ('ledger_id', ?) ON CONFLICT DO NOTHING",
            arguments: [MachineToken.uuid()])
        let stored = try String.fetchOne(db, sql: "SELECT value FROM store_meta WHERE key = 'store_id'") ?? ""
        let ledgerId = try String.fetchOne(db, sql: "SELECT value FROM store_meta WHERE key = 'ledger_id'")!
        return (unassignedStoreIds.contains(stored) ? nil : stored, ledgerId)
    }

    /// Binds an unassigned ledger to `storeId` (once). The same id again is a no-op; a different id is
    /// refused with how to recover.
    /// - Returns: true when this call bound the ledger.
    @discardableResult
    public func bindStore(_ storeId: String) throws -> Bool {
        precondition(!Self.unassignedStoreIds.contains(storeId), "a store id to bind")
        return try write { db in
            let stored = try String.fetchOne(db, sql: "SELECT value FROM store_meta WHERE key = 'store_id'") ?? ""
            if stored == storeId { return false }
            guard Self.unassignedStoreIds.contains(stored) else {
                throw LoyaltyError.badInput(
                    "store_mismatch",
                    "the ledger at \(path) belongs to store \(stored), not \(storeId); a ledger is bound to one store for good. "
                        + "Use that store's ledger (--db), start a new ledger file for \(storeId), or register the box anew "
                        + "with head office (`loyalty-hq stores add`)")
            }
            try db.execute(sql: "UPDATE store_meta SET value = ? WHERE key = 'store_id'", arguments: [storeId])
            storeIdentity.withLock { $0 = storeId }
            return true
        }
    }

    /// Runs `body` in one IMMEDIATE transaction: everything in it commits together (durably) or
    /// not at all. Storage errors are translated into ``StorageError``.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try queue.writeWithoutTransaction { db in
                // Cached BEGIN/COMMIT statements: the award path is one transaction per sale, and preparing
                // the two statements anew each time was a measurable share of its cost.
                try db.cachedStatement(sql: "BEGIN IMMEDIATE").execute()
                do {
                    let result = try body(db)
                    try db.cachedStatement(sql: "COMMIT").execute()
                    return result
                } catch {
                    if db.isInsideTransaction { try? db.execute(sql: "ROLLBACK") }
                    throw error
                }
            }
        } catch let error as LoyaltyError {
            throw error
        } catch {
            throw StorageError.wrapping(error, path: path)
        }
    }

    /// Runs `body` in a read transaction.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try queue.read(body)
        } catch let error as LoyaltyError {
            throw error
        } catch {
            throw StorageError.wrapping(error, path: path)
        }
    }

    /// The program version currently in force (the highest installed).
    /// The program in force now: the highest installed version whose valid_from has come (head
    /// office publishes versions ahead of time; a till offline keeps the last one it has).
    /// `now` defaults to head office's clock as this till last learnt it (found by attack: a till two days fast priced
    /// sales by a version published for tomorrow, and head office kept it).
    func currentProgram(_ db: Database, at now: Date? = nil) throws -> LoyaltyProgram {
        let now = now ?? headOfficeNow()
        let newest =
            try db.cachedStatement(sql: "SELECT MAX(version) FROM program_versions").firstRow([]) { row in
                row.optionalInt64(0).map(Int.init)
            } ?? nil
        var programs = programCache.withLock { $0 }
        if programs?.last?.version != newest {
            programs = try String.fetchAll(db, sql: "SELECT document FROM program_versions ORDER BY version").map {
                try JSONDecoder().decode(LoyaltyProgram.self, from: Data($0.utf8))
            }
            let loaded = programs
            programCache.withLock { $0 = loaded }
        }
        guard let programs, let first = programs.first else {
            throw StorageError(code: "corrupt", message: "ledger \(path) has no program installed")
        }
        let millis = now.millisecondsSince1970
        return programs.last { ($0.validFromMilliseconds ?? 0) <= millis } ?? first
    }

    /// The installed program `version` (an entry's `rule_version`), nil when this till never had it.
    func installedProgram(version: Int, _ db: Database) throws -> LoyaltyProgram? {
        _ = try currentProgram(db)
        return programCache.withLock { $0 }?.first { $0.version == version }
    }
}

extension Date {
    var millisecondsSince1970: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }
    init(millisecondsSince1970 value: Int64) { self.init(timeIntervalSince1970: Double(value) / 1000) }
}

extension LedgerDatabase {
    /// The program version in force: its currency, earning and redemption rules.
    public func program() throws -> LoyaltyProgram {
        try read { db in try currentProgram(db) }
    }

    /// The currency amounts are parsed in: the cached program's, without a transaction (the local
    /// API asks on every request). A program version with another currency is refused by the write
    /// itself, so a stale answer can never record a wrong amount.
    public func currency() throws -> Currency {
        if let cached = programCache.withLock({ $0?.last?.currency }) { return cached }
        return try program().currency
    }
}
