import Access
import Foundation
import HTTPServer
import Ledger
import Planning
import Synchronization

@testable import LedgerServer

/// The real server (same service, same HTTP layer) on a free loopback port, over a temporary ledger, optionally
/// loaded with the demo story; with a token of every role.
final class TestServer: @unchecked Sendable {
    // @unchecked: set up once in init, then only read.
    let directory = NSTemporaryDirectory() + "planledger-server-" + UUID().uuidString
    let ledger: Ledger
    let service: PlanLedgerService
    let server: HTTPServer
    var tokens: [Role: String] = [:]
    /// A contributor limited to the ICB.
    var icbContributor = ""

    /// - Parameter streamPageLimit: the most events `GET /v1/streams/{kind}/{key}` answers at once.
    init(demo: Bool = true, streamPageLimit: Int = 10_000,
         configure: (inout HTTPServer.Configuration) -> Void = { _ in }) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/ledger.sqlite"
        if demo {
            let clock = DemoClock()
            let loader = try Ledger(path: path, hook: PlanLedgerHook.standard, clock: { clock.now })
            for step in DemoStory.steps() {
                clock.now = step.recordedAt
                _ = try loader.append(step.transaction)
            }
            loader.close()
        }
        ledger = try Ledger(path: path, hook: PlanLedgerHook.standard)
        service = PlanLedgerService(ledger: ledger, metrics: Metrics(), keepAliveInterval: 1,
                                    slowRouteLimit: PlanLedgerService.defaultSlowRouteLimit, streamPageLimit: streamPageLimit)
        let registry = TokenRegistry(ledger: ledger)
        let system = Actor(id: "test", role: "system")
        for role in Role.allCases {
            tokens[role] = try registry.create(role: role, organisations: role == .contributor ? [DemoStory.icb] : [],
                                               actorId: "\(role.rawValue)-1", label: nil, grantedBy: system).secret!
        }
        icbContributor = tokens[.contributor]!
        var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0)
        configuration.headerTimeout = 1
        configure(&configuration)
        server = HTTPServer(configuration: configuration, handler: service.handle)
        try server.start()
    }

    func client() throws -> BlockingHTTPClient { try BlockingHTTPClient(port: server.port) }

    /// One request on a new connection, as `role` (nil: no token).
    func request(_ method: String, _ target: String, as role: Role? = .admin, body: JSONValue? = nil,
                 token: String? = nil) throws -> (status: Int, json: JSONValue, headers: HTTPHeaders)
    {
        var headers: [(String, String)] = []
        if let token = token ?? role.flatMap({ tokens[$0] }) { headers.append(("Authorization", "Bearer \(token)")) }
        if body != nil { headers.append(("Content-Type", "application/json")) }
        let response = try client().request(method, target, headers: headers, body: body.map(CanonicalJSON.encode))
        let json = (try? JSONParser.parse(response.body)) ?? .string(response.text)
        return (response.status, json, response.headers)
    }

    /// `service.handle` called directly, without a socket, as `role` (nil: no token): shows whether a route answers
    /// at once or `.later`.
    func handled(_ target: String, method: String = "GET", as role: Role? = .admin) -> HTTPResponse {
        var headers = HTTPHeaders()
        if let role { headers.add("Authorization", "Bearer \(tokens[role]!)") }
        return service.handle(HTTPRequest(method: method, target: target, headers: headers))
    }

    /// The response a `.later` answer delivers (or the answer itself when it is not `.later`), waiting up to five
    /// seconds; nil when none came.
    static func delivered(_ response: HTTPResponse) -> HTTPResponse? {
        guard case .later(let start) = response.body else { return response }
        let made = Mutex<HTTPResponse?>(nil)
        let done = DispatchSemaphore(value: 0)
        start(PendingResponse { make in
            made.withLock { $0 = make() }
            done.signal()
        })
        return done.wait(timeout: .now() + 5) == .success ? made.withLock { $0 } : nil
    }

    func stop() {
        service.stop(serving: server)
        ledger.close()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

final class DemoClock: Sendable {
    private let time = Mutex(Timestamp(millisecondsSinceEpoch: 0))
    var now: Timestamp {
        get { time.withLock { $0 } }
        set { time.withLock { $0 = newValue } }
    }
}
