import Foundation
import SQLite

/// `verify`'s worker threads: each opens its own connection and read transaction and checks ranges of the log
/// (`RangeChecker`) in turn, taking the next unclaimed one, while the calling thread joins the reports in order.
/// Reading SQLite and hashing are then split evenly over the cores, with no copy of the rows between threads.
///
/// A worker's snapshot is at least as new as the joining thread's, which fixed the ranges: it starts reading
/// only after that snapshot was taken. The log and the Merkle nodes are only ever appended to, so every row of
/// the planned ranges reads the same in both (rows appended since lie beyond the last range and are not read).
///
/// Workers run at most `window` ranges ahead of the join, so the reports waiting to be joined stay bounded.
final class RangeWorkers: @unchecked Sendable {
    // @unchecked: all state is guarded by `condition`; a report belongs to its worker until delivered under it.
    private let condition = NSCondition()
    private let plan: RangePlan
    private let window: Int
    private var nextRange = 0
    private var joined = 0
    private var reports: [Int: RangeReport] = [:]
    private var stopping = false
    private var running = 0

    init(path: String, plan: RangePlan, workers: Int) {
        self.plan = plan
        let count = max(1, min(workers, plan.count))
        window = 2 * count + 2
        running = count
        for number in 0..<count {
            let thread = Thread { [self] in work(path: path) }
            thread.name = "planledger-verify-\(number)"
            thread.start()
        }
    }

    /// The report of range `index`, waiting for it; ranges must be taken in order, each once.
    func take(_ index: Int) -> RangeReport {
        condition.lock()
        defer { condition.unlock() }
        while reports[index] == nil { condition.wait() }
        joined = index + 1
        condition.broadcast()
        return reports.removeValue(forKey: index)!
    }

    /// Tells the workers to stop after their current range, and waits until every one has closed its connection.
    func stop() {
        condition.lock()
        defer { condition.unlock() }
        stopping = true
        condition.broadcast()
        while running > 0 { condition.wait() }
    }

    /// The next range to check; nil once all are claimed or the join has stopped.
    private func claim() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while !stopping && nextRange < plan.count && nextRange >= joined + window { condition.wait() }
        guard !stopping, nextRange < plan.count else { return nil }
        nextRange += 1
        return nextRange - 1
    }

    private func deliver(_ index: Int, _ report: RangeReport) {
        condition.lock()
        reports[index] = report
        condition.broadcast()
        condition.unlock()
    }

    private func work(path: String) {
        do {
            let database = try Database(path: path, options: .reading(path))
            try database.transaction(.deferred) {
                let checker = RangeChecker(database: database, plan: plan)
                while let index = claim() { deliver(index, checker.check(range: index)) }
            }
        } catch {
            // The connection could not be opened or read: each range this worker would have checked fails with
            // the error, which the join throws if it gets that far.
            while let index = claim() {
                var report = RangeReport(start: index << plan.level, capacity: 0)
                report.stop = .error(ordinal: 0, error)
                deliver(index, report)
            }
        }
        condition.lock()
        running -= 1
        condition.broadcast()
        condition.unlock()
    }
}
