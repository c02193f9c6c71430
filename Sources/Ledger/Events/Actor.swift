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

    public var json: JSONValue {
        .object(omittingNil: [("id", .string(id)), ("role", .string(role)), ("organisation", organisation.map(JSONValue.string))])
    }
}
