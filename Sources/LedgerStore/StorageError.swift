import GRDB

/// The ledger database could not be read or written. Nothing was half-written: the transaction
/// that failed rolled back as a whole.
public struct StorageError: Error, Sendable, CustomStringConvertible {
    /// A stable machine-readable code, e.g. `disk_full`, `read_only`.
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// Turns any error from SQLite into a message that says what happened and what to do.
    static func wrapping(_ error: any Error, path: String) -> any Error {
        guard let error = error as? DatabaseError else { return error }
        let code: String
        let advice: String
        switch error.resultCode {
        case .SQLITE_FULL:
            code = "disk_full"
            advice = "the disk (or the process's file size limit) is full; free space, then retry. Nothing was recorded"
        case .SQLITE_READONLY, .SQLITE_PERM:
            code = "read_only"
            advice = "the database is read-only; check the file's owner and mode (the agent's user needs rw), then retry"
        case .SQLITE_CANTOPEN:
            code = "cannot_open"
            advice = "the database file cannot be opened; check that the folder exists and the agent's user may write it"
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            code = "corrupt"
            advice = "the file is not a healthy ledger database; stop the agent, keep a copy of the file and restore from backup"
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            code = "busy"
            advice = "another process holds the ledger lock; retry in a moment"
        case .SQLITE_IOERR:
            code = "io_error"
            advice = "the disk reported an I/O error (often a full disk or file size limit); check the disk, then retry. Nothing was recorded"
        default:
            code = "storage_failure"
            advice = "SQLite said: \(error.message ?? "\(error.resultCode)")"
        }
        return StorageError(code: code, message: "ledger \(path): \(advice)")
    }
}
