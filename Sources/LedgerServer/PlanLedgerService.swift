import Access
import Foundation
import HTTPServer
import Ledger
import Projections

/// The API of DESIGN §4 over one ledger: authenticates the bearer token, checks the route's role, runs the route
/// and turns every failure into `{"error": {...}}` with its status. Thread-safe. A request starts on the event loop
/// of its connection; quick routes answer there (an append hands its transaction to the group commit and answers
/// `.later` once it is durable), and the others run off the loops, a bounded number at a time (`Route.Work`).
public final class PlanLedgerService: Sendable {
    public let ledger: Ledger
    public let model: PlanningReadModel
    public let tokens: TokenRegistry
    /// The tokens in memory, kept exact by `changes`.
    let tokenTable: TokenTable
    /// Whether anything was committed (here or by another process) since a cache was filled.
    let changes: CommitWatch
    /// The ledger's size counting other processes' commits (`/healthz`, `/metrics`).
    let committedSize: CommittedLedgerSize
    let responses = ResponseCache()
    public let metrics: Metrics
    let routes: [Route]
    /// Each route's request counters, by the route's index; and those of requests no route matched.
    private let routeCounters: [Metrics.RouteCounters]
    private let unroutedCounters: Metrics.RouteCounters
    /// The index of `POST /v1/transactions`, whose latency is also recorded as the append latency.
    private let appendRoute: Int?
    /// Seconds between keep-alive comments on the live event stream.
    let keepAliveInterval: Double
    /// The most events one `GET /v1/streams/{kind}/{key}` answers; the response's `next` asks for the rest.
    let streamPageLimit: Int
    /// Where views run (`Route.Work.view`).
    let slowRoutes: SlowRouteRunner
    /// Where token changes run (`Route.Work.commit`): apart from the views, so they never wait behind them.
    let commitRoutes: SlowRouteRunner

    /// - Parameter slowRouteLimit: how many view routes (that fold or scan the ledger) run at once; the others wait
    ///   their turn.
    public convenience init(ledger: Ledger, metrics: Metrics = Metrics(), keepAliveInterval: Double = 15,
                            slowRouteLimit: Int = PlanLedgerService.defaultSlowRouteLimit) {
        self.init(ledger: ledger, metrics: metrics, keepAliveInterval: keepAliveInterval,
                  slowRouteLimit: slowRouteLimit, streamPageLimit: 10_000)
    }

    /// - Parameter streamPageLimit: see `streamPageLimit`; tests make it small rather than append 10,000 events.
    init(ledger: Ledger, metrics: Metrics, keepAliveInterval: Double, slowRouteLimit: Int, streamPageLimit: Int) {
        self.ledger = ledger
        self.streamPageLimit = streamPageLimit
        self.model = PlanningReadModel(ledger: ledger)
        self.tokens = TokenRegistry(ledger: ledger)
        self.tokenTable = TokenTable(registry: tokens)
        self.changes = CommitWatch(path: ledger.path)
        self.committedSize = CommittedLedgerSize(ledger: ledger, changes: changes)
        self.metrics = metrics
        self.keepAliveInterval = keepAliveInterval
        self.slowRoutes = SlowRouteRunner(limit: slowRouteLimit)
        // Token changes are rare and each waits for a group commit: two at once keep one from waiting on another.
        self.commitRoutes = SlowRouteRunner(limit: 2)
        let routes = Self.routes
        self.routes = routes
        self.routeCounters = routes.map { metrics.counters(route: $0.pattern) }
        self.unroutedCounters = metrics.counters(route: "-")
        self.appendRoute = routes.firstIndex { $0.method == "POST" && $0.pattern == "/v1/transactions" }
    }

    /// Two per core, and at least four, so that one long request does not hold up every view.
    public static var defaultSlowRouteLimit: Int { SlowRouteRunner.defaultLimit }

    /// Every route, method and pattern: the table `Schemas/openapi.json` is checked against.
    public var routeTable: [(method: String, pattern: String, query: [String], role: String?)] {
        routes.map { ($0.method, $0.pattern, $0.query, $0.role?.rawValue) }
    }

    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        let started = DispatchTime.now()
        let (response, index) = route(request)
        let counters = index.map { routeCounters[$0] } ?? unroutedCounters
        let isAppend = index != nil && index == appendRoute
        let metrics = self.metrics
        @Sendable func record(_ status: Int) {
            metrics.recordRequest(counters, status: status)
            if isAppend {
                metrics.recordAppend(seconds: Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9)
            }
        }
        guard case .later(let start) = response.body else {
            record(response.status)
            return response
        }
        // Counted when the response is delivered, with its real status and time.
        return .later { pending in
            start(pending.mapped { response in
                record(response.status)
                return response
            })
        }
    }

    /// The response, and the index of the route that answered (nil when none matched the path and method).
    private func route(_ request: HTTPRequest) -> (HTTPResponse, Int?) {
        var allowed: [String] = []
        let segments = Route.pathSegments(request.path)
        for (index, route) in routes.enumerated() {
            guard let parameters = route.match(segments: segments) else { continue }
            guard route.method == request.method || (route.method == "GET" && request.method == "HEAD") else {
                allowed.append(route.method)
                continue
            }
            do {
                var generation: Int?
                var principal: Principal?
                if let required = route.role {
                    // Seen before anything is read, so whatever is read or cached under it is at least this new.
                    let seen = try changes.generation()
                    principal = try authorise(request, requiring: required, generation: seen)
                    generation = seen
                }
                try route.checkQuery(of: request)
                // Never a token's access/ stream: who may read it depends on the caller (`RequestContext.stream()`).
                let cacheable = route.cacheable && parameters["kind"] != TokenRegistry.streamKind
                let cacheKey = cacheable ? generation.map { ($0, request.target) } : nil
                if let (generation, target) = cacheKey,
                    let cached = responses.response(for: target, generation: generation)
                {
                    return (cached, index)
                }
                let context = RequestContext(request: request, principal: principal, requiredRole: route.role,
                                             parameters: parameters, acceptedQuery: route.query)
                let responses = self.responses
                let isQuick = route.work == .quick
                @Sendable func run() throws -> HTTPResponse {
                    // It may have waited long for a slot: a token revoked meanwhile gets nothing.
                    if !isQuick { try self.authoriseAgain(context) }
                    let started = Timestamp.now()
                    let response = try route.handler(self, context)
                    if let (generation, target) = cacheKey, response.status == 200 {
                        // An answer "now" (no validAt) holds only until the next record takes effect.
                        let expiresAt = context.query("validAt") == nil ? try self.model.nextChange(after: started) : nil
                        responses.store(response, for: target, generation: generation, expiresAt: expiresAt)
                    }
                    return response
                }
                switch route.work {
                case .quick: return (try run(), index)
                case .view: return (offTheLoop(run, on: slowRoutes), index)
                case .commit: return (offTheLoop(run, on: commitRoutes), index)
                }
            } catch {
                return (.error(APIError.from(error)), index)
            }
        }
        if !allowed.isEmpty {
            return (.error(APIError(status: 405, code: "method_not_allowed", "use \(allowed.joined(separator: " or ")) on \(request.path)")
                        .with(header: ("Allow", allowed.joined(separator: ", ")))), nil)
        }
        return (.error(APIError.notFound("no route for \(request.method) \(request.path); see /openapi.json")), nil)
    }

    private func authorise(_ request: HTTPRequest, requiring required: Role, generation: Int) throws -> Principal {
        // One credential: with two, which one a proxy or this server reads first would decide who the caller is.
        guard request.headers.count("authorization") <= 1 else {
            throw APIError.badRequest("send one Authorization header", field: "Authorization")
        }
        guard let secret = request.headers["authorization"].flatMap(Self.bearerToken) else {
            throw APIError.unauthenticated
        }
        guard let principal = try tokenTable.authenticate(secret, generation: generation) else {
            throw APIError.invalidToken
        }
        guard principal.role.satisfies(required) else {
            throw APIError.insufficientScope(
                "this route needs the \(required.rawValue) role; the token has \(principal.role.rawValue)")
        }
        return principal
    }

    /// Checks the request's token again against everything committed by now, for work that goes on long after the
    /// request was authorised (a view that waited for a slot, a live stream): a token revoked meanwhile is refused.
    /// - Throws: `APIError` 401 or 403 as `authorise` would answer a new request.
    func authoriseAgain(_ context: RequestContext) throws {
        guard let required = context.requiredRole else { return }
        _ = try authorise(context.request, requiring: required, generation: try changes.generation())
    }

    /// Runs a route that may take long off the event loop, on `runner` (see `Route.Work`), and answers `.later`;
    /// skipped if its client goes away before its turn comes.
    private func offTheLoop(_ run: @escaping @Sendable () throws -> HTTPResponse, on runner: SlowRouteRunner) -> HTTPResponse {
        .later { pending in
            runner.submit(.init(isAbandoned: { pending.isAbandoned }) { refusal in
                let error = switch refusal {
                case .busy: LedgerError(.unavailable, code: "busy", "too many long-running requests are waiting; retry shortly")
                case .stopping: LedgerError(.unavailable, code: "shutting_down", "the server is shutting down")
                }
                pending.deliver { .error(APIError(error)) }
            } run: {
                let result = Result { try run() }
                pending.deliver {
                    switch result {
                    case .success(let response): response
                    case .failure(let error): .error(APIError.from(error))
                    }
                }
            })
        }
    }

    /// Stops `server`, which serves this service, in the order that keeps every request in flight answered as
    /// usual: `stop()`, the server's drain, then `close()`. Close the ledger afterwards.
    public func stop(serving server: HTTPServer) {
        stop()
        server.stop()
        close()
    }

    /// Stops running views and token changes: those waiting for a slot, and any asked for from now on, are
    /// answered 503 `shutting_down` at once; those running finish. Called as the server begins to stop, so that
    /// the stop waits only for work in flight (appends, running views), not for a queue of views. Requests still
    /// in flight are served as before, caches included; `close()` follows once the server has drained them.
    func stop() {
        slowRoutes.stop()
        commitRoutes.stop()
    }

    /// Closes the connections the service keeps beside the ledger's (the commit watch's probes), so that closing the
    /// ledger afterwards can remove its `-wal` and `-shm` files. Called after the server has stopped: a request
    /// answered after it still works, but opens a probe of its own and misses every cache.
    func close() {
        changes.close()
    }

    /// The token of an `Authorization: Bearer <token>` value (scheme case-insensitive, blanks around the token
    /// ignored), or nil. Works on the UTF-8 bytes: it runs on every request.
    static func bearerToken(_ header: String) -> String? {
        let scheme = "bearer "
        // The scheme's bytes, not `header.prefix(7)`: that would find 7 characters (grapheme breaking), a
        // generic call across modules that was 7% of an event loop's time under append load.
        guard HTTPHeaders.hasPrefix(header, caseInsensitive: scheme) else { return nil }
        func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
        var token = header.utf8.dropFirst(scheme.utf8.count)
        while let first = token.first, isBlank(first) { token = token.dropFirst() }
        while let last = token.last, isBlank(last) { token = token.dropLast() }
        return token.isEmpty ? nil : String(token)
    }
}
