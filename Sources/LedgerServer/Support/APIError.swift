import Ledger

/// An error answered to an API client: `{"error": {"code", "message", ...details}}` with its HTTP status.
/// Every failure the routes can meet is mapped to a status here, in one place.
public struct APIError: Error, Sendable {
    public let status: Int
    public let body: JSONValue
    public var headers: [(String, String)] = []

    public init(status: Int, code: String, _ message: String, details: JSONObject = [:]) {
        var error = details
        error["code"] = .string(code)
        error["message"] = .string(message)
        self.status = status
        self.body = ["error": .object(error)]
    }

    public init(_ error: LedgerError) {
        self.status = Self.status(of: error.kind)
        self.body = ["error": error.json]
        switch error.kind {
        case .unavailable: headers = [("Retry-After", "1")]
        // The ledger refuses only a token's own scope this way: a contributor writing for another organisation.
        case .forbidden: headers = [Self.insufficientScopeChallenge]
        default: break
        }
    }

    /// The HTTP status of each kind of ledger error.
    public static func status(of kind: LedgerError.Kind) -> Int {
        switch kind {
        case .invalidInput: 400
        case .forbidden: 403
        case .notFound: 404
        case .conflict: 409
        case .domainRule: 422
        case .unavailable: 503
        case .storage: 500
        }
    }

    public static func from(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError: return error
        case let error as LedgerError: return APIError(error)
        default: return APIError(status: 500, code: "internal_error", "the server could not complete the request")
        }
    }

    static func badRequest(_ message: String, field: String? = nil) -> APIError {
        APIError(status: 400, code: "invalid_request", message, details: field.map { ["field": .string($0)] } ?? [:])
    }
    /// No bearer token. A 401 must carry a challenge naming the scheme (RFC 9110 §11.6.1); without a token there is
    /// no error code to give (RFC 6750 §3).
    static let unauthenticated = APIError(status: 401, code: "unauthenticated",
                                          "send a bearer token: Authorization: Bearer <token>")
        .with(header: ("WWW-Authenticate", "Bearer"))
    /// A bearer token that is unknown or revoked (RFC 6750 §3.1 `invalid_token`).
    static let invalidToken = APIError(status: 401, code: "unauthenticated", "the bearer token is unknown or revoked")
        .with(header: ("WWW-Authenticate", #"Bearer error="invalid_token""#))
    static func forbidden(_ message: String) -> APIError { APIError(status: 403, code: "forbidden", message) }
    /// A valid token without the role or organisation the request needs (RFC 6750 §3.1 `insufficient_scope`).
    /// Refusals no token could pass (writing an `access/` stream) are plain `forbidden`.
    static func insufficientScope(_ message: String) -> APIError {
        forbidden(message).with(header: insufficientScopeChallenge)
    }
    static let insufficientScopeChallenge = ("WWW-Authenticate", #"Bearer error="insufficient_scope""#)
    static func notFound(_ message: String) -> APIError { APIError(status: 404, code: "not_found", message) }

    /// The same error with `header` added to its response.
    func with(header: (String, String)) -> APIError {
        var copy = self
        copy.headers.append(header)
        return copy
    }
}
