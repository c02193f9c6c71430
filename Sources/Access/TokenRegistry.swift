import Foundation
import Ledger
import SQLite

/// Issues, lists, revokes and authenticates bearer tokens. Secrets are random 256-bit values shown once; only their
/// SHA-256 is stored (in the ledger's `AccessGranted` event and the token table), so a copy of the database grants
/// nothing.
public struct TokenRegistry: Sendable {
    /// The kind of the streams tokens are recorded on (`access/<token id>`): written only through this registry,
    /// read by name only by those who may read the audit log.
    public static let streamKind = AccessEvents.kind

    public let ledger: Ledger

    public init(ledger: Ledger) { self.ledger = ledger }

    public struct Token: Sendable {
        public let id: String
        public let role: Role
        public let organisations: [String]
        public let actorId: String
        public let label: String?
        public let grantedAt: Timestamp
        public let revokedAt: Timestamp?
        /// The secret: only on the value `create` returns.
        public let secret: String?

        public var json: JSONValue {
            .object(omittingNil: [
                ("id", .string(id)), ("role", .string(role.rawValue)), ("organisations", JSONValue(organisations)),
                ("actorId", .string(actorId)), ("label", label.map(JSONValue.string)),
                ("grantedAt", .string(grantedAt.rfc3339)), ("revoked", .bool(revokedAt != nil)),
                ("revokedAt", revokedAt.map { .string($0.rfc3339) }), ("token", secret.map(JSONValue.string)),
            ])
        }
    }

    /// The longest actor id and label a new token may have, in UTF-8 bytes. The actor id goes into the envelope of
    /// every event the token records, and the label into the token list: neither may grow without bound. Checked
    /// here, where tokens are made, not on the event, so that a ledger recorded before the limit still imports.
    public static let maximumActorIdBytes = 256
    public static let maximumLabelBytes = 1_024

    /// Grants a new token, recorded as an `AccessGranted` event by `grantedBy`.
    /// - Throws: `LedgerError` `invalid_data` for an actor id or label over its limit.
    public func create(role: Role, organisations: [String], actorId: String, label: String?, grantedBy: Actor,
                       reason: String? = nil) throws -> Token
    {
        // The label first: an actor id is taken from the label when none is given.
        for (field, value, limit) in [("label", label ?? "", Self.maximumLabelBytes),
                                      ("actorId", actorId, Self.maximumActorIdBytes)] where value.utf8.count > limit {
            throw LedgerError(.invalidInput, code: "invalid_data", "\(field) is longer than \(limit) bytes",
                              details: ["field": .string(field)])
        }
        let id = "tok-" + Self.randomHex(8)
        let secret = "plt_" + Self.randomHex(32)
        let data: JSONValue = .object(omittingNil: [
            ("role", .string(role.rawValue)), ("organisations", JSONValue(organisations)), ("actorId", .string(actorId)),
            ("label", label.map(JSONValue.string)), ("secretSha256", .string(Self.hash(secret))),
        ])
        let result = try Self.asRequestError {
            try ledger.append(AppendTransaction(
                streams: [StreamAppend(stream: StreamName(kind: AccessEvents.kind, key: id)!, expectedVersion: .noStream,
                                       events: [ProposedEvent(type: AccessEvents.granted, reason: reason, data: data)])],
                actor: grantedBy))
        }
        return Token(id: id, role: role, organisations: organisations, actorId: actorId, label: label,
                     grantedAt: result.events[0].recordedAt, revokedAt: nil, secret: secret)
    }

    /// Revokes a token, recorded as an `AccessRevoked` event with the reason.
    public func revoke(id: String, reason: String, revokedBy: Actor) throws {
        guard let stream = StreamName(kind: AccessEvents.kind, key: id) else {
            throw LedgerError(.notFound, code: "not_found", "no token \(id)")
        }
        // Otherwise the append's `exists` check refuses it as a version conflict, which reads as a race, not a typo.
        guard try ledger.version(of: stream) > 0 else {
            throw LedgerError(.notFound, code: "not_found", "no token \(id)")
        }
        _ = try Self.asRequestError {
            try ledger.append(AppendTransaction(
                streams: [StreamAppend(stream: stream, expectedVersion: .exists,
                                       events: [ProposedEvent(type: AccessEvents.revoked, reason: reason, data: [:])])],
                actor: revokedBy))
        }
    }

    /// A grant or revocation is an appended `access/` event, and the ledger's refusal speaks of that event: its
    /// `index` in the transaction, a field under `data.`. Whoever asked sent a token's fields, not an event, so the
    /// refusal names those fields; its code and everything else are kept.
    private static func asRequestError<Result>(_ body: () throws -> Result) throws -> Result {
        do {
            return try body()
        } catch var error as LedgerError {
            error.details["index"] = nil
            let prefix = "data."
            guard let field = error.details["field"]?.stringValue, field.hasPrefix(prefix) else { throw error }
            error.details["field"] = .string(String(field.dropFirst(prefix.count)))
            let message = error.message.hasPrefix(field) ? String(error.message.dropFirst(prefix.count)) : error.message
            throw LedgerError(error.kind, code: error.code, message, details: error.details)
        }
    }

    public func list() throws -> [Token] {
        try ledger.read { database in
            try database.map("SELECT \(Self.columns) FROM access_tokens ORDER BY granted_at, id") { Self.token($0) }
        }
    }

    /// Whether any token exists (the server creates a first admin token when none does).
    public func isEmpty() throws -> Bool { try list().isEmpty }

    /// The principal behind a presented secret, or nil when it is unknown or revoked, read from the table now (the
    /// server uses `TokenTable`, which keeps `activePrincipals()` in memory).
    public func authenticate(_ secret: String) throws -> Principal? {
        try activePrincipals()[Self.hash(secret)]
    }

    /// Every token not revoked, as the principal it authenticates, by the SHA-256 (hex) of its secret: what
    /// `TokenTable` keeps in memory.
    public func activePrincipals() throws -> [String: Principal] { try activePrincipalsAndChangeCount().principals }

    /// `activePrincipals()` with the `changeCount()` they are as of, read together.
    public func activePrincipalsAndChangeCount() throws -> (principals: [String: Principal], changeCount: Int64) {
        try ledger.read { database in
            var principals: [String: Principal] = [:]
            let sql = "SELECT secret_sha256, \(Self.columns) FROM access_tokens WHERE revoked_at IS NULL"
            try database.forEach(sql) { row in
                let token = Self.token(row, from: 1)
                principals[row.text(0)] = Principal(tokenId: token.id, actorId: token.actorId, role: token.role,
                                                    organisations: token.organisations)
            }
            return (principals, try Self.changeCount(database))
        }
    }

    /// How many times the token table has been written to, ever (grants, revocations, rebuilds): equal counts mean
    /// the same tokens. One row, so much cheaper to read than the tokens.
    public func changeCount() throws -> Int64 { try ledger.read { try Self.changeCount($0) } }

    private static func changeCount(_ database: Database) throws -> Int64 {
        try database.scalarInt("SELECT count FROM access_tokens_changes") ?? 0
    }

    private static let columns = "id, role, organisations, actor_id, label, granted_at, revoked_at"

    /// The token in `columns`, starting at column `first` of `row`.
    private static func token(_ row: Statement, from first: Int = 0) -> Token {
        let organisations = (try? JSONParser.parse(row.text(first + 2)))?.arrayValue?.compactMap(\.stringValue) ?? []
        return Token(id: row.text(first), role: Role(rawValue: row.text(first + 1)) ?? .reader,
                     organisations: organisations, actorId: row.text(first + 3), label: row.optionalText(first + 4),
                     grantedAt: Timestamp(millisecondsSinceEpoch: row.int64(first + 5)),
                     revokedAt: row.optionalInt64(first + 6).map(Timestamp.init(millisecondsSinceEpoch:)), secret: nil)
    }

    static func hash(_ secret: String) -> String { SHA256.hash(Array(secret.utf8)).hex }

    static func randomHex(_ bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return Digest.hex((0..<bytes).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }
}
