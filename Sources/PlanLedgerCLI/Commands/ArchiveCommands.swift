import Access
import Archive
import Foundation
import Ledger
import Projections

/// `planledger export`: writes a self-verifying archive.
enum ExportCommand: Command {
    static let name = "export"
    static let summary = "write a self-verifying archive (whole ledger, one organisation's slice, or as of a date)"
    static let help = """
        Usage: planledger export --out FILE [--organisation KEY] [--as-of TIME] [--actor ID] [--role ROLE] [--db PATH]

        Writes one file an archivist can keep and check offline with 'planledger verify-archive': a manifest (format
        version, source checkpoint, counts, event types and schema versions, created at and by whom), every event's
        full envelope, and a trailer with the SHA-256 of the file. See Schemas/archive.md.

        Options:
          --organisation KEY   only the streams the organisation owned at any time (including those handed to or
                               from it), its handovers and its own record; each event carries an inclusion proof
                               against the source checkpoint, and the manifest holds its corporate memory
          --as-of TIME         the ledger as recorded at TIME (a date or RFC 3339 date-time): its prefix; a
                               TIME before the first event is refused (nothing was recorded by then)
          --actor ID, --role ROLE
                               the exporting actor, the manifest's createdBy (default: $USER, cli); --organisation
                               names the slice, not an organisation the actor acts for
          --out FILE           where to write ('-' for standard output). FILE gets the archive only once it is
                               complete, replacing an existing file in one step (rename); a directory, another
                               kind of file, or the ledger's own files are refused. A write error (a full disk)
                               exits 3 and leaves FILE as it was.

        The ledger is verified first (as 'planledger verify' does): one that fails, anywhere, is refused with the
        first bad position, exit 1, and nothing is written.
        """
    static let valuedOptions: Set<String> = ["out", "organisation", "as-of", "actor", "role"]

    static func run(_ arguments: CommandLineArguments, context: CommandContext) throws -> Int32 {
        guard let out = arguments.value("out") else { throw CLIError.usage("--out FILE is required") }
        // The flags are checked before the ledger is opened: a malformed one is a usage error whatever the file.
        // --organisation names the slice, not an organisation the exporting actor acts for: createdBy takes only
        // --actor and --role, which the archive's manifest keeps, so neither may be empty.
        let organisation = try LedgerAccess.organisationOption(arguments)
        let actor = try LedgerAccess.recordingActor(arguments)
        var options = ArchiveExporter.Options(asOf: try LedgerAccess.timestamp(arguments, "as-of"),
                                              createdBy: Actor(id: actor.id, role: actor.role))
        let ledger = try LedgerAccess.open(context)
        defer { ledger.close() }
        // The slice before the source, as `GET /v1/archives` does: its streams and summary are then read from no
        // later a state than the events the source's checkpoint holds.
        if let stream = organisation {
            let slice = try PlanningReadModel(ledger: ledger).archiveSlice(of: stream, asOf: options.asOf)
            options.streams = slice.streams
            options.organisation = stream.description
            options.summary = slice.summary
        }
        let exporter = ArchiveExporter(ledger: ledger)
        // Before --out is touched: a ledger that does not verify is refused with nothing written.
        let source = try exporter.source(asOf: options.asOf)
        // Opened after the ledger, so its -wal and -shm exist and are recognised whatever name --out gives them.
        let destination = try ArchiveDestination(
            path: out, protecting: ["", "-wal", "-shm", "-journal"].map { context.databasePath + $0 })
        let manifest: ArchiveManifest
        do {
            manifest = try exporter.export(options, from: source, write: destination.write) { done, total in
                Terminal.progress("exporting", done, total)
            }
            try destination.commit()
        } catch {
            // Nothing of a failed export is left: the new file goes, and --out keeps what it had.
            destination.discard()
            // Once writing has begun, even the destination's check again before the rename is an I/O failure.
            if let error = error as? ArchiveFileError { throw CLIError.io(error.message) }
            throw error
        }
        if out != "-" {
            Terminal.error("wrote \(manifest.eventCount) events to \(out); source checkpoint \(manifest.source.size):\(manifest.source.rootHash.hex)")
        }
        return 0
    }
}

/// `planledger verify-archive`: checks an archive offline.
enum VerifyArchiveCommand: Command {
    static let name = "verify-archive"
    static let summary = "check an archive offline: every hash, proof, count and the source root"
    static let help = """
        Usage: planledger verify-archive FILE|- [--checkpoint SIZE:ROOTHEX]

        Needs nothing but the file ('-' reads standard input). Checks every event's leaf hash, every slice event's
        inclusion proof against the source checkpoint, that a full archive's events rebuild exactly the source root,
        the manifest's counts and the trailer's SHA-256 of the whole file. Prints a verdict; exits 1 naming the
        first bad line and position. A slice cannot show events left off the end of one of its streams: its
        verdict lists each stream's last version, to check against the source.

        Options:
          --checkpoint SIZE:ROOT   also require the archive's source to be this published checkpoint
        """
    static let positionals = Positionals.upTo(["FILE"])
    static let valuedOptions: Set<String> = ["checkpoint"]

    static func run(_ arguments: CommandLineArguments, context: CommandContext) throws -> Int32 {
        guard arguments.positional.count == 1, let path = arguments.positional.first else {
            throw CLIError.usage("give one archive file")
        }
        let expected = try LedgerAccess.checkpoint(arguments)
        let name = Self.name(of: path)
        do {
            let report = try ArchiveVerifier().verify(try reader(path), progress: { done, total in
                Terminal.progress("verifying", done, total)
            })
            let manifest = report.manifest
            if let expected, expected.size != manifest.source.size || expected.rootHash != manifest.source.rootHash {
                Terminal.print("REFUSED: the archive's source checkpoint \(manifest.source.size):\(manifest.source.rootHash.hex) is not \(expected.size):\(expected.rootHash.hex)")
                return 1
            }
            var verdict = ["VERIFIED \(name)"]
            switch manifest.slice {
            case .full:
                verdict.append("  events:  \(report.events) (full ledger; root recomputed from every event)")
            case .streams(let organisation, let streams):
                // A slice proves less than a full archive, and says so: nothing in it authenticates a stream's head.
                let owner = organisation.map { " for \($0)" } ?? ""
                verdict += [
                    "  events:  \(report.events) (slice of \(streams.count) streams\(owner))",
                    "  proven:  every event is in the source (inclusion proof); each stream is held from version 1 "
                        + "without a gap",
                    "  NOT proven: that a stream's last version here is its last in the source (events left off the end",
                    "           of a stream cannot be seen offline); check each against the source: the version of "
                        + "its last event",
                    "           at a position up to \(manifest.source.size) (GET /v1/streams/{stream} lists them):",
                ]
                verdict += report.streamVersions.sorted { $0.key < $1.key }.map { "    \($0.key) version \($0.value)" }
            }
            verdict.append("  source:  \(manifest.source.size):\(manifest.source.rootHash.hex) recorded \(manifest.source.recordedAt.rfc3339)")
            verdict.append("  created: \(manifest.createdAt.rfc3339) by \(manifest.createdBy.id) (\(manifest.createdBy.role))")
            Terminal.print(verdict.joined(separator: "\n"))
            return 0
        } catch let error as ArchiveError {
            Terminal.print("REFUSED \(name): \(error)")
            return 1
        }
    }

    /// Standard input for "-", as `export --out -` writes to standard output.
    static func reader(_ path: String) throws -> LineReader {
        path == "-" ? LineReader.standardInput() : try LineReader(path: path)
    }

    /// How messages name the archive read from `path`.
    static func name(of path: String) -> String { path == "-" ? "standard input" : path }
}

/// `planledger import`: loads a full archive into an empty ledger.
enum ImportCommand: Command {
    static let name = "import"
    static let summary = "load a full archive into an empty ledger, verifying it on the way"
    static let help = """
        Usage: planledger import FILE|- --db NEW

        Verifies the archive while loading it (same positions, same hashes, same root) into the ledger at --db,
        which must be new or an empty file (a database with any table, even an empty ledger, is refused). A damaged
        archive, a slice, or a non-empty target is refused and the target is left untouched. The source's API tokens
        come with it (their grants are events); those still active are named on standard error, to be revoked.
        """
    static let positionals = Positionals.upTo(["FILE"])

    static func run(_ arguments: CommandLineArguments, context: CommandContext) throws -> Int32 {
        guard arguments.positional.count == 1, let path = arguments.positional.first else {
            throw CLIError.usage("give one archive file")
        }
        guard arguments.value("db") != nil else { throw CLIError.usage("--db NEW is required (the ledger to create)") }
        do {
            let report = try ArchiveImporter(hook: LedgerAccess.hook).importArchive(
                try VerifyArchiveCommand.reader(path), into: context.databasePath
            ) { done, total in Terminal.progress("importing", done, total) }
            Terminal.print("imported \(report.events) events into \(context.databasePath); checkpoint \(report.manifest.source.size):\(report.manifest.source.rootHash.hex)")
            try warnOfActiveTokens(context)
            return 0
        } catch let error as ArchiveError {
            Terminal.print("REFUSED \(VerifyArchiveCommand.name(of: path)): \(error)")
            return 1
        }
    }

    /// The archive carries every token grant of the source ledger (they are events like any other), so the
    /// predecessor's tokens would open the successor's server: name the ones still active, and how to revoke them.
    private static func warnOfActiveTokens(_ context: CommandContext) throws {
        let ledger = try LedgerAccess.open(context)
        defer { ledger.close() }
        let active = try TokenRegistry(ledger: ledger).list().filter { $0.revokedAt == nil }
        guard !active.isEmpty else { return }
        Terminal.error("""
            warning: \(active.count) API token(s) granted on the source ledger are still active in this one, and would \
            open a server on it: \(active.map { "\($0.id) (\($0.role.rawValue), \($0.actorId))" }.joined(separator: ", ")). \
            Revoke those the new holder should not honour: planledger token revoke ID --reason '...' --db \(context.databasePath)
            """)
    }
}
