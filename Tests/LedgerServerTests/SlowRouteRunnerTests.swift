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
            runner.submit(.init(refuse: { _ in Issue.record("job \(index) was refused") }) {
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
            })
        }
        #expect(eventually { log.withLock { $0.started.count } == 2 })
        #expect(runner.load == .init(running: 2, waiting: 4))
        let refusal = Mutex<SlowRouteRunner.Refusal?>(nil)
        runner.submit(.init(refuse: { reason in refusal.withLock { $0 = reason } }) {
            Issue.record("a job beyond the waiting limit ran")
        })
        #expect(refusal.withLock { $0 } == .busy)
        gate.open(1)
        #expect(eventually { log.withLock { $0.started.count } == 3 })
        #expect(runner.load == .init(running: 2, waiting: 3))
        // One slot at a time, so that each waiting job starts (and logs its start) before the next can: with two
        // slots freed together, two jobs taken in order may log their starts the other way round.
        for started in 4...6 {
            gate.open(1)
            #expect(eventually { log.withLock { $0.started.count } == started })
        }
        gate.open(2)
        #expect(eventually { log.withLock { $0.finished } == 6 })
        #expect(eventually { runner.load == .init(running: 0, waiting: 0) })
        let (started, _, mostRunning, _) = log.withLock { $0 }
        #expect(mostRunning == 2)
        // The first two start together in either order; the waiting ones in the order they came.
        #expect(Set(started.prefix(2)) == [0, 1] && Array(started.dropFirst(2)) == [2, 3, 4, 5])
    }

    /// A waiting job whose client has gone is skipped when its turn comes, and dropped from a full wait at once
    /// so that a job still wanted takes its place instead of being refused.
    @Test func abandonedJobsAreSkippedAndMakeRoomInAFullWait() {
        let runner = SlowRouteRunner(limit: 1, maximumWaiting: 2)
        let gate = Gate()
        let ran = Mutex<[String]>([])
        let gone = Atomic<Bool>(false)
        func job(_ name: String, abandoned: Bool = false) -> SlowRouteRunner.Job {
            .init(isAbandoned: { abandoned && gone.load(ordering: .relaxed) },
                  refuse: { reason in ran.withLock { $0.append("\(name) refused: \(reason)") } }) {
                ran.withLock { $0.append(name) }
                if name == "first" { gate.wait() }
            }
        }
        runner.submit(job("first"))
        #expect(eventually { ran.withLock { $0 } == ["first"] })
        runner.submit(job("left early", abandoned: true))
        runner.submit(job("left later", abandoned: true))
        #expect(runner.load == .init(running: 1, waiting: 2))
        gone.store(true, ordering: .relaxed)
        // The wait is full of jobs whose clients have gone: they make room rather than this one being refused.
        runner.submit(job("still wanted"))
        #expect(runner.load == .init(running: 1, waiting: 1, skipped: 2))
        gate.open(1)
        #expect(eventually { runner.load == .init(running: 0, waiting: 0, skipped: 2) })
        #expect(ran.withLock { $0 } == ["first", "still wanted"])
    }

    /// A stopped runner refuses its waiting jobs and every later one as `.stopping`; the running one finishes.
    @Test func stoppingRefusesWaitingAndLaterJobsAndLetsRunningOnesFinish() {
        let runner = SlowRouteRunner(limit: 1, maximumWaiting: 4)
        let gate = Gate()
        let outcomes = Mutex<[String]>([])
        func job(_ name: String) -> SlowRouteRunner.Job {
            .init(refuse: { reason in outcomes.withLock { $0.append("\(name) refused: \(reason)") } }) {
                outcomes.withLock { $0.append("\(name) started") }
                if name == "running" { gate.wait() }
                outcomes.withLock { $0.append("\(name) finished") }
            }
        }
        runner.submit(job("running"))
        #expect(eventually { outcomes.withLock { $0 } == ["running started"] })
        runner.submit(job("waiting 1"))
        runner.submit(job("waiting 2"))
        runner.stop()
        runner.submit(job("after the stop"))
        #expect(outcomes.withLock { $0 } == ["running started", "waiting 1 refused: stopping",
                                             "waiting 2 refused: stopping", "after the stop refused: stopping"])
        gate.open(1)
        #expect(eventually { runner.load == .init(running: 0, waiting: 0) })
        #expect(outcomes.withLock { $0.last } == "running finished")
    }

    /// Runs `body` against a test server whose view slots are all taken by jobs that wait at the gate it is given.
    func withEverySlotTaken(_ body: (TestServer, SlowRouteRunner, Gate) throws -> Void) throws {
        let test = try TestServer()
        defer { test.stop() }
        let runner = test.service.slowRoutes
        let gate = Gate()
        defer { gate.open(runner.limit) }
        for _ in 0..<runner.limit { runner.submit(.init(refuse: { _ in }) { gate.wait() }) }
        #expect(eventually { runner.load.running == runner.limit })
        try body(test, runner, gate)
    }

    /// Where a `.later` answer lands when it is delivered.
    final class Answer: Sendable {
        private let response = Mutex<HTTPResponse?>(nil)
        var delivered: HTTPResponse? { response.withLock { $0 } }
        var pending: PendingResponse { PendingResponse { make in self.response.withLock { $0 = make() } } }
    }

    /// Asks `test`'s service for the plan as a reader and starts its `.later` answer; nil (an issue recorded) when
    /// the plan answered at once.
    func askForThePlan(_ test: TestServer) -> Answer? {
        guard case .later(let start) = test.handled("/v1/plan", as: .reader).body else {
            Issue.record("the plan did not answer later")
            return nil
        }
        let answer = Answer()
        start(answer.pending)
        return answer
    }

    /// The service's views go through its runner: with every slot taken, a plan request waits for one.
    @Test func aViewWaitsForAFreeSlot() throws {
        try withEverySlotTaken { test, runner, gate in
            guard let answer = askForThePlan(test) else { return }
            #expect(eventually { runner.load.waiting == 1 })
            #expect(answer.delivered == nil)
            guard case .bytes(let body) = test.handled("/metrics", as: nil).body else {
                Issue.record("/metrics did not answer at once")
                return
            }
            let text = String(decoding: body, as: UTF8.self)
            #expect(text.contains("planledger_slow_requests_running \(runner.limit)\n"), "\(text)")
            #expect(text.contains("planledger_slow_requests_waiting 1\n"), "\(text)")
            gate.open(runner.limit)
            #expect(eventually { answer.delivered?.status == 200 })
        }
    }

    /// With every view slot taken and the wait full, a view is refused at once with 503 and Retry-After, and a
    /// token revocation (a route of its own kind) is still answered.
    @Test func aFullWaitIsRefusedAndTokenChangesDoNotQueueBehindViews() throws {
        let test = try TestServer()
        defer { test.stop() }
        let runner = test.service.slowRoutes
        let gate = Gate()
        for _ in 0..<(runner.limit + runner.maximumWaiting) { runner.submit(.init(refuse: { _ in }) { gate.wait() }) }
        defer { gate.open(runner.limit + runner.maximumWaiting) }
        #expect(eventually { runner.load == .init(running: runner.limit, waiting: runner.maximumWaiting) })

        let refused = TestServer.delivered(test.handled("/v1/plan"))
        #expect(refused?.status == 503)
        #expect(refused?.headers.contains { $0.0 == "Retry-After" } == true)

        let reader = try test.service.tokens.list().first { $0.role == .reader }!
        let revoked = TestServer.delivered(test.handled("/v1/tokens/\(reader.id)?reason=leaked", method: "DELETE"))
        #expect(revoked?.status == 200 || revoked?.status == 204, "\(String(describing: revoked?.status))")
        #expect(try test.service.tokens.list().first { $0.id == reader.id }?.revokedAt != nil)
    }

    /// A view is authorised again when its turn comes: a token revoked while the view waited gets 401, not the plan.
    @Test func aViewWhoseTokenIsRevokedWhileItWaitsIsRefused() throws {
        try withEverySlotTaken { test, runner, gate in
            guard let answer = askForThePlan(test) else { return }
            #expect(eventually { runner.load.waiting == 1 })

            let reader = try test.service.tokens.list().first { $0.role == .reader }!
            #expect(TestServer.delivered(test.handled("/v1/tokens/\(reader.id)?reason=leaked", method: "DELETE"))?.status == 200)
            gate.open(runner.limit)
            #expect(eventually { answer.delivered != nil })
            #expect(answer.delivered?.status == 401)
        }
    }

    /// Stopping the service answers the views waiting for a slot 503 `shutting_down` at once, and any view asked
    /// for afterwards; quick routes still answer.
    @Test func stoppingAnswersWaitingViewsAtOnce() throws {
        try withEverySlotTaken { test, runner, gate in
            guard let answer = askForThePlan(test) else { return }
            #expect(eventually { runner.load.waiting == 1 })
            test.service.stop()
            #expect(answer.delivered?.status == 503)
            let after = TestServer.delivered(test.handled("/v1/plan", as: .reader))
            #expect(after?.status == 503)
            guard case .bytes(let body)? = after?.body else {
                Issue.record("no answer after the stop")
                return
            }
            #expect(String(decoding: body, as: UTF8.self).contains("\"shutting_down\""))
            #expect(after?.headers.contains { $0.0 == "Retry-After" } == true)
            #expect(test.handled("/healthz", as: nil).status == 200)
        }
    }

    /// Requests still in flight after the stop are served with the service's caches: the commit watch keeps its
    /// probes until `close()`. (Closed at the stop, every later call opened a probe of its own, and a new probe
    /// moves the generation, so every cached token and answer was dropped while the server drained.)
    @Test func stoppingKeepsTheCachesUntilClosed() throws {
        let test = try TestServer()
        defer { test.stop() }
        test.service.stop()
        let generation = try test.service.changes.generation()
        #expect(try test.service.changes.generation() == generation, "no commit, no new generation")
        #expect(test.handled("/healthz", as: nil).status == 200)
        #expect(try test.service.changes.generation() == generation)
        test.service.close()
        #expect(try test.service.changes.generation() != generation, "a probe opened after the close")
    }

    /// Over a socket: a plan request whose client resets the connection while it waits is skipped, and counted.
    @Test func aViewWhoseClientResetsWhileItWaitsIsSkipped() throws {
        try withEverySlotTaken { test, runner, gate in
            do {
                let client = try test.client()
                client.resetOnClose()
                try client.sendRaw("GET /v1/plan HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(test.tokens[.reader]!)\r\n\r\n")
                #expect(eventually { runner.load.waiting == 1 })
            }  // reset here
            usleep(200_000)  // for the loop to see the reset
            gate.open(runner.limit)
            #expect(eventually { runner.load == .init(running: 0, waiting: 0, skipped: 1) })
            let metrics = try test.client().request("GET", "/metrics").text
            #expect(metrics.contains("planledger_slow_requests_skipped_total 1\n"), "\(metrics)")
        }
    }
}
