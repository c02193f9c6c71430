import Ledger

/// One event type of the planning domain: its stream kind, schema version, payload fields and life-cycle role.
public struct EventType: Sendable {
    public let name: String
    /// The stream kind it is appended to.
    public let kind: String
    public let schemaVersion: Int
    public let summary: String
    public let fields: [Field]
    /// When non-empty, the data must carry at least one of these (revisions).
    public let atLeastOne: [String]
    /// Whether it may (or, for `defining`, must) be the first event of its stream.
    public let role: Role
    /// Whether the envelope must carry a `reason` (revisions, corrections, supersessions, revocations,
    /// invalidations, retirements, withdrawals, dissolutions, realignments).
    public let requiresReason: Bool
    /// Valid payloads, written into the schema file and checked by the tests.
    public let examples: [JSONValue]

    public enum Role: Sendable {
        /// Creates its stream: only ever the first event.
        case defining
        /// May create its stream or follow a defining event (`DecisionTaken` for decisions recorded after the fact).
        case definingOrFollowing
        /// Follows the stream's defining event.
        case following
    }

    init(_ name: String, kind: String, _ summary: String, role: Role = .following, reason: Bool = false,
         atLeastOne: [String] = [], fields: [Field], examples: [JSONValue])
    {
        self.name = name
        self.kind = kind
        self.schemaVersion = 1
        self.summary = summary
        self.fields = fields
        self.atLeastOne = atLeastOne
        self.role = role
        self.requiresReason = reason
        self.examples = examples
    }
}
