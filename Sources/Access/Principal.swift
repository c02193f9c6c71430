import Ledger

/// The authenticated caller behind a bearer token.
public struct Principal: Sendable, Hashable {
    public let tokenId: String
    /// Who the token was issued to (a role holder's identifier, not personal data beyond that).
    public let actorId: String
    public let role: Role
    /// Organisation stream names the token may append for (contributors).
    public let organisations: [String]

    public init(tokenId: String, actorId: String, role: Role, organisations: [String]) {
        self.tokenId = tokenId
        self.actorId = actorId
        self.role = role
        self.organisations = organisations
    }

    /// The envelope actor of what this principal records: never taken from a request body.
    public var actor: Actor { Actor(id: actorId, role: role.rawValue, organisation: organisations.first) }
}
