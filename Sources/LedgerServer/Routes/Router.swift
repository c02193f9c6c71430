import Access
import HTTPServer
import Ledger

/// One route: method, path pattern (`/v1/entities/{kind}/{key}`), the least role that may call it (nil: public),
/// and its handler.
struct Route: Sendable {
    let method: String
    let pattern: String
    let role: Role?
    let handler: @Sendable (PlanLedgerService, RequestContext) throws -> HTTPResponse

    var segments: [Substring] { pattern.split(separator: "/") }

    /// The path parameters when `path` matches, else nil.
    func match(_ path: String) -> [String: String]? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        let pattern = segments
        guard parts.count == pattern.count else { return nil }
        var parameters: [String: String] = [:]
        for (part, expected) in zip(parts, pattern) {
            if expected.hasPrefix("{") && expected.hasSuffix("}") {
                guard !part.isEmpty else { return nil }
                parameters[String(expected.dropFirst().dropLast())] = String(part)
            } else if part != expected {
                return nil
            }
        }
        return parameters
    }
}

/// What a handler gets: the request, who is calling, the path parameters, and parsers for common query values
/// that answer 400 naming the parameter when a value is malformed.
struct RequestContext {
    let request: HTTPRequest
    let principal: Principal?
    let parameters: [String: String]

    func parameter(_ name: String) -> String { parameters[name] ?? "" }

    func query(_ name: String) -> String? {
        guard let value = request.query[name], !value.isEmpty else { return nil }
        return value
    }

    func integer(_ name: String, default fallback: Int? = nil, range: ClosedRange<Int> = 0...Int.max) throws -> Int? {
        guard let text = query(name) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw APIError.badRequest("query parameter \(name) must be an integer in \(range.lowerBound)...\(range.upperBound)", field: name)
        }
        return value
    }

    func time(_ name: String) throws -> Timestamp? {
        guard let text = query(name) else { return nil }
        guard let time = Timestamp(parsing: text) else {
            throw APIError.badRequest("query parameter \(name) must be an RFC 3339 date-time or a date (2022-06-30)", field: name)
        }
        return time
    }

    /// `organisation=QWO` or `organisation=organisation/QWO`, as a stream name.
    func organisation(_ name: String = "organisation") -> String? {
        query(name).map { $0.hasPrefix("organisation/") ? $0 : "organisation/" + $0 }
    }

    /// The stream named by the `{kind}` and `{key}` path parameters.
    func stream() throws -> StreamName {
        guard let stream = StreamName(kind: parameter("kind"), key: parameter("key")) else {
            throw APIError.badRequest("\(parameter("kind"))/\(parameter("key")) is not a stream name", field: "path")
        }
        return stream
    }

    /// The request body as JSON.
    func json() throws -> JSONValue {
        if let type = request.headers["content-type"], !type.lowercased().hasPrefix("application/json") {
            throw APIError(status: 415, code: "unsupported_media_type", "send the body as application/json")
        }
        do {
            return try JSONParser.parse(request.body)
        } catch {
            throw APIError.badRequest("the body is not valid JSON: \(error)", field: "body")
        }
    }
}
