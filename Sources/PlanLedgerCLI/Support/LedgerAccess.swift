import Foundation
import Ledger
import LedgerServer
import Projections

/// Opening the ledger the way every command does.
enum LedgerAccess {
    /// What a command does with the ledger, which decides how it is opened.
    enum Use {
        /// Reads only the log and the Merkle tree (verify, checkpoint, proofs, raw events): opened read-only, so
        /// nothing is written and a write-protected copy can be checked.
        case readingLog
        /// Reads the projections (the views, archives, the token list): an existing ledger, opened for writing when
        /// the file can be written, so that projections from an older version are rebuilt first (and the
        /// write-ahead log folded on close); read-only otherwise, which needs current projections.
        case readingViews
        /// Writes to an existing ledger (token revoke).
        case changing
        /// Appends, creating the ledger when no file (or an empty one) is there (append, demo, token create, serve).
        case appending
    }

    /// Opens the ledger for `use`. Every use but `.appending` refuses to invent an empty ledger at a mistyped path,
    /// and none writes the ledger's tables into a file that holds something else.
    static func open(_ context: CommandContext, for use: Use = .readingViews,
                     clock: @escaping @Sendable () -> Timestamp = Timestamp.now) throws -> Ledger {
        let path = context.databasePath
        let mode: Ledger.Mode
        switch use {
        case .readingLog:
            try requireExisting(context)
            mode = .readOnly(needsProjections: false)
        case .readingViews:
            try requireExisting(context)
            mode = isWritable(path) ? .existing : .readOnly(needsProjections: true)
        case .changing:
            try requireExisting(context)
            try requireWritable(context)
            mode = .existing
        case .appending:
            try requireWritable(context)
            mode = LedgerFileState(path: path).admitsNewLedger ? .create : .existing
        }
        // A rebuild on open can take a while on a large ledger (about 15 s per million events): say why, always,
        // and show progress on a terminal.
        var announced = false
        return try Ledger(path: path, hook: hook, clock: clock, mode: mode) { done, total in
            if !announced {
                announced = true
                Terminal.error("\(path): its projections were written by an older version of planledger; "
                               + "rebuilding them from the \(total) events of the log")
            }
            Terminal.progress("rebuilding", done, total)
        }
    }

    /// Opens the ledger `.appending` and runs `body` on it, closing it after. When the ledger was made for this
    /// and `body` fails with nothing stored (a rejected append), the file is put back as it was (removed, or
    /// emptied again), so that a refused first append to a mistyped path leaves no empty ledger behind.
    static func appending<T>(_ context: CommandContext, clock: @escaping @Sendable () -> Timestamp = Timestamp.now,
                             _ body: (Ledger) throws -> T) throws -> T {
        let before = LedgerFileState(path: context.databasePath)
        let ledger = try open(context, for: .appending, clock: clock)
        do {
            defer { ledger.close() }
            return try body(ledger)
        } catch {
            if ledger.size == 0 { before.restore(context.databasePath) }
            throw error
        }
    }

    /// Refuses a `--db` path with no file behind it, naming the ways to create one.
    static func requireExisting(_ context: CommandContext) throws {
        guard FileManager.default.fileExists(atPath: context.databasePath) else {
            throw CLIError.io("no ledger at \(context.databasePath) (use --db PATH, or create one with 'planledger demo' or 'planledger append')")
        }
    }

    /// Refuses a ledger this process may not write, or a new one in a directory it may not write, before SQLite
    /// finds out as it sets up the write-ahead log ("SQLite error 1544: attempt to write a readonly database (in:
    /// PRAGMA journal_mode = WAL)"). A storage error (exit 3): nothing is wrong with the command line.
    static func requireWritable(_ context: CommandContext) throws(CLIError) {
        let path = context.databasePath
        if FileManager.default.fileExists(atPath: path) {
            guard isWritable(path) else {
                throw CLIError.io("the ledger at \(path) cannot be written (a read-only file or directory)")
            }
        } else {
            let parent = (path as NSString).deletingLastPathComponent
            let directory = parent.isEmpty ? "." : parent
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw CLIError.io("no ledger can be created at \(path): there is no directory \(directory)")
            }
            guard FileManager.default.isWritableFile(atPath: directory) else {
                throw CLIError.io("no ledger can be created at \(path): its directory cannot be written")
            }
        }
    }

    /// Whether this process may write the file and create the write-ahead log beside it (as `access(2)` says: root
    /// may write a file whose mode says read-only).
    static func isWritable(_ path: String) -> Bool {
        let directory = (path as NSString).deletingLastPathComponent
        return FileManager.default.isWritableFile(atPath: path)
            && FileManager.default.isWritableFile(atPath: directory.isEmpty ? "." : directory)
    }


    /// The domain and projections every ledger the CLI opens runs on each append.
    static var hook: any LedgerHook { PlanLedgerHook.standard }

    /// The actor the CLI names: `--actor` / `--role` / `--organisation`, defaulting to the local user, unchecked;
    /// only `recordingActor(_:)` gives it out, after its checks.
    private static func actor(_ arguments: CommandLineArguments) -> Actor {
        Actor(id: arguments.value("actor") ?? localUser, role: arguments.value("role") ?? "cli",
              organisation: arguments.value("organisation").map(organisationStream))
    }

    /// The actor `append` records, as `actor(_:)` gives it.
    /// - Throws: a usage error for a flag no event may record (an empty `--actor` or `--role`, an `--organisation`
    ///   that names no organisation): events are immutable, so it is refused before the ledger is opened. The
    ///   ledger refuses such an actor too (`invalid_actor`), but as a refused append (exit 1), not a usage error.
    static func recordingActor(_ arguments: CommandLineArguments) throws(CLIError) -> Actor {
        if let text = arguments.value("organisation") { _ = try organisation(text, "--organisation") }
        let actor = actor(arguments)
        if let (field, message) = actor.problem { throw CLIError.usage("--\(field == "id" ? "actor" : field) \(message)") }
        return actor
    }

    /// `--actor`, or the local user, as the id of an actor the CLI records.
    /// - Throws: a usage error for an empty `--actor`.
    static func actorId(_ arguments: CommandLineArguments) throws(CLIError) -> String {
        let id = arguments.value("actor") ?? localUser
        guard !Actor.isBlank(id) else { throw CLIError.usage("--actor must not be empty") }
        return id
    }

    private static var localUser: String { ProcessInfo.processInfo.environment["USER"] ?? "local" }

    /// `organisation/QWO` for `QWO` or `organisation/QWO`.
    static func organisationStream(_ text: String) -> String {
        text.hasPrefix("organisation/") ? text : "organisation/" + text
    }

    /// The organisation `text` names (a key such as `QWO`, or `organisation/QWO`).
    /// - Parameter what: how the command line gave it, for the message (`--organisation`, `ORGANISATION`).
    /// - Throws: a usage error for anything else (`goal/AMB-1` is a stream of another kind, not a key).
    static func organisation(_ text: String, _ what: String) throws(CLIError) -> StreamName {
        guard let stream = StreamName(organisationStream(text)), stream.kind == Actor.organisationKind else {
            throw CLIError.usage(
                "\(what) must be an organisation key (QWO) or stream name (organisation/QWO), got '\(text)'")
        }
        return stream
    }

    /// The optional `--organisation` of a view, checked by `organisation(_:_:)`.
    static func organisationOption(_ arguments: CommandLineArguments) throws(CLIError) -> StreamName? {
        guard let text = arguments.value("organisation") else { return nil }
        return try organisation(text, "--organisation")
    }

    /// `--as-of` / `--valid-at` as a time slice.
    static func slice(_ arguments: CommandLineArguments) throws(CLIError) -> TimeSlice {
        TimeSlice(asOf: try timestamp(arguments, "as-of"), validAt: try timestamp(arguments, "valid-at"))
    }

    /// `--checkpoint SIZE:ROOTHEX`: a published checkpoint the ledger or archive must extend.
    static func checkpoint(_ arguments: CommandLineArguments) throws(CLIError) -> (size: Int, rootHash: Digest)? {
        guard let text = arguments.value("checkpoint") else { return nil }
        let parts = text.split(separator: ":")
        guard parts.count == 2, let size = Int(parts[0]), let root = Digest(hex: String(parts[1])) else {
            throw CLIError.usage("--checkpoint must be SIZE:ROOTHEX, e.g. 42:5dc9da79...")
        }
        return (size, root)
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
