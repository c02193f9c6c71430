import Foundation

/// Runs the routes that may take long (`Route.Work.view`, and `.commit` on a runner of its own) off the event loops,
/// at most `limit` at a time, each on a thread of its own; the others wait in arrival order and start as running
/// ones finish.
///
/// Bounded because each of those routes holds a reader connection and the memory of its fold for as long as it
/// runs (on a 1M-event ledger a plan takes seconds, a full-range diff half a minute): a burst of them, one per
/// open connection, would otherwise start hundreds of threads that only compete for the same cores and multiply
/// the memory. The wait is bounded too (`maximumWaiting`; beyond it a job is refused as `.busy`): the connection
/// limit alone does not bound it, since a client that resets its connection frees the connection while its
/// request still waits. Such a request is abandoned (`Job.isAbandoned`): it is skipped when its turn comes, and
/// dropped from the wait at once when the wait is full, so it takes no slot from a client still waiting.
///
/// No thread is kept idle: a thread that finishes a job takes the next waiting one, or ends. `stop()` refuses the
/// waiting jobs and every later one as `.stopping`, so that a server shutting down answers them at once instead
/// of running views for clients it is about to disconnect.
final class SlowRouteRunner: @unchecked Sendable {
    // @unchecked: `running`, `waiting`, `skipped` and `stopped` are guarded by `lock`.

    struct Job: Sendable {
        /// Whether the job's client has gone, so that running the job would be wasted.
        let isAbandoned: @Sendable () -> Bool
        let run: @Sendable () -> Void
        /// Called instead of `run` when the job is refused, on the thread that refuses it.
        let refuse: @Sendable (Refusal) -> Void

        init(isAbandoned: @escaping @Sendable () -> Bool = { false }, refuse: @escaping @Sendable (Refusal) -> Void,
             run: @escaping @Sendable () -> Void) {
            self.isAbandoned = isAbandoned
            self.run = run
            self.refuse = refuse
        }
    }

    enum Refusal: Equatable {
        /// `maximumWaiting` jobs were already waiting.
        case busy
        /// The runner was stopped before the job started.
        case stopping
    }

    /// Jobs running and waiting now, and abandoned jobs skipped so far.
    struct Load: Equatable {
        var running = 0
        var waiting = 0
        var skipped = 0
    }

    let limit: Int
    let maximumWaiting: Int
    private let lock = NSLock()
    private var running = 0
    private var skipped = 0
    /// In arrival order. Bounded by `maximumWaiting`, so taking from the front by `removeFirst` is cheap beside
    /// the jobs themselves.
    private var waiting: [Job] = []
    private var stopped = false

    /// Two per core, and at least four, so that one long request does not hold up every view.
    static var defaultLimit: Int { max(4, 2 * ProcessInfo.processInfo.activeProcessorCount) }

    /// - Parameter maximumWaiting: jobs that may wait for a slot; by default eight per slot.
    init(limit: Int, maximumWaiting: Int? = nil) {
        precondition(limit > 0, "a runner must be able to run something")
        self.limit = limit
        self.maximumWaiting = maximumWaiting ?? 8 * limit
    }

    var load: Load {
        lock.withLock { Load(running: running, waiting: waiting.count, skipped: skipped) }
    }

    /// Runs `job` now on a new thread if fewer than `limit` are running, or later on the thread of one that
    /// finishes; refuses it (on this thread) when `maximumWaiting` jobs not abandoned are already waiting, or
    /// when the runner has stopped.
    func submit(_ job: Job) {
        enum Decision { case start, wait, refuse(Refusal) }
        let decision = lock.withLock { () -> Decision in
            if stopped { return .refuse(.stopping) }
            if running < limit {
                running += 1
                return .start
            }
            if waiting.count >= maximumWaiting {
                let before = waiting.count
                waiting.removeAll { $0.isAbandoned() }
                skipped += before - waiting.count
            }
            guard waiting.count < maximumWaiting else { return .refuse(.busy) }
            waiting.append(job)
            return .wait
        }
        switch decision {
        case .wait: return
        case .refuse(let refusal): job.refuse(refusal)
        case .start:
            let thread = Thread { [self] in
                var next: Job? = job
                while let current = next {
                    current.run()
                    next = takeWaiting()
                }
            }
            thread.name = "planledger-route"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Refuses every waiting job, and every job submitted from now on, as `.stopping`; running ones finish.
    func stop() {
        let refused = lock.withLock {
            stopped = true
            defer { waiting.removeAll() }
            return waiting
        }
        for job in refused { job.refuse(.stopping) }
    }

    /// The next waiting job not abandoned, for a thread that finished one; nil (and one fewer running) when none
    /// is waiting.
    private func takeWaiting() -> Job? {
        lock.withLock {
            while !waiting.isEmpty {
                let job = waiting.removeFirst()
                if !job.isAbandoned() { return job }
                skipped += 1
            }
            running -= 1
            return nil
        }
    }
}
