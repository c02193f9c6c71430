import Access
import Foundation
import HTTPServer
import Synchronization
import Testing

@testable import LedgerServer

/// Routes that may take long run at most `limit` at a time, the rest in arrival order as running ones finish.
@Suite struct SlowRouteRunnerTests {
    /// A gate jobs wait at until the test opens it.
    final class Gate: Sendable {
        private let semaphore = DispatchSemaphore(value: 0)
        func wait() { semaphore.wait() }
        func open(_ count: Int) { for _ in 0..<count { semaphore.signal() } }
    }

    /// Polls `condition` for up to five seconds.
    func eventually(_ condition: () -> Bool) -> Bool {
        for _ in 0..<500 {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }

    @Test func runsAtMostTheLimitAtOnceAndTheRestInArrivalOrder() {
        let runner = SlowRouteRunner(limit: 2, maximumWaiting: 4)
        let gate = Gate()
        let log = Mutex((started: [Int](), running: 0, mostRunning: 0, finished: 0))
        for index in 0..<6 {
            _ = runner.run {
                log.withLock {
                    $0.started.append(index)
                    $0.running += 1
                    $0.mostRunning = max($0.mostRunning, $0.running)
                }
                gate.wait()
                log.withLock {
                    $0.running -= 1
                    $0.finished += 1
                }
            }
        }
        #expect(eventually { log.withLock { $0.started.count } == 2 })
        #expect(runner.load == (running: 2, waiting: 4))
        #expect(!runner.run { Issue.record("a job beyond the waiting limit ran") })
        gate.open(1)
        #expect(eventually { log.withLock { $0.started.count } == 3 })
        #expect(runner.load == (running: 2, waiting: 3))
        gate.open(5)
        #expect(eventually { log.withLock { $0.finished } == 6 })
        #expect(eventually { runner.load == (running: 0, waiting: 0) })
        let (started, _, mostRunning, _) = log.withLock { $0 }
        #expect(mostRunning == 2)
        // The first two start together in either order; the waiting ones in the order they came.
        #expect(Set(started.prefix(2)) == [0, 1] && Array(started.dropFirst(2)) == [2, 3, 4, 5])
    }

    /// The service's views go through its runner: with every slot taken, a plan request waits for one.
    @Test func aViewWaitsForAFreeSlot() throws {
        let test = try TestServer()
        defer { test.stop() }
        let runner = test.service.slowRoutes
        let gate = Gate()
        for _ in 0..<runner.limit { _ = runner.run { gate.wait() } }
        #expect(eventually { runner.load.running == runner.limit })

        let response = test.handled("/v1/plan", as: .reader)
        guard case .later(let start) = response.body else {
            Issue.record("the plan did not answer later")
            gate.open(runner.limit)
            return
        }
        let status = Mutex<Int?>(nil)
        start { make in status.withLock { $0 = make().status } }
        #expect(eventually { runner.load.waiting == 1 })
        #expect(status.withLock { $0 } == nil)
        guard case .bytes(let body) = test.handled("/metrics", as: nil).body else {
            Issue.record("/metrics did not answer at once")
            gate.open(runner.limit)
            return
        }
        let text = String(decoding: body, as: UTF8.self)
        #expect(text.contains("planledger_slow_requests_running \(runner.limit)\n"), "\(text)")
        #expect(text.contains("planledger_slow_requests_waiting 1\n"), "\(text)")
        gate.open(runner.limit)
        #expect(eventually { status.withLock { $0 } == 200 })
    }

    /// With every view slot taken and the wait full, a view is refused at once with 503 and Retry-After, and a
    /// token revocation (a route of its own kind) is still answered.
    @Test func aFullWaitIsRefusedAndTokenChangesDoNotQueueBehindViews() throws {
        let test = try TestServer()
        defer { test.stop() }
        let runner = test.service.slowRoutes
        let gate = Gate()
        for _ in 0..<(runner.limit + runner.maximumWaiting) { _ = runner.run { gate.wait() } }
        defer { gate.open(runner.limit + runner.maximumWaiting) }
        #expect(eventually { runner.load == (running: runner.limit, waiting: runner.maximumWaiting) })

        let refused = TestServer.delivered(test.handled("/v1/plan"))
        #expect(refused?.status == 503)
        #expect(refused?.headers.contains { $0.0 == "Retry-After" } == true)

        let reader = try test.service.tokens.list().first { $0.role == .reader }!
        let revoked = TestServer.delivered(test.handled("/v1/tokens/\(reader.id)?reason=leaked", method: "DELETE"))
        #expect(revoked?.status == 200 || revoked?.status == 204, "\(String(describing: revoked?.status))")
        #expect(try test.service.tokens.list().first { $0.id == reader.id }?.revokedAt != nil)
    }
}
