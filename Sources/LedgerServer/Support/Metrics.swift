import Foundation
import Synchronization

/// The server's Prometheus metrics: requests by route and status, append latency, ledger size and commits.
/// Rendered in the text exposition format 0.0.4 at `GET /metrics`.
public final class Metrics: Sendable {
    /// Upper bounds (seconds) of the append latency histogram's buckets.
    static let latencyBuckets: [Double] = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

    private struct State {
        var requests: [String: Int] = [:]  // "route\u{0}status"
        var appendBuckets = [Int](repeating: 0, count: Metrics.latencyBuckets.count)
        var appendCount = 0
        var appendSum = 0.0
        var openConnections = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Counts one answered request; `route` is the route's pattern (e.g. `/v1/entities/{kind}/{key}`), never the
    /// raw path, so the number of series stays bounded.
    public func recordRequest(route: String, status: Int) {
        state.withLock { $0.requests["\(route)\u{0}\(status)", default: 0] += 1 }
    }

    public func recordAppend(seconds: Double) {
        state.withLock { state in
            state.appendCount += 1
            state.appendSum += seconds
            if let bucket = Self.latencyBuckets.firstIndex(where: { seconds <= $0 }) { state.appendBuckets[bucket] += 1 }
        }
    }

    /// The exposition text, with the ledger gauges read at scrape time.
    public func render(ledgerSize: Int, commits: Int, transactions: Int) -> String {
        let snapshot = state.withLock { $0 }
        var lines: [String] = [
            "# HELP planledger_http_requests_total HTTP requests answered, by route pattern and status.",
            "# TYPE planledger_http_requests_total counter",
        ]
        for key in snapshot.requests.keys.sorted() {
            let parts = key.split(separator: "\u{0}", omittingEmptySubsequences: false)
            lines.append("planledger_http_requests_total{route=\"\(Self.escape(String(parts[0])))\",status=\"\(parts[1])\"} \(snapshot.requests[key]!)")
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
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
