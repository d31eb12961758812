import GRDB
import GRDBSQLite

/// One result row read by column position straight from SQLite, valid only inside
/// ``GRDB/Statement/firstRow(_:_:)``'s closure.
struct FirstRow {
    fileprivate let statement: SQLiteStatement

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_NULL }
    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }
    func optionalInt64(_ column: Int32) -> Int64? { isNull(column) ? nil : int64(column) }
    func bool(_ column: Int32) -> Bool { int64(column) != 0 }
    func text(_ column: Int32) -> String { optionalText(column) ?? "" }
    func optionalText(_ column: Int32) -> String? {
        guard let bytes = sqlite3_column_text(statement, column) else { return nil }
        let count = Int(sqlite3_column_bytes(statement, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }
}

/// A value bound to a statement parameter by ``GRDB/Statement/firstRow(_:_:)``: the few types the
/// award path binds, without GRDB's boxed `StatementArguments`.
enum SQLiteArgument {
    case integer(Int64)
    case text(String)
    case null

    init(_ value: Int64?) { self = value.map { .integer($0) } ?? .null }
    init(_ value: Int?) { self = value.map { .integer(Int64($0)) } ?? .null }
    init(_ value: String?) { self = value.map { .text($0) } ?? .null }
}

/// SQLite copies the bound text (the C API's `SQLITE_TRANSIENT`, a macro Swift does not import).
private let copyBoundText = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

extension Statement {
    /// Runs the statement and reads its first row, if any, by column position through SQLite's C API.
    ///
    /// The award path runs about ten small statements per sale. GRDB's `Row.fetchOne` builds a
    /// column-name dictionary for every cursor it opens and `StatementArguments` boxes every value;
    /// on the award path that cost more than the queries themselves (see the ledger benchmark in the
    /// README). For statements of the ledger's own transactions only (the ledger registers no
    /// transaction observers, which this path would bypass). The statement is reset before
    /// returning, so it stays in GRDB's cache for the next call.
    func firstRow<T>(_ arguments: [SQLiteArgument], _ read: (FirstRow) throws -> T) throws -> T? {
        precondition(
            Int32(arguments.count) == sqlite3_bind_parameter_count(sqliteStatement),
            "one argument per statement parameter")
        sqlite3_reset(sqliteStatement)
        defer { sqlite3_reset(sqliteStatement) }
        for (offset, argument) in arguments.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch argument {
            case .integer(let value): code = sqlite3_bind_int64(sqliteStatement, index, value)
            case .null: code = sqlite3_bind_null(sqliteStatement, index)
            case .text(let value):
                code = value.withCString {
                    sqlite3_bind_text(sqliteStatement, index, $0, Int32(value.utf8.count), copyBoundText)
                }
            }
            guard code == SQLITE_OK else { throw error(code) }
        }
        switch sqlite3_step(sqliteStatement) {
        case SQLITE_ROW:
            return try read(FirstRow(statement: sqliteStatement))
        case SQLITE_DONE:
            return nil
        case let code:
            throw error(code)
        }
    }

    private func error(_ code: Int32) -> DatabaseError {
        DatabaseError(
            resultCode: ResultCode(rawValue: code),
            message: sqlite3_db_handle(sqliteStatement).flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) },
            sql: sql)
    }
}
