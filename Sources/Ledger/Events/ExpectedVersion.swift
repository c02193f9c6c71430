/// The optimistic-concurrency condition a transaction places on each stream it appends to.
public enum ExpectedVersion: Sendable, Hashable, CustomStringConvertible {
    /// No condition.
    case any
    /// The stream must not exist yet (it is being created).
    case noStream
    /// The stream must already exist, at any version.
    case exists
    /// The stream's current version must be exactly this (0 means "no stream").
    case exact(Int)

    /// Whether a stream currently at `version` (0 when absent) satisfies the condition.
    public func isSatisfied(byCurrent version: Int) -> Bool {
        switch self {
        case .any: true
        case .noStream: version == 0
        case .exists: version > 0
        case .exact(let expected): version == expected
        }
    }

    public var json: JSONValue {
        switch self {
        case .any: "any"
        case .noStream: "noStream"
        case .exists: "exists"
        case .exact(let version): .number(Double(version))
        }
    }

    public var description: String { CanonicalJSON.string(json) }

    /// Parses `"any"`, `"noStream"`, `"exists"` or a non-negative integer.
    public init?(json: JSONValue) {
        switch json {
        case .string("any"): self = .any
        case .string("noStream"): self = .noStream
        case .string("exists"): self = .exists
        default:
            guard let version = json.intValue, version >= 0 else { return nil }
            self = .exact(version)
        }
    }
}
