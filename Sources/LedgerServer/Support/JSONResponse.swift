import HTTPServer
import Ledger

extension HTTPResponse {
    /// A JSON value as the response body, in RFC 8785 canonical form (so envelopes are served exactly as hashed).
    static func json(_ value: JSONValue, status: Int = 200, headers: [(String, String)] = []) -> HTTPResponse {
        .json(status: status, CanonicalJSON.encode(value), headers: headers)
    }

    static func error(_ error: APIError) -> HTTPResponse {
        .json(error.body, status: error.status, headers: error.headers)
    }
}
