import Testing
import Foundation
import Synchronization

@testable import Ledger

/// A fresh directory under the system's temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "planledger-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// An array many tasks append to.
final class Collected<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])
    func append(contentsOf elements: [Element]) { items.withLock { $0.append(contentsOf: elements) } }
    var all: [Element] { items.withLock { $0 } }
}

/// A clock tests can set, including backwards.
final class ManualClock: Sendable {
    private let now: Mutex<Int64>

    init(_ start: String = "2022-06-01T09:00:00Z") { now = Mutex(Timestamp(parsing: start)!.millisecondsSinceEpoch) }

    func set(_ text: String) { now.withLock { $0 = Timestamp(parsing: text)!.millisecondsSinceEpoch } }

    func advance(milliseconds: Int64) { now.withLock { $0 += milliseconds } }

    var function: @Sendable () -> Timestamp { { [self] in Timestamp(millisecondsSinceEpoch: now.withLock { $0 }) } }
}

let testActor = Actor(id: "user-1", role: "governance-officer", organisation: "organisation/QWO")

func event(_ type: String = "Noted", id: String? = nil, effectiveAt: String? = nil, reason: String? = nil,
           _ data: JSONValue = ["n": 1]) -> ProposedEvent
{
    ProposedEvent(id: id, type: type, effectiveAt: effectiveAt.flatMap(Timestamp.init(parsing:)), reason: reason,
                  data: data)
}

func transaction(_ stream: String, _ expected: ExpectedVersion = .any, _ events: ProposedEvent...) -> AppendTransaction {
    AppendTransaction(streams: [StreamAppend(stream: StreamName(stream)!, expectedVersion: expected, events: events)],
                      actor: testActor)
}

/// Expects `body` to throw a `LedgerError` with `code`, and returns it.
@discardableResult
func expectLedgerError(_ code: String, _ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation)
    -> LedgerError?
{
    do {
        try body()
        Issue.record("expected \(code), nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as LedgerError {
        if error.code != code { Issue.record("expected \(code), got \(error)", sourceLocation: sourceLocation) }
        return error
    } catch {
        Issue.record("expected \(code), got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

