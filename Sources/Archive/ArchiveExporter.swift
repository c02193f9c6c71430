import Ledger
import SQLite

/// Writes an archive: a manifest line, one line per event (`{"event": envelope, "proof": [...]}`), and a trailer
/// with the SHA-256 of everything before it. Streams from one read snapshot; memory stays flat whatever the size.
public struct ArchiveExporter: Sendable {
    public struct Options: Sendable {
        /// The streams of a slice; nil for every event (a full archive).
        public var streams: Set<String>?
        /// The organisation the slice is for, recorded in the manifest.
        public var organisation: String?
        /// Cut the ledger as it was recorded at this time (its prefix of events recorded by then).
        public var asOf: Timestamp?
        public var createdBy: Actor
        public var summary: JSONValue?

        public init(streams: Set<String>? = nil, organisation: String? = nil, asOf: Timestamp? = nil,
                    createdBy: Actor, summary: JSONValue? = nil)
        {
            self.streams = streams
            self.organisation = organisation
            self.asOf = asOf
            self.createdBy = createdBy
            self.summary = summary
        }
    }

    /// The checkpoint an archive is cut at, taken from a ledger that verified at least up to it. Only `source(asOf:)`
    /// makes one, so an export cannot skip the check.
    public struct Source: Sendable {
        public let checkpoint: Checkpoint
        public let asOf: Timestamp?
    }

    public let ledger: Ledger

    public init(ledger: Ledger) { self.ledger = ledger }

    /// The checkpoint to cut an archive at (the whole ledger, or its prefix recorded by `asOf`), once the ledger has
    /// verified.
    ///
    /// Why `LedgerVerifier` over the whole ledger rather than checking each event as it is streamed: an archive is
    /// built from stored rows and the stored tree, which are exactly what a tampered file has wrong, and some damage
    /// shows in no exported row at all (the last event deleted: the rows left are a consistent shorter ledger, and
    /// only the size the ledger records for itself says one is missing). The verifier checks all of it (leaf hashes,
    /// positions, stream versions, times, stored nodes, the recorded size) at about 2M events/s, and it does so
    /// before anything is written, so the CLI leaves `--out` alone and the API can still answer an error status. A
    /// ledger damaged only beyond an `asOf` cut is refused too: a damaged ledger is for `planledger verify` and
    /// repair, not for handing over.
    ///
    /// A server may append meanwhile. The checkpoint is read first and the verifier's snapshot is taken after it, so
    /// it sees at least as long a log; `expected` makes it confirm that the log it verified has this checkpoint's root
    /// at this size. The log is append-only, so the prefix exported later is the one verified here.
    /// - Throws: `ArchiveSourceError` when the ledger does not verify; `LedgerError` `.domainRule`
    ///   (`nothing_recorded`) when `asOf` is before the first event.
    public func source(asOf: Timestamp?) throws -> Source {
        let checkpoint = try ledger.read { database in
            let size: Int
            if let asOf {
                size = Int(try database.scalarInt("SELECT COALESCE(MAX(position), 0) FROM events WHERE recorded_at <= ?1",
                                                  [.integer(asOf.millisecondsSinceEpoch)]) ?? 0)
                // The checkpoint of no events carries the time it was read, which is after `asOf`: no archive can
                // keep the rule that its source was recorded by `asOf`, and an empty one would say nothing anyway.
                // Refused before the (whole-ledger) verification, which it does not need.
                if size == 0 { throw try Self.nothingRecorded(by: asOf, in: database) }
            } else {
                size = try EventRow.lastPosition(in: database)
            }
            return try Ledger.checkpoint(size: size, in: database)
        }
        let report = try LedgerVerifier(path: ledger.path).verify(expected: (checkpoint.size, checkpoint.rootHash))
        if let failure = report.failure { throw ArchiveSourceError(failure) }
        return Source(checkpoint: checkpoint, asOf: asOf)
    }

    /// `nothing_recorded`, saying when the first event was recorded (if any was).
    private static func nothingRecorded(by asOf: Timestamp, in database: Database) throws -> LedgerError {
        let first = try database.scalarInt("SELECT recorded_at FROM events ORDER BY position LIMIT 1")
            .map(Timestamp.init(millisecondsSinceEpoch:))
        let then = first.map { "the first event was recorded \($0.rfc3339)" } ?? "the ledger has no events"
        return LedgerError(.domainRule, code: "nothing_recorded", "nothing was recorded by \(asOf.rfc3339): \(then)",
                           details: ["field": "asOf", "firstRecordedAt": first.map { .string($0.rfc3339) } ?? .null])
    }

    /// Verifies the source (`source(asOf: options.asOf)`) and writes the archive.
    @discardableResult
    public func export(_ options: Options, write: @escaping ([UInt8]) throws -> Void,
                       progress: ((Int, Int) -> Void)? = nil) throws -> ArchiveManifest
    {
        try export(options, from: source(asOf: options.asOf), write: write, progress: progress)
    }

    /// - Parameters:
    ///   - source: from `source(asOf:)` with the same `asOf` as `options`.
    ///   - write: receives the archive's bytes in order, in chunks of about 64 KiB.
    ///   - progress: (events written, events to write).
    @discardableResult
    public func export(_ options: Options, from source: Source, write: @escaping ([UInt8]) throws -> Void,
                       progress: ((Int, Int) -> Void)? = nil) throws -> ArchiveManifest
    {
        precondition(options.asOf == source.asOf, "the source was cut at another time")
        return try ledger.read { database in
            let size = source.checkpoint.size
            // Append-only: this later snapshot holds the same first `size` events. Checked (two O(log n) reads of
            // the stored tree) so that a file replaced since is refused rather than exported under the verified
            // root; a row edited in place after the verification would still be written, and the archive's reader
            // refuses it (`verify-archive` checks every leaf hash).
            let now = try Ledger.checkpoint(size: min(size, try EventRow.lastPosition(in: database)), in: database)
            guard now.size == size, now.rootHash == source.checkpoint.rootHash else {
                throw ArchiveSourceError(position: min(now.size, size), code: "checkpoint_mismatch",
                                         "the ledger's first \(size) events changed while the archive was being cut")
            }
            let included: (String) -> Bool = { stream in options.streams?.contains(stream) ?? true }

            // First pass: what the manifest counts.
            var count = 0
            var byType: [String: Int] = [:]
            var versions: [String: Set<Int>] = [:]
            try database.forEach("SELECT stream, type, schema_version FROM events WHERE position <= ?1",
                                 [.integer(Int64(size))]) { row in
                guard included(row.text(0)) else { return }
                count += 1
                byType[row.text(1), default: 0] += 1
                versions[row.text(1), default: []].insert(row.int(2))
            }
            let manifest = ArchiveManifest(
                createdAt: .now(), createdBy: options.createdBy, source: source.checkpoint,
                slice: options.streams.map { .streams(organisation: options.organisation, streams: $0.sorted()) } ?? .full,
                asOf: options.asOf, eventCount: count, countsByType: byType,
                schemaVersions: versions.mapValues { $0.sorted() }, summary: options.summary)

            let sink = ArchiveSink(write: write)
            try sink.line(manifest.json)
            let nodes = DatabaseNodeSource(database: database)
            var written = 0
            var decoder = EventRow.Decoder()
            try database.forEach("SELECT \(EventRow.columns) FROM events WHERE position <= ?1 ORDER BY position",
                                 [.integer(Int64(size))]) { row in
                guard included(row.text(2)) else { return }
                let event = try decoder.decode(row)
                var line: JSONObject = ["event": event.json]
                if !manifest.slice.isFull {
                    line["proof"] = JSONValue(try nodes.inclusionPath(leafIndex: event.position - 1, size: size).map(\.hex))
                }
                try sink.line(.object(line))
                written += 1
                if written % 10_000 == 0 { progress?(written, count) }
            }
            try sink.finish(events: written)
            progress?(written, count)
            return manifest
        }
    }
}

/// Buffers archive lines, hashing every byte for the trailer.
final class ArchiveSink {
    private let write: ([UInt8]) throws -> Void
    private var buffer: [UInt8] = []
    private var hasher = SHA256Hasher()

    init(write: @escaping ([UInt8]) throws -> Void) {
        self.write = write
        buffer.reserveCapacity(1 << 16)
    }

    func line(_ value: JSONValue) throws {
        var bytes = CanonicalJSON.encode(value)
        bytes.append(0x0A)
        hasher.update(bytes)
        buffer += bytes
        if buffer.count >= 1 << 16 { try flush() }
    }

    func finish(events: Int) throws {
        var trailer = CanonicalJSON.encode(["end": ["events": JSONValue(events), "sha256": .string(hasher.finalize().hex)]])
        trailer.append(0x0A)
        buffer += trailer
        try flush()
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        try write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}
