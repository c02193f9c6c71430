import Foundation
import Ledger
import Planning
import Synchronization

@testable import Projections

/// A new, empty directory for a test's files, named from `prefix`; the test removes it.
func makeTemporaryDirectory(_ prefix: String) throws -> String {
    let directory = NSTemporaryDirectory() + prefix + UUID().uuidString
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    return directory
}

/// A ledger on a temporary file with the planning hook and a clock the test sets.
final class TestLedger: Sendable {
    let directory: String
    let clock = SettableClock()
    let ledger: Ledger

    init() throws {
        directory = try makeTemporaryDirectory("planledger-projections-")
        let clock = self.clock
        ledger = try Ledger(path: directory + "/ledger.sqlite", hook: PlanningProjector(), clock: { clock.now })
    }

    var path: String { ledger.path }
    var model: PlanningReadModel { PlanningReadModel(ledger: ledger) }

    @discardableResult
    func append(_ transaction: AppendTransaction, at time: Timestamp) throws -> [RecordedEvent] {
        clock.now = time
        return try ledger.append(transaction).events
    }

    /// Loads the demo story.
    static func demo() throws -> TestLedger {
        let test = try TestLedger()
        for step in DemoStory.steps() { try test.append(step.transaction, at: step.recordedAt) }
        return test
    }

    func close() {
        ledger.close()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

func time(_ text: String) -> Timestamp { Timestamp(parsing: text)! }

/// A clock the test sets before each append.
final class SettableClock: Sendable {
    private let time = Mutex(Timestamp(millisecondsSinceEpoch: 0))
    var now: Timestamp {
        get { time.withLock { $0 } }
        set { time.withLock { $0 = newValue } }
    }
}
