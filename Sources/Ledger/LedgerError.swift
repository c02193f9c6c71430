/// Why the ledger refused a request: a stable `code`, a human message and structured details (the event index,
/// field path, stream, expected and actual versions...). Each kind maps to one HTTP status in one place.
public struct LedgerError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// Malformed input: bad envelope fields, unknown types, data that fails its schema (HTTP 400).
        case invalidInput
        /// A concurrency or idempotency conflict (HTTP 409).
        case conflict
        /// Well-formed but against a domain rule (HTTP 422).
        case domainRule
        /// Something named does not exist (HTTP 404).
        case notFound
        /// The actor may not do this (HTTP 403): an `AppendCondition` refused the transaction.
        case forbidden
        /// The store is shutting down or overloaded (HTTP 503).
        case unavailable
        /// The database failed (HTTP 500).
        case storage
    }

    public let kind: Kind
    public let code: String
    public let message: String
    public var details: JSONObject

    public init(_ kind: Kind, code: String, _ message: String, details: JSONObject = [:]) {
        self.kind = kind
        self.code = code
        self.message = message
        self.details = details
    }

    public var description: String {
        var text = "\(code): \(message)"
        if !details.isEmpty { text += " " + CanonicalJSON.string(.object(details)) }
        return text
    }

    /// `{"code", "message", ...details}`, the body of an error response.
    public var json: JSONValue {
        var members = details
        members["code"] = .string(code)
        members["message"] = .string(message)
        return .object(members)
    }

    /// The same error, located at event `index` of its transaction (and `field` within it).
    public func at(eventIndex index: Int, field: String? = nil) -> LedgerError {
        var copy = self
        copy.details["index"] = JSONValue(index)
        if let field { copy.details["field"] = .string(field) }
        return copy
    }
}
