import Foundation
import Ledger
import LedgerServer
import Projections

/// Opening the ledger the way every command does.
enum LedgerAccess {
    /// Opens an existing ledger (or creates one when `create` is set). Commands that only read refuse to invent an
    /// empty ledger at a mistyped path.
    static func open(_ context: CommandContext, create: Bool = false,
                     clock: @escaping @Sendable () -> Timestamp = Timestamp.now) throws -> Ledger {
        if !create { try requireExisting(context) }
        // A rebuild on open can take a while on a large ledger (about 15 s per million events): say why, always,
        // and show progress on a terminal.
        var announced = false
        return try Ledger(path: context.databasePath, hook: hook, clock: clock) { done, total in
            if !announced {
                announced = true
                Terminal.error("\(context.databasePath): its projections were written by another version of planledger; "
                               + "rebuilding them from the \(total) events of the log")
            }
            Terminal.progress("rebuilding", done, total)
        }
    }

    /// Refuses a `--db` path with no file behind it, naming the ways to create one.
    static func requireExisting(_ context: CommandContext) throws {
        guard FileManager.default.fileExists(atPath: context.databasePath) else {
            throw CLIError.io("no ledger at \(context.databasePath) (use --db PATH, or create one with 'planledger demo' or 'planledger append')")
        }
    }

    /// The domain and projections every ledger the CLI opens runs on each append.
    static var hook: any LedgerHook { PlanLedgerHook.standard }

    /// The actor the CLI records: `--actor` / `--role` / `--organisation`, defaulting to the local user.
    static func actor(_ arguments: CommandLineArguments) -> Actor {
        let user = ProcessInfo.processInfo.environment["USER"] ?? "local"
        return Actor(id: arguments.value("actor") ?? user, role: arguments.value("role") ?? "cli",
                     organisation: arguments.value("organisation").map(organisationStream))
    }

    /// `organisation/QWO` for `QWO` or `organisation/QWO`.
    static func organisationStream(_ text: String) -> String {
        text.hasPrefix("organisation/") ? text : "organisation/" + text
    }

    /// `--as-of` / `--valid-at` as a time slice.
    static func slice(_ arguments: CommandLineArguments) throws(CLIError) -> TimeSlice {
        TimeSlice(asOf: try timestamp(arguments, "as-of"), validAt: try timestamp(arguments, "valid-at"))
    }

    static func timestamp(_ arguments: CommandLineArguments, _ name: String) throws(CLIError) -> Timestamp? {
        guard let text = arguments.value(name) else { return nil }
        guard let time = Timestamp(parsing: text) else {
            throw CLIError.usage("--\(name) must be a date (2022-07-01) or an RFC 3339 date-time, got '\(text)'")
        }
        return time
    }

    static func streamName(_ text: String) throws(CLIError) -> StreamName {
        guard let stream = StreamName(text) else {
            throw CLIError.usage("'\(text)' is not a stream name (kind/key, e.g. goal/G-12)")
        }
        return stream
    }
}
