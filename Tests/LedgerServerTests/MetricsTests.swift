import Foundation
import Testing

@testable import LedgerServer

/// The request counters: lock-free for the usual statuses, a locked table for the rest, one series per route and
/// status either way, and no count lost when many threads count at once.
@Suite struct MetricsTests {
    @Test func countsUsualAndUnusualStatusesPerRoute() {
        let metrics = Metrics()
        let entity = metrics.counters(route: "/v1/entities/{kind}/{key}")
        #expect(metrics.counters(route: "/v1/entities/{kind}/{key}") === entity, "a route is registered once")
        metrics.recordRequest(entity, status: 200)
        metrics.recordRequest(entity, status: 200)
        metrics.recordRequest(entity, status: 404)
        metrics.recordRequest(entity, status: 418)
        metrics.recordRequest(route: "-", status: 400)
        let text = metrics.render(ledgerSize: 7, commits: 1, transactions: 1)
        #expect(text.contains(#"planledger_http_requests_total{route="/v1/entities/{kind}/{key}",status="200"} 2"#))
        #expect(text.contains(#"planledger_http_requests_total{route="/v1/entities/{kind}/{key}",status="404"} 1"#))
        #expect(text.contains(#"planledger_http_requests_total{route="/v1/entities/{kind}/{key}",status="418"} 1"#))
        #expect(text.contains(#"planledger_http_requests_total{route="-",status="400"} 1"#))
        #expect(!text.contains(#"status="201""#), "statuses never answered are not rendered")
        // Series come out sorted, as before the counters became atomics.
        let series = text.split(separator: "\n").filter { $0.hasPrefix("planledger_http_requests_total{") }
        #expect(series.count == 4 && series == series.sorted())
    }

    @Test func concurrentCountsAreNotLost() {
        let metrics = Metrics()
        let counters = metrics.counters(route: "/v1/plan")
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<10_000 { metrics.recordRequest(counters, status: 200) }
        }
        #expect(metrics.render(ledgerSize: 0, commits: 0, transactions: 0)
            .contains(#"planledger_http_requests_total{route="/v1/plan",status="200"} 80000"#))
    }
}
