#if canImport(Glibc)
import Glibc
#endif

/// What was at a ledger's path before a command that may create the ledger there (a first append, an import), so
/// that a refusal leaves the path as it found it. One mechanism for every command that makes ledgers.
public enum LedgerFileState: Sendable, Equatable {
    /// Nothing: the ledger would be a new file.
    case missing
    /// An empty file (from `touch` or `mktemp`): a ledger may be made in it.
    case empty
    /// A file with something in it: a ledger, or anything else, which only its own checks may accept.
    case holdsData

    public init(path: String) {
        var info = stat()
        if stat(path, &info) != 0 {
            self = .missing
        } else {
            self = info.st_size == 0 ? .empty : .holdsData
        }
    }

    /// Whether a new ledger may be made at the path.
    public var admitsNewLedger: Bool { self != .holdsData }

    /// After a refused first write, puts `path` back as this state found it: a file made where there was none is
    /// removed, a file that was empty is emptied again (opening it wrote a database header), with the `-wal` and
    /// `-shm` SQLite left beside either. A file that held data is left alone. Call it once the ledger is closed.
    public func restore(_ path: String) {
        guard admitsNewLedger else { return }
        for suffix in ["-wal", "-shm"] { unlink(path + suffix) }
        if self == .missing {
            unlink(path)
        } else {
            _ = truncate(path, 0)
        }
    }
}
