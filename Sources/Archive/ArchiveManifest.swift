import Ledger

/// The first line of an archive: what it holds and what it is proven against. See `Schemas/archive.md`.
public struct ArchiveManifest: Sendable, Equatable {
    public static let format = "planledger-archive"
    public static let formatVersion = 1

    public enum Slice: Sendable, Equatable {
        /// Every event of the source ledger up to `source.size`: the root is recomputed from them.
        case full
        /// The events of some streams only: each carries an inclusion proof against `source`.
        case streams(organisation: String?, streams: [String])

        var isFull: Bool { self == .full }
    }

    public var createdAt: Timestamp
    public var createdBy: Actor
    /// The checkpoint every event is proven against.
    public var source: Checkpoint
    public var slice: Slice
    /// When the archive was cut at a past time: that time.
    public var asOf: Timestamp?
    public var eventCount: Int
    public var countsByType: [String: Int]
    public var schemaVersions: [String: [Int]]
    /// A human-readable account (e.g. the organisation's corporate memory at export time).
    public var summary: JSONValue?

    public init(createdAt: Timestamp, createdBy: Actor, source: Checkpoint, slice: Slice, asOf: Timestamp?,
                eventCount: Int, countsByType: [String: Int], schemaVersions: [String: [Int]], summary: JSONValue?)
    {
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.source = source
        self.slice = slice
        self.asOf = asOf
        self.eventCount = eventCount
        self.countsByType = countsByType
        self.schemaVersions = schemaVersions
        self.summary = summary
    }

    public var json: JSONValue {
        let slice: JSONValue
        switch self.slice {
        case .full: slice = ["kind": "full"]
        case .streams(let organisation, let streams):
            slice = .object(omittingNil: [("kind", "streams"), ("organisation", organisation.map(JSONValue.string)),
                                          ("streams", JSONValue(streams))])
        }
        return ["manifest": .object(omittingNil: [
            ("format", .string(Self.format)), ("formatVersion", JSONValue(Self.formatVersion)),
            ("createdAt", .string(createdAt.rfc3339)), ("createdBy", createdBy.json), ("source", source.json),
            ("slice", slice), ("asOf", asOf.map { .string($0.rfc3339) }),
            ("counts", ["events": JSONValue(eventCount), "byType": .object(JSONObject(countsByType.mapValues { JSONValue($0) }))]),
            ("schemaVersions", .object(JSONObject(schemaVersions.mapValues { JSONValue.array($0.map { JSONValue($0) }) }))),
            ("summary", summary),
        ])]
    }

    /// Reads a manifest line, refusing other formats and newer format versions.
    public init(json line: JSONValue) throws(ArchiveError) {
        guard let manifest = line["manifest"]?.objectValue else {
            throw ArchiveError(line: 1, code: "missing_manifest", "the first line is not a manifest")
        }
        func field<T>(_ name: String, _ convert: (JSONValue) -> T?) throws(ArchiveError) -> T {
            guard let value = manifest[name], let converted = convert(value) else {
                throw ArchiveError(line: 1, code: "invalid_manifest", "manifest field \(name) is missing or invalid")
            }
            return converted
        }
        guard manifest["format"]?.stringValue == Self.format else {
            throw ArchiveError(line: 1, code: "invalid_manifest", "not a PlanLedger archive")
        }
        let version = try field("formatVersion") { $0.intValue }
        guard version == Self.formatVersion else {
            throw ArchiveError(line: 1, code: "unsupported_format", "archive format version \(version) is not supported")
        }
        createdAt = try field("createdAt") { $0.stringValue.flatMap(Timestamp.init(parsing:)) }
        createdBy = try field("createdBy") { json in
            json["id"]?.stringValue.flatMap { id in
                json["role"]?.stringValue.map { Actor(id: id, role: $0, organisation: json["organisation"]?.stringValue) }
            }
        }
        source = try field("source") { json in
            guard let size = json["size"]?.intValue, let root = json["rootHash"]?.stringValue.flatMap(Digest.init(hex:)),
                let at = json["recordedAt"]?.stringValue.flatMap(Timestamp.init(parsing:))
            else { return nil }
            return Checkpoint(size: size, rootHash: root, recordedAt: at)
        }
        slice = try field("slice") { json -> Slice? in
            switch json["kind"]?.stringValue {
            case "full": return .full
            case "streams":
                guard let streams = json["streams"]?.arrayValue?.compactMap(\.stringValue) else { return nil }
                return .streams(organisation: json["organisation"]?.stringValue, streams: streams)
            default: return nil
            }
        }
        asOf = manifest["asOf"]?.stringValue.flatMap(Timestamp.init(parsing:))
        eventCount = try field("counts") { $0["events"]?.intValue }
        countsByType = try field("counts") { $0["byType"]?.objectValue?.compactMapValues(\.intValue) }
        schemaVersions = try field("schemaVersions") { $0.objectValue?.compactMapValues { $0.arrayValue?.compactMap(\.intValue) } }
        summary = manifest["summary"]
    }
}

/// Why an archive was refused: the line (1-based) and, for event lines, the position of the first bad record.
public struct ArchiveError: Error, Sendable, CustomStringConvertible {
    public let line: Int
    public let position: Int?
    public let code: String
    public let message: String

    public init(line: Int, position: Int? = nil, code: String, _ message: String) {
        self.line = line
        self.position = position
        self.code = code
        self.message = message
    }

    public var description: String {
        "line \(line)\(position.map { " (position \($0))" } ?? ""): [\(code)] \(message)"
    }
}
