import Archive
import Ledger

/// A failure the CLI reports on standard error, with its exit code.
///
/// Exit codes: 0 success; 1 the operation was refused or found a problem (rejected append, failed verification);
/// 2 usage error; 3 storage or I/O error.
struct CLIError: Error, CustomStringConvertible {
    let message: String
    let exitCode: Int32

    static func usage(_ message: String) -> CLIError { CLIError(message: message, exitCode: 2) }
    static func failed(_ message: String) -> CLIError { CLIError(message: message, exitCode: 1) }
    static func io(_ message: String) -> CLIError { CLIError(message: message, exitCode: 3) }

    var description: String { message }

    /// Maps any error thrown by the layers below to a message and an exit code.
    static func from(_ error: any Error) -> CLIError {
        switch error {
        case let error as CLIError: return error
        case let error as LedgerError:
            let code: Int32 = error.kind == .storage ? 3 : 1
            return CLIError(message: error.description, exitCode: code)
        // An archive file that could not be read or written says nothing about the archive: an I/O error, or a
        // usage error for a destination refused before anything was written (a directory, the ledger's own file).
        case let error as ArchiveFileError: return error.kind == .destination ? .usage(error.message) : .io(error.message)
        // A ledger that does not verify refused as an archive's source: a failed check.
        case let error as ArchiveSourceError: return .failed("\(error)")
        default: return CLIError(message: "\(error)", exitCode: 3)
        }
    }
}
