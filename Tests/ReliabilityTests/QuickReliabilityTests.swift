import Foundation
import Harness
import HTTPServer
import Ledger
import LedgerServer
import Planning
import SQLite
import Synchronization
import Testing

/// Quick versions of the reliability runs (`Tools/reliability.sh` runs the full ones).
@Suite struct QuickReliabilityTests {
    let directory = NSTemporaryDirectory() + "planledger-reliability-" + UUID().uuidString

    init() throws { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }

    func demoLedger() throws -> Ledger {
        let clock = Mutex(Timestamp(millisecondsSinceEpoch: 0))
        let path = directory + "/ledger.sqlite"
        let loader = try Ledger(path: path, hook: PlanLedgerHook.standard, clock: { clock.withLock { $0 } })
        for step in DemoStory.steps() {
            clock.withLock { $0 = step.recordedAt }
            _ = try loader.append(step.transaction)
        }
        loader.close()
        return try Ledger(path: path, hook: PlanLedgerHook.standard)
    }

    @Test func randomTamperingIsFoundAtTheRightPosition() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ledger = try demoLedger()
        ledger.close()
        let outcome = try TamperHarness.run(ledgerAt: ledger.path, rounds: 60, seed: 42)
        #expect(outcome.failures.isEmpty, "\(outcome.failures)")
    }

    @Test func fuzzedRequestsNeverCrashHangOrStore() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ledger = try demoLedger()
        defer { ledger.close() }
        let service = PlanLedgerService(ledger: ledger)
        let admin = try service.tokens.create(role: .admin, organisations: [], actorId: "fuzz", label: nil,
                                              grantedBy: Actor(id: "test", role: "system")).secret!
        var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0)
        configuration.headerTimeout = 0.2
        configuration.bodyTimeout = 0.5
        configuration.limits.maximumBodyBytes = 1 << 20
        let server = HTTPServer(configuration: configuration, handler: service.handle)
        try server.start()
        defer { service.stop(serving: server) }
        let before = try ledger.checkpoint()
        let outcome = HTTPFuzzer(port: server.port, token: admin).run(requests: 300, seconds: 60, seed: 7)
        #expect(outcome.failures.isEmpty, "\(outcome.failures.prefix(5))")
        #expect(outcome.requests == 300)
        #expect(try ledger.checkpoint().size == before.size + outcome.acknowledgedAppends)
        #expect(outcome.acknowledgedAppends == 0, "no mutation of a valid request should have been valid")
        #expect(try LedgerVerifier(path: ledger.path).verify().isValid)
    }

    /// The C baselines of `Tools/bench.sh` read a ledger's own tables: P1's copies every row a ledger stores in the
    /// order it was written (so it knows where each projection row comes from in the log), P6's context steps through
    /// the log. A change of layout must keep them working; layout 6 once broke the first, and only a full benchmark
    /// run showed it. Built with the toolchain's `clang`, which builds this package's own C targets.
    @Test func theBenchmarkBaselinesReadALedgerOfThisLayout() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ledger = try demoLedger()
        let events = ledger.size
        ledger.close()
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let baseline = directory + "/sqlite_baseline"
        let compiled = try Self.run("/usr/bin/env", ["clang", "-O1", "-o", baseline,
                                                     root + "/Tools/baseline/sqlite_baseline.c", "-lsqlite3"])
        #expect(compiled.status == 0, "\(compiled.output)")
        guard compiled.status == 0 else { return }

        let copy = directory + "/copy.sqlite"
        let copied = try Self.run(baseline, ["ledger", directory + "/ledger.sqlite", copy])
        #expect(copied.status == 0, "\(copied.output)")
        let source = try Database(path: directory + "/ledger.sqlite", options: .init(readOnly: true))
        let target = try Database(path: copy, options: .init(readOnly: true))
        defer {
            source.close()
            target.close()
        }
        let tables = try source.map("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'") {
            $0.text(0)
        }
        #expect(tables.contains("entity_versions") && tables.contains("events"))
        var rows: Int64 = 0
        for table in tables {
            let count = try source.scalarInt("SELECT COUNT(*) FROM \"\(table)\"") ?? -1
            #expect(try target.scalarInt("SELECT COUNT(*) FROM \"\(table)\"") == count, "\(table)")
            rows += count
        }
        #expect(copied.output.contains("rows=\(rows)\n") && copied.output.contains("events=\(events)\n"), "\(copied.output)")

        let scanned = try Self.run(baseline, ["scan", directory + "/ledger.sqlite"])
        #expect(scanned.status == 0 && scanned.output.contains("rows=\(events)\n"), "\(scanned.output)")
    }

    /// Runs `program` and waits; its standard output and error together.
    static func run(_ program: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}
