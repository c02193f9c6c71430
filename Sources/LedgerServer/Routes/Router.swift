import Access
import HTTPServer
import Ledger

/// One route: method, path pattern (`/v1/entities/{kind}/{key}`), the query parameters it takes, the least role
/// that may call it (nil: public), whether its answers may be cached, and its handler.
struct Route: Sendable {
    let method: String
    let pattern: String
    /// Every query parameter the handler reads, as `Schemas/openapi.json` lists them (a test holds the two equal).
    /// Any other name is refused with 400: a misspelt `asof` would otherwise be ignored, and a reviewer asking for
    /// the plan at a past date would silently be shown today's.
    let query: [String]
    let role: Role?
    /// True only when the answer depends on nothing but the committed ledger and the request target: not on the
    /// caller (beyond being allowed to call), not on the clock. Such answers are kept until the next commit.
    let cacheable: Bool
    /// Where the handler runs (see `Work`).
    let work: Work
    let handler: @Sendable (PlanLedgerService, RequestContext) throws -> HTTPResponse
    /// The pattern's segments, split once: every request is matched against every route.
    let segments: [Segment]

    /// What a handler's work is like, which decides where it runs.
    enum Work: Sendable {
        /// Bounded and small (a point read, a proof path, a counter, handing an append to the group commit,
        /// starting a stream): on the connection's event loop.
        case quick
        /// May fold or scan much of the ledger (a plan over a million events takes seconds): off the loop, on the
        /// service's view runner, a bounded number at once, answering `.later` so no other connection waits.
        case view
        /// Waits for a commit of its own (a token granted or revoked): off the loop too, but on a runner of its own,
        /// so that revoking a leaked token never queues behind long views.
        case commit
    }

    enum Segment: Sendable {
        case literal(Substring)
        case parameter(String)
    }

    init(
        method: String, pattern: String, query: [String] = [], role: Role?, cacheable: Bool = false,
        work: Work = .view, handler: @escaping @Sendable (PlanLedgerService, RequestContext) throws -> HTTPResponse
    ) {
        self.method = method
        self.pattern = pattern
        self.query = query
        self.role = role
        self.cacheable = cacheable
        self.work = work
        self.handler = handler
        self.segments = pattern.split(separator: "/").map { segment in
            segment.hasPrefix("{") && segment.hasSuffix("}")
                ? .parameter(String(segment.dropFirst().dropLast())) : .literal(segment)
        }
    }

    /// A request path split into segments, once per request (see `match(_:)`).
    static func pathSegments(_ path: String) -> [Substring] {
        Array(path.split(separator: "/", omittingEmptySubsequences: false).dropFirst())
    }

    /// The path parameters when the path of `parts` (from `pathSegments`) matches, else nil.
    func match(segments parts: [Substring]) -> [String: String]? {
        guard parts.count == segments.count else { return nil }
        var parameters: [String: String] = [:]
        for (part, expected) in zip(parts, segments) {
            switch expected {
            case .literal(let literal):
                guard part == literal else { return nil }
            case .parameter(let name):
                guard !part.isEmpty else { return nil }
                parameters[name] = String(part)
            }
        }
        return parameters
    }

    /// Refuses a query that names a parameter this route does not take, or names one twice (which value would
    /// count is not something a client should have to guess).
    func checkQuery(of request: HTTPRequest) throws {
        var seen: Set<String> = []
        for name in request.queryNames {
            guard query.contains(name) else {
                let hint = query.first { $0.lowercased() == name.lowercased() }.map { " (did you mean \($0)?)" } ?? ""
                let takes = query.isEmpty ? "takes no query parameters" : "takes \(query.joined(separator: ", "))"
                throw APIError.badRequest(
                    "unknown query parameter \(name)\(hint): \(method) \(pattern) \(takes)",
                    field: name)
            }
            guard seen.insert(name).inserted else {
                throw APIError.badRequest("query parameter \(name) is given more than once", field: name)
            }
        }
    }
}

/// What a handler gets: the request, who is calling, the path parameters, and parsers for common query values
/// that answer 400 naming the parameter when a value is malformed.
struct RequestContext: Sendable {
    let request: HTTPRequest
    let principal: Principal?
    /// The least role the route needs (nil: public), for checking the token again later (`authoriseAgain`).
    let requiredRole: Role?
    let parameters: [String: String]
    /// The query parameters the route takes (`Route.query`): a handler reads no other.
    let acceptedQuery: [String]

    func parameter(_ name: String) -> String { parameters[name] ?? "" }

    func query(_ name: String) -> String? {
        assert(acceptedQuery.contains(name), "the route reads \(name), which its Route.query does not list")
        guard let value = request.query[name], !value.isEmpty else { return nil }
        return value
    }

    func integer(_ name: String, default fallback: Int? = nil, range: ClosedRange<Int> = 0...Int.max) throws -> Int? {
        guard let text = query(name) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw APIError.badRequest(
                "query parameter \(name) must be an integer in \(range.lowerBound)...\(range.upperBound)", field: name)
        }
        return value
    }

    func time(_ name: String) throws -> Timestamp? {
        guard let text = query(name) else { return nil }
        guard let time = Timestamp(parsing: text) else {
            throw APIError.badRequest(
                "query parameter \(name) must be an RFC 3339 date-time or a date (2022-06-30)", field: name)
        }
        return time
    }

    /// `organisation=QWO` or `organisation=organisation/QWO`, as a stream name.
    func organisation(_ name: String = "organisation") -> String? {
        query(name).map { $0.hasPrefix("organisation/") ? $0 : "organisation/" + $0 }
    }

    /// The stream named by the `{kind}` and `{key}` path parameters. An `access/` stream (a token's grant and
    /// revocation: its role, holder, label and the secret's hash) is part of the audit log, not of the plan: only a
    /// caller who may read that log (auditor, admin) may read it by name too. (Answers about an `access/` stream are
    /// never cached, so none crosses roles: `PlanLedgerService.route`.)
    func stream() throws -> StreamName {
        guard let stream = StreamName(kind: parameter("kind"), key: parameter("key")) else {
            throw APIError.badRequest("\(parameter("kind"))/\(parameter("key")) is not a stream name", field: "path")
        }
        if stream.kind == TokenRegistry.streamKind, principal?.role.satisfies(.auditor) != true {
            throw APIError.insufficientScope(
                "\(stream) is a token's record, read with the audit log: an auditor's or admin's token is needed")
        }
        return stream
    }

    /// The request body as JSON. Every route that takes a body reads it here, so all of them refuse, with 415 and
    /// before anything is stored, a body that does not say it is JSON (no `Content-Type`, or another media type).
    func json() throws -> JSONValue {
        guard let type = request.headers["content-type"], Self.isJSON(mediaType: type) else {
            throw APIError(
                status: 415, code: "unsupported_media_type",
                "send the body with Content-Type: application/json")
        }
        do {
            return try JSONParser.parse(request.body)
        } catch {
            throw APIError.badRequest("the body is not valid JSON: \(error)", field: "body")
        }
    }

    /// The request body as a JSON object with only the members in `fields` (see `RequestBody`).
    func body(fields: [String]) throws -> RequestBody { try RequestBody(try json(), fields: fields) }

    /// Whether a `Content-Type` value is `application/json`: type and subtype compared whole and regardless of case,
    /// parameters (`; charset=utf-8`) allowed (RFC 9110 §8.3.1). A prefix test would take `application/jsonx`.
    static func isJSON(mediaType value: String) -> Bool {
        func isBlank(_ character: Character) -> Bool { character == " " || character == "\t" }
        var essence = value.prefix { $0 != ";" }
        while let first = essence.first, isBlank(first) { essence = essence.dropFirst() }
        while let last = essence.last, isBlank(last) { essence = essence.dropLast() }
        return essence.lowercased() == "application/json"
    }
}
