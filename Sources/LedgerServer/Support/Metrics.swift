import Foundation
import Synchronization

/// The server's Prometheus metrics: requests by route and status, append latency, ledger size and commits.
/// Rendered in the text exposition format 0.0.4 at `GET /metrics`.
///
/// Every request is counted, so counting must not serialise the connection threads: request counters are atomics,
/// one per (route, status) for the statuses the server answers, registered once per route. Only an unusual status
/// takes a lock. Appends are rare next to reads and wait for an fsync anyway, so their histogram keeps a mutex.
public final class Metrics: Sendable {
    /// Upper bounds (seconds) of the append latency histogram's buckets.
    static let latencyBuckets: [Double] = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

    /// The statuses the API and the HTTP layer answer; each gets a lock-free counter per route.
    static let countedStatuses = [
        200, 201, 400, 401, 403, 404, 405, 408, 409, 411, 413, 415, 422, 431, 500, 501, 503, 505,
    ]

    /// The request counters of one route pattern. Hand it to `recordRequest(_:status:)` on the hot path.
    public final class RouteCounters: Sendable {
        let route: String
        fileprivate let counts: [Counter]

        fileprivate init(route: String) {
            self.route = route
            self.counts = Metrics.countedStatuses.map { _ in Counter() }
        }
    }

    fileprivate final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    private struct State {
        /// Registered routes, by pattern.
        var routes: [String: RouteCounters] = [:]
        /// Counts of statuses outside `countedStatuses`: "route\u{0}status".
        var unusual: [String: Int] = [:]
        var appendBuckets = [Int](repeating: 0, count: Metrics.latencyBuckets.count)
        var appendCount = 0
        var appendSum = 0.0
    }

    private let state = Mutex(State())

    public init() {}

    /// The counters of `route` (a route's pattern, e.g. `/v1/entities/{kind}/{key}`, never the raw path, so the
    /// number of series stays bounded), registering them on first use.
    public func counters(route: String) -> RouteCounters {
        state.withLock { state in
            if let counters = state.routes[route] { return counters }
            let counters = RouteCounters(route: route)
            state.routes[route] = counters
            return counters
        }
    }

    /// Counts one answered request. Takes a lock to find the route's counters: callers that count often keep the
    /// `RouteCounters` and use `recordRequest(_:status:)`.
    public func recordRequest(route: String, status: Int) {
        recordRequest(counters(route: route), status: status)
    }

    /// Counts one answered request of a route whose counters the caller holds: lock-free for the usual statuses.
    public func recordRequest(_ counters: RouteCounters, status: Int) {
        if let index = Self.countedStatuses.firstIndex(of: status) {
            counters.counts[index].value.add(1, ordering: .relaxed)
        } else {
            state.withLock { $0.unusual["\(counters.route)\u{0}\(status)", default: 0] += 1 }
        }
    }

    public func recordAppend(seconds: Double) {
        state.withLock { state in
            state.appendCount += 1
            state.appendSum += seconds
            if let bucket = Self.latencyBuckets.firstIndex(where: { seconds <= $0 }) { state.appendBuckets[bucket] += 1 }
        }
    }

    /// Every non-zero request count, keyed "route\u{0}status".
    private func requestCounts(_ state: State) -> [String: Int] {
        var requests = state.unusual
        for (route, counters) in state.routes {
            for (status, counter) in zip(Self.countedStatuses, counters.counts) {
                let count = counter.value.load(ordering: .relaxed)
                if count > 0 { requests["\(route)\u{0}\(status)"] = count }
            }
        }
        return requests
    }

    /// The exposition text, with the ledger gauges read at scrape time.
    /// - Parameter slowRequests: view requests running, waiting for a slot and skipped, and how many may run at once.
    func render(ledgerSize: Int, commits: Int, transactions: Int,
                slowRequests: (load: SlowRouteRunner.Load, limit: Int) = (.init(), 0)) -> String {
        let (snapshot, requests) = state.withLock { ($0, requestCounts($0)) }
        var lines: [String] = [
            "# HELP planledger_http_requests_total HTTP requests answered, by route pattern and status.",
            "# TYPE planledger_http_requests_total counter",
        ]
        for key in requests.keys.sorted() {
            let parts = key.split(separator: "\u{0}", omittingEmptySubsequences: false)
            lines.append("planledger_http_requests_total{route=\"\(Self.escape(String(parts[0])))\",status=\"\(parts[1])\"} \(requests[key]!)")
        }
        lines += [
            "# HELP planledger_append_duration_seconds Time from receiving an append to its durable commit.",
            "# TYPE planledger_append_duration_seconds histogram",
        ]
        var cumulative = 0
        for (bound, count) in zip(Self.latencyBuckets, snapshot.appendBuckets) {
            cumulative += count
            lines.append("planledger_append_duration_seconds_bucket{le=\"\(bound)\"} \(cumulative)")
        }
        lines += [
            "planledger_append_duration_seconds_bucket{le=\"+Inf\"} \(snapshot.appendCount)",
            "planledger_append_duration_seconds_sum \(snapshot.appendSum)",
            "planledger_append_duration_seconds_count \(snapshot.appendCount)",
            "# HELP planledger_ledger_events Events in the ledger.",
            "# TYPE planledger_ledger_events gauge",
            "planledger_ledger_events \(ledgerSize)",
            "# HELP planledger_commits_total SQLite commits made by the writer since start (group commit shares them).",
            "# TYPE planledger_commits_total counter",
            "planledger_commits_total \(commits)",
            "# HELP planledger_transactions_total Append transactions answered by the writer since start.",
            "# TYPE planledger_transactions_total counter",
            "planledger_transactions_total \(transactions)",
            "# HELP planledger_slow_requests_running Requests to views that fold or scan the ledger being answered now.",
            "# TYPE planledger_slow_requests_running gauge",
            "planledger_slow_requests_running \(slowRequests.load.running)",
            "# HELP planledger_slow_requests_waiting Such requests waiting for one of the --max-slow-requests slots.",
            "# TYPE planledger_slow_requests_waiting gauge",
            "planledger_slow_requests_waiting \(slowRequests.load.waiting)",
            "# HELP planledger_slow_requests_skipped_total Such requests skipped because their client reset the connection while they waited.",
            "# TYPE planledger_slow_requests_skipped_total counter",
            "planledger_slow_requests_skipped_total \(slowRequests.load.skipped)",
            "# HELP planledger_slow_requests_limit How many such requests run at once (--max-slow-requests).",
            "# TYPE planledger_slow_requests_limit gauge",
            "planledger_slow_requests_limit \(slowRequests.limit)",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
