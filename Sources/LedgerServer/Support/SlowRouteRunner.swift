import Foundation

/// Runs the routes that may take long (`Route.Work.view`, and `.commit` on a runner of its own) off the event loops,
/// at most `limit` at a time, each on a thread of its own; the others wait in arrival order and start as running
/// ones finish.
///
/// Bounded because each of those routes holds a reader connection and the memory of its fold for as long as it
/// runs (on a 1M-event ledger a plan takes seconds, a full-range diff half a minute): a burst of them, one per
/// open connection, would otherwise start hundreds of threads that only compete for the same cores and multiply
/// the memory. The wait is bounded too (`maximumWaiting`; beyond it a request is refused with 503 and Retry-After):
/// the connection limit alone does not bound it, since a client that resets its connection frees the connection
/// while its request still waits. No thread is kept idle, so there is nothing to stop: a thread that finishes a job
/// takes the next waiting one, or ends.
final class SlowRouteRunner: @unchecked Sendable {
    // @unchecked: `running` and `waiting` are guarded by `lock`.
    typealias Job = @Sendable () -> Void

    let limit: Int
    let maximumWaiting: Int
    private let lock = NSLock()
    private var running = 0
    /// In arrival order. At most one per open connection, so taking from the front by `removeFirst` is cheap
    /// beside the jobs themselves.
    private var waiting: [Job] = []

    /// Two per core, and at least four, so that one long request does not hold up every view.
    static var defaultLimit: Int { max(4, 2 * ProcessInfo.processInfo.activeProcessorCount) }

    /// - Parameter maximumWaiting: jobs that may wait for a slot; by default eight per slot.
    init(limit: Int, maximumWaiting: Int? = nil) {
        precondition(limit > 0, "a runner must be able to run something")
        self.limit = limit
        self.maximumWaiting = maximumWaiting ?? 8 * limit
    }

    /// Jobs started and not finished, and jobs waiting to start.
    var load: (running: Int, waiting: Int) {
        lock.withLock { (running, waiting.count) }
    }

    /// Runs `job` now on a new thread if fewer than `limit` are running, or later on the thread of one that
    /// finishes; false (and `job` dropped) when `maximumWaiting` jobs are already waiting.
    func run(_ job: @escaping Job) -> Bool {
        enum Decision { case start, wait, refuse }
        let decision = lock.withLock { () -> Decision in
            if running < limit {
                running += 1
                return .start
            }
            guard waiting.count < maximumWaiting else { return .refuse }
            waiting.append(job)
            return .wait
        }
        guard decision == .start else { return decision == .wait }
        let thread = Thread { [self] in
            var next: Job? = job
            while let current = next {
                current()
                next = takeWaiting()
            }
        }
        thread.name = "planledger-route"
        thread.stackSize = 1 << 20
        thread.start()
        return true
    }

    /// The next waiting job for a thread that finished one; nil (and one fewer running) when none is waiting.
    private func takeWaiting() -> Job? {
        lock.withLock {
            guard !waiting.isEmpty else {
                running -= 1
                return nil
            }
            return waiting.removeFirst()
        }
    }
}
