/// Who recorded a change: a role holder, with minimal personal data. Set by the server from the authenticated token
/// (or by the CLI from its flags), never from a request body.
public struct Actor: Sendable, Hashable {
    public let id: String
    public let role: String
    /// The organisation's stream name, e.g. `organisation/QWO`, when the actor acts for one.
    public let organisation: String?

    /// The kind of stream `organisation` names.
    public static let organisationKind = "organisation"

    public init(id: String, role: String, organisation: String? = nil) {
        self.id = id
        self.role = role
        self.organisation = organisation
    }

    /// What makes this actor one no event may record (events are immutable, so it would stay for good): the field
    /// at fault (`id`, `role`, `organisation`) and why; nil when it may be recorded. The one rule for every place
    /// an actor is made: appends (`invalid_actor`), token grants, the CLI's flags.
    public var problem: (field: String, message: String)? {
        if Self.isBlank(id) { return ("id", "must not be empty") }
        if Self.isBlank(role) { return ("role", "must not be empty") }
        if let organisation, StreamName(organisation)?.kind != Self.organisationKind {
            return ("organisation", "must be an organisation's stream name (\(Self.organisationKind)/KEY), got '\(organisation)'")
        }
        return nil
    }

    /// Whether an id or role is empty or only white space: not one an event may record.
    public static func isBlank(_ text: String) -> Bool { text.allSatisfy(\.isWhitespace) }

    public var json: JSONValue {
        .object(omittingNil: [("id", .string(id)), ("role", .string(role)), ("organisation", organisation.map(JSONValue.string))])
    }
}
