import Ledger

/// Checks an archive offline, with nothing but the archive: every line parses, every leaf hash matches its event,
/// every slice event's inclusion proof leads to the source root and belongs to a listed stream, a full archive's
/// events rebuild exactly the source root, each stream's versions run from 1 without a gap, no id repeats, the
/// manifest's counts, schema versions and source time agree with the events, and the trailer's SHA-256 matches
/// every byte before it, which are all the file holds. The first problem found is reported with its line and
/// position; anything altered, missing, reordered or added is one (see `Schemas/archive.md`), with one exception a
/// slice cannot show: the last events of a listed stream left off (nothing in the format authenticates a stream's
/// head), which only a comparison of `Report.streamVersions` with the source finds.
public struct ArchiveVerifier {
    public struct Report: Sendable {
        public let manifest: ArchiveManifest
        public let events: Int
        /// The last version the archive holds of each stream (0 for a slice's listed stream it holds nothing of).
        /// For a slice, nothing in the archive proves these are the streams' last versions in the source: a forger
        /// can leave off a stream's last events and recompute the counts and trailer. Compare them with the source.
        public let streamVersions: [String: Int]
    }

    public init() {}

    /// - Parameters:
    ///   - onManifest: called with the manifest before any event is read (the importer refuses slices there).
    ///   - onEvent: called with each verified event, in order (the importer stores them).
    ///   - progress: (events checked, events promised by the manifest).
    public func verify(_ lines: LineReader, onManifest: ((ArchiveManifest) throws -> Void)? = nil,
                       onEvent: ((RecordedEvent) throws -> Void)? = nil,
                       progress: ((Int, Int) -> Void)? = nil) throws -> Report
    {
        var hasher = SHA256Hasher()
        var lineNumber = 1
        func parse(_ line: ArraySlice<UInt8>) throws(ArchiveError) -> JSONValue {
            do {
                return try JSONParser.parse(line)
            } catch {
                throw ArchiveError(line: lineNumber, code: "invalid_json", "not valid JSON: \(error)")
            }
        }
        // The reader does not count lines: its errors (a line too long) get the number of the line it was reading.
        func nextLine() throws -> ArraySlice<UInt8>? {
            do {
                return try lines.next()
            } catch let error as ArchiveError where error.line == 0 {
                throw ArchiveError(line: lineNumber, code: error.code, error.message)
            }
        }
        guard let first = try nextLine() else { throw ArchiveError(line: 1, code: "empty", "the archive is empty") }
        let manifest = try ArchiveManifest(json: parse(first))
        try onManifest?(manifest)
        hasher.update(first)
        hasher.update([0x0A])

        var tree = FrontierTree()
        var lastPosition = 0
        // Both kinds of archive hold whole streams (a slice every event of each stream it lists, up to the source
        // size): each stream's versions run 1, 2, 3, … in position order, so a record taken out of the middle of a
        // stream shows here even though every remaining proof is valid.
        var streamVersions: [String: Int] = [:]
        // Ids are unique in a ledger (an import would otherwise fail on SQLite's unique index, naming no record).
        // Kept as 16-byte fingerprints: the one thing here that grows with the archive. Reserved up front from the
        // manifest's count (capped, since the manifest is the archive's own claim), so the set does not grow by
        // copying itself: 34 MB of set for 1.2M events, against 75 MB at the peak of a growing map of positions.
        var seenIds = Set<IDFingerprint>(minimumCapacity: min(max(manifest.eventCount, 0), 1 << 23))
        let listedStreams: Set<String>?
        if case .streams(_, let streams) = manifest.slice { listedStreams = Set(streams) } else { listedStreams = nil }
        var events = 0
        var byType: [String: Int] = [:]
        var schemaVersions: [String: Set<Int>] = [:]
        // What the manifest says of the source and the counts is checked against the events too: it is covered by
        // the trailer digest, but so is everything a forger recomputes.
        func manifestMismatch(_ code: String, _ message: String) -> ArchiveError {
            ArchiveError(line: 1, code: code, message)
        }
        let source = manifest.source
        // For every size: the empty source's time is when it was read, so one cut before the first event fails here.
        if let asOf = manifest.asOf, source.recordedAt > asOf {
            throw manifestMismatch("source_mismatch",
                                   "source.recordedAt \(source.recordedAt.rfc3339) is after asOf \(asOf.rfc3339): the source is the ledger as recorded by then")
        }
        while true {
            lineNumber += 1
            guard let line = try nextLine() else {
                throw ArchiveError(line: lineNumber, code: "truncated", "the archive ends without its trailer")
            }
            let json = try parse(line)
            if let end = json["end"] {
                guard json.objectValue?.count == 1, end["events"]?.intValue == events,
                    let digest = end["sha256"]?.stringValue
                else {
                    throw ArchiveError(line: lineNumber, code: "invalid_trailer", "the trailer does not match the \(events) events read")
                }
                guard digest == hasher.finalize().hex else {
                    throw ArchiveError(line: lineNumber, code: "digest_mismatch",
                                       "the archive's bytes do not match the SHA-256 in its trailer")
                }
                // The trailer's own newline ends the file: anything after it, even an empty line, is not the archive,
                // and a file without it has lost its last byte.
                let terminated = lines.lastLineWasTerminated
                if try nextLine() != nil {
                    throw ArchiveError(line: lineNumber + 1, code: "trailing_data", "data after the trailer")
                }
                guard terminated else {
                    throw ArchiveError(line: lineNumber, code: "missing_newline",
                                       "the trailer does not end with a newline: the file's last byte is missing")
                }
                break
            }
            hasher.update(line)
            hasher.update([0x0A])
            let event: RecordedEvent
            do {
                guard let envelope = json["event"] else { throw LedgerError(.invalidInput, code: "x", "no event") }
                event = try RecordedEvent(json: envelope)
            } catch {
                throw ArchiveError(line: lineNumber, code: "invalid_event", "not an event line: \(error)")
            }
            func refuse(_ code: String, _ message: String) -> ArchiveError {
                ArchiveError(line: lineNumber, position: event.position, code: code, message)
            }
            guard event.computedHash == event.hash else {
                throw refuse("hash_mismatch", "the event's fields do not match its hash (altered record)")
            }
            guard event.position <= manifest.source.size else {
                throw refuse("beyond_source", "position is beyond the source checkpoint's size \(manifest.source.size)")
            }
            if manifest.slice.isFull {
                guard event.position == lastPosition + 1 else {
                    throw refuse(event.position > lastPosition + 1 ? "missing_event" : "out_of_order",
                                 "expected position \(lastPosition + 1): a record is missing, reordered or added")
                }
                tree.append(event.hash)
            } else {
                guard event.position > lastPosition else {
                    throw refuse("out_of_order", "positions must increase (previous \(lastPosition))")
                }
                guard let path = json["proof"]?.arrayValue?.compactMap({ $0.stringValue.flatMap(Digest.init(hex:)) }),
                    path.count == json["proof"]?.arrayValue?.count,
                    MerkleProof.verifyInclusion(leafHash: event.hash, leafIndex: event.position - 1,
                                                size: manifest.source.size, path: path, rootHash: manifest.source.rootHash)
                else {
                    throw refuse("proof_mismatch", "the inclusion proof does not lead to the source root")
                }
            }
            guard seenIds.insert(IDFingerprint(event.id)).inserted else {
                throw refuse("duplicate_id", "event id \(event.id) is already the id of an earlier event in the archive")
            }
            let stream = event.stream.description
            if let listedStreams, !listedStreams.contains(stream) {
                throw refuse("unlisted_stream", "stream \(stream) is not among the slice's streams in the manifest")
            }
            let previousVersion = streamVersions[stream] ?? 0
            guard event.version == previousVersion + 1 else {
                throw refuse("version_gap", previousVersion == 0
                    ? "\(stream) starts at version \(event.version), not 1: the archive holds whole streams"
                    : "\(stream) version \(event.version) does not follow version \(previousVersion): a record of the stream is missing or reordered")
            }
            streamVersions[stream] = event.version
            lastPosition = event.position
            events += 1
            // A checkpoint's recordedAt is that of its last event, `size`; times never decrease along the log.
            guard event.recordedAt <= source.recordedAt else {
                throw manifestMismatch("source_mismatch",
                                       "source.recordedAt \(source.recordedAt.rfc3339) is before the event at position \(event.position) (line \(lineNumber)), recorded \(event.recordedAt.rfc3339); a checkpoint's time is that of its last event")
            }
            if event.position == source.size, event.recordedAt != source.recordedAt {
                throw manifestMismatch("source_mismatch",
                                       "source.recordedAt \(source.recordedAt.rfc3339) is not the time of the checkpoint's last event, position \(event.position) (line \(lineNumber)), recorded \(event.recordedAt.rfc3339)")
            }
            byType[event.type, default: 0] += 1
            schemaVersions[event.type, default: []].insert(event.schemaVersion)
            try onEvent?(event)
            if events % 10_000 == 0 { progress?(events, manifest.eventCount) }
        }
        progress?(events, manifest.eventCount)
        guard events == manifest.eventCount else {
            throw manifestMismatch("count_mismatch",
                                   "counts.events is \(manifest.eventCount); the archive holds \(events) events")
        }
        for type in Set(byType.keys).union(manifest.countsByType.keys).sorted()
        where byType[type] != manifest.countsByType[type] {
            throw manifestMismatch("count_mismatch",
                                   "counts.byType gives \(manifest.countsByType[type] ?? 0) \(type); the archive holds \(byType[type] ?? 0)")
        }
        for type in Set(schemaVersions.keys).union(manifest.schemaVersions.keys).sorted()
        where schemaVersions[type] != manifest.schemaVersions[type].map(Set.init) {
            let listed = manifest.schemaVersions[type].map { "\($0.sorted())" } ?? "nothing"
            let held = schemaVersions[type].map { "\($0.sorted())" } ?? "none"
            throw manifestMismatch("schema_versions_mismatch",
                                   "schemaVersions lists \(listed) for \(type); the archive's \(type) events have \(held)")
        }
        if manifest.slice.isFull {
            guard events == manifest.source.size, tree.root == manifest.source.rootHash else {
                throw ArchiveError(line: lineNumber, code: "root_mismatch",
                                   "the events rebuild root \(tree.root.hex) of size \(events); the source checkpoint is \(manifest.source.size):\(manifest.source.rootHash.hex)")
            }
        }
        for stream in listedStreams ?? [] where streamVersions[stream] == nil { streamVersions[stream] = 0 }
        return Report(manifest: manifest, events: events, streamVersions: streamVersions)
    }
}

/// The first 128 bits of SHA-256 of an event id: two different ids share one with a probability as negligible as a
/// SHA-256 collision, at a fixed 16 bytes whatever the id's length.
private struct IDFingerprint: Hashable {
    let high: UInt64
    let low: UInt64

    init(_ id: String) {
        var hasher = SHA256Hasher()
        hasher.update(Array(id.utf8))
        let digest = hasher.finalize()
        (high, low) = digest.withUnsafeBytes {
            ($0.loadUnaligned(as: UInt64.self), $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        }
    }
}
