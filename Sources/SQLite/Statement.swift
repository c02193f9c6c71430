import CSQLite

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `SQLITE_TRANSIENT`: SQLite copies the bound bytes before `sqlite3_bind_*` returns.
let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A prepared statement owned by one `Database`. Reset and cleared before each use, so a cached statement never
/// carries bindings or a half-read result from its previous run.
public final class Statement {
    let handle: OpaquePointer
    public let sql: String
    unowned let database: Database
    /// The largest parameter index in `sql`.
    let parameterCount: Int

    init(database: Database, sql: String, persistent: Bool) throws(SQLiteError) {
        var handle: OpaquePointer?
        let flags = persistent ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
        let code = sqlite3_prepare_v3(database.handle, sql, -1, flags, &handle, nil)
        guard code == SQLITE_OK, let handle else {
            throw database.error(code: code, sql: sql)
        }
        self.handle = handle
        self.sql = sql
        self.database = database
        parameterCount = Int(sqlite3_bind_parameter_count(handle))
    }

    deinit { sqlite3_finalize(handle) }

    /// Clears any previous run and binds `values` to the positional parameters `?1`, `?2`, ...
    public func bind(_ values: [SQLiteValue]) throws(SQLiteError) {
        sqlite3_reset(handle)
        // Parameters left unbound must read as NULL, not as the previous run's values.
        if values.count < parameterCount { sqlite3_clear_bindings(handle) }
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value {
            case .null: code = sqlite3_bind_null(handle, index)
            case .integer(let v): code = sqlite3_bind_int64(handle, index, v)
            case .real(let v): code = sqlite3_bind_double(handle, index, v)
            case .text(var v):
                // With its byte count, not as a C string: text containing U+0000 is stored whole, not cut at the NUL
                // (the event hash covers the whole string). `withUTF8` also avoids copying a native string.
                code = v.withUTF8 { utf8 in
                    // An empty buffer may have no address, and a NULL pointer would bind NULL rather than "".
                    guard let start = utf8.baseAddress else { return sqlite3_bind_text(handle, index, "", 0, sqliteTransient) }
                    return start.withMemoryRebound(to: CChar.self, capacity: utf8.count) {
                        sqlite3_bind_text(handle, index, $0, Int32(utf8.count), sqliteTransient)
                    }
                }
            case .blob(let v):
                code = v.withUnsafeBytes { raw in
                    sqlite3_bind_blob(handle, index, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(raw.count),
                                      sqliteTransient)
                }
            }
            guard code == SQLITE_OK else { throw database.error(code: code, sql: sql) }
        }
    }

    /// Advances to the next row; `false` when done. On failure the statement is reset so it can be reused.
    public func step() throws(SQLiteError) -> Bool {
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let error = database.error(code: code, sql: sql)
            sqlite3_reset(handle)
            throw error
        }
    }

    /// Ends the current run early and releases its read snapshot.
    public func reset() { sqlite3_reset(handle) }

    public var columnCount: Int { Int(sqlite3_column_count(handle)) }

    public func isNull(_ column: Int) -> Bool { sqlite3_column_type(handle, Int32(column)) == SQLITE_NULL }

    public func int64(_ column: Int) -> Int64 { sqlite3_column_int64(handle, Int32(column)) }

    public func int(_ column: Int) -> Int { Int(sqlite3_column_int64(handle, Int32(column))) }

    public func double(_ column: Int) -> Double { sqlite3_column_double(handle, Int32(column)) }

    public func text(_ column: Int) -> String {
        guard let pointer = sqlite3_column_text(handle, Int32(column)) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, Int32(column)))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    public func optionalText(_ column: Int) -> String? { isNull(column) ? nil : text(column) }

    /// `text(column)`, or `previous` itself when the column holds the same bytes, which then becomes the column's
    /// text for the next call. A value repeated row after row (an event's type) is one shared string instead of an
    /// allocation, a copy and a free per row.
    public func text(_ column: Int, reusing previous: inout String) -> String {
        let bytes = unsafeBytes(column)
        let same = previous.utf8.withContiguousStorageIfAvailable { held in
            held.count == bytes.count && (held.isEmpty || memcmp(held.baseAddress!, bytes.baseAddress!, held.count) == 0)
        }
        if same != true { previous = String(decoding: bytes, as: UTF8.self) }
        return previous
    }

    public func optionalInt64(_ column: Int) -> Int64? { isNull(column) ? nil : int64(column) }

    public func blob(_ column: Int) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(handle, Int32(column)))
        guard count > 0, let pointer = sqlite3_column_blob(handle, Int32(column)) else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// The bytes of a text or blob column without copying them, as `withBytes` gives them. SQLite keeps them valid
    /// until the statement steps, resets or is finalized, or this column is read as another type (reading other
    /// columns leaves them alone): for a caller that uses one column several times while it looks at a row.
    public func unsafeBytes(_ column: Int) -> UnsafeRawBufferPointer {
        let count = Int(sqlite3_column_bytes(handle, Int32(column)))
        let pointer = sqlite3_column_blob(handle, Int32(column))
        return UnsafeRawBufferPointer(start: pointer, count: pointer == nil ? 0 : count)
    }

    /// Calls `body` with the bytes of a text or blob column without copying them; valid only inside `body`.
    public func withBytes<R>(_ column: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(unsafeBytes(column))
    }

    public func value(_ column: Int) -> SQLiteValue {
        switch sqlite3_column_type(handle, Int32(column)) {
        case SQLITE_INTEGER: return .integer(int64(column))
        case SQLITE_FLOAT: return .real(double(column))
        case SQLITE_TEXT: return .text(text(column))
        case SQLITE_BLOB: return .blob(blob(column))
        default: return .null
        }
    }
}
