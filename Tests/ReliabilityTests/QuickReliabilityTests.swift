import Foundation
import Harness
import HTTPServer
import Ledger
import LedgerServer
import Planning
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
        defer {
            // As `serve` stops: views and token changes first, then the server drains, then the service's probes.
            service.stop()
            server.stop()
            service.close()
        }
        let before = try ledger.checkpoint()
        let outcome = HTTPFuzzer(port: server.port, token: admin).run(requests: 300, seconds: 60, seed: 7)
        #expect(outcome.failures.isEmpty, "\(outcome.failures.prefix(5))")
        #expect(outcome.requests == 300)
        #expect(try ledger.checkpoint().size == before.size + outcome.acknowledgedAppends)
        #expect(outcome.acknowledgedAppends == 0, "no mutation of a valid request should have been valid")
        #expect(try LedgerVerifier(path: ledger.path).verify().isValid)
    }
}
