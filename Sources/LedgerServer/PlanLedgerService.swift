import Access
import Foundation
import HTTPServer
import Ledger
import Projections

/// The API of DESIGN §4 over one ledger: authenticates the bearer token, checks the route's role, runs the route
/// and turns every failure into `{"error": {...}}` with its status. Thread-safe; each request runs on its
/// connection's thread.
public final class PlanLedgerService: Sendable {
    public let ledger: Ledger
    public let model: PlanningReadModel
    public let tokens: TokenRegistry
    public let metrics: Metrics
    let routes: [Route]
    /// Seconds between keep-alive comments on the live event stream.
    let keepAliveInterval: Double

    public init(ledger: Ledger, metrics: Metrics = Metrics(), keepAliveInterval: Double = 15) {
        self.ledger = ledger
        self.model = PlanningReadModel(ledger: ledger)
        self.tokens = TokenRegistry(ledger: ledger)
        self.metrics = metrics
        self.keepAliveInterval = keepAliveInterval
        self.routes = Self.routes
    }

    /// Every route, method and pattern: the table `Schemas/openapi.json` is checked against.
    public var routeTable: [(method: String, pattern: String, role: String?)] {
        routes.map { ($0.method, $0.pattern, $0.role?.rawValue) }
    }

    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        let started = DispatchTime.now()
        let (response, pattern) = route(request)
        metrics.recordRequest(route: pattern, status: response.status)
        if request.method == "POST" && pattern == "/v1/transactions" {
            metrics.recordAppend(seconds: Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9)
        }
        return response
    }

    private func route(_ request: HTTPRequest) -> (HTTPResponse, String) {
        var allowed: [String] = []
        for route in routes {
            guard let parameters = route.match(request.path) else { continue }
            guard route.method == request.method || (route.method == "GET" && request.method == "HEAD") else {
                allowed.append(route.method)
                continue
            }
            do {
                let principal = try authorise(request, for: route)
                return (try route.handler(self, RequestContext(request: request, principal: principal, parameters: parameters)),
                        route.pattern)
            } catch {
                return (.error(APIError.from(error)), route.pattern)
            }
        }
        if !allowed.isEmpty {
            return (.error(APIError(status: 405, code: "method_not_allowed", "use \(allowed.joined(separator: " or ")) on \(request.path)")
                        .with(header: ("Allow", allowed.joined(separator: ", ")))), "-")
        }
        return (.error(APIError.notFound("no route for \(request.method) \(request.path); see /openapi.json")), "-")
    }

    private func authorise(_ request: HTTPRequest, for route: Route) throws -> Principal? {
        guard let required = route.role else { return nil }
        guard let header = request.headers["authorization"], header.lowercased().hasPrefix("bearer "),
            let principal = try tokens.authenticate(String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces))
        else { throw APIError.unauthenticated }
        guard principal.role.satisfies(required) else {
            throw APIError.forbidden("this route needs the \(required.rawValue) role; the token has \(principal.role.rawValue)")
        }
        return principal
    }
}

extension APIError {
    func with(header: (String, String)) -> APIError {
        var copy = self
        copy.headers.append(header)
        return copy
    }
}
