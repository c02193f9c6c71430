import Foundation
import Harness
import HTTPServer
import Ledger
import LedgerServer
import Planning
import Projections

#if canImport(Glibc)
import Glibc
#endif

/// `planledger-bench`: the measurements and reliability runs behind Tools/BENCHMARKS.md. Run by Tools/bench.sh and
/// Tools/reliability.sh; each subcommand prints one `key=value` line per result so the scripts can collect them.
let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: "--" + name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}
func number(_ name: String, _ fallback: Int) -> Int { option(name).flatMap(Int.init) ?? fallback }
func seconds(since start: DispatchTime) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9 }
func percentile(_ sorted: [Double], _ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("planledger-bench: \(message)\n".utf8))
    exit(1)
}
func report(_ key: String, _ value: Any) { print("\(key)=\(value)") }

let database = option("db") ?? "bench.sqlite"
do {
    switch arguments.first {
    case "generate":  // P1
        let ledger = try Ledger(path: database, hook: PlanLedgerHook.standard)
        let target = number("events", 1_000_000)
        let before = ledger.size
        let elapsed = try SyntheticLedger.generate(ledger: ledger, events: target, batch: number("batch", 1000)) { size in
            if size % 100_000 < 1000 { FileHandle.standardError.write(Data("\r\(size) events".utf8)) }
        }
        let appended = ledger.size - before
        ledger.close()
        report("events", appended)
        report("seconds", elapsed)
        report("events_per_second", Int(Double(appended) / elapsed))

    case "rebuild":  // P3
        let start = DispatchTime.now()
        let count = try ProjectionRebuilder(path: database, hook: PlanLedgerHook.standard).rebuild()
        let elapsed = seconds(since: start)
        report("events", count)
        report("seconds", elapsed)
        report("events_per_second", Int(Double(count) / elapsed))

    case "queries":  // P4
        let ledger = try Ledger(path: database, hook: PlanLedgerHook.standard)
        defer { ledger.close() }
        let model = PlanningReadModel(ledger: ledger)
        let events = try ledger.events(after: 0, limit: 1_000_000_000)
        let streams = Array(Set(events.map(\.stream))).sorted().filter { $0.kind == "measure" }
        let first = events[100].effectiveAt.millisecondsSinceEpoch, last = events.last!.effectiveAt.millisecondsSinceEpoch
        let firstRecorded = events[100].recordedAt.millisecondsSinceEpoch, lastRecorded = events.last!.recordedAt.millisecondsSinceEpoch
        var random = SeededRandom(seed: 6)
        let count = number("count", 20_000)
        func measure(_ slice: () -> TimeSlice) throws -> [Double] {
            var latencies: [Double] = []
            for _ in 0..<count {
                let stream = streams[Int(random.next() % UInt64(streams.count))]
                let chosen = slice()
                let start = DispatchTime.now()
                _ = try? model.entity(stream, at: chosen)
                latencies.append(seconds(since: start) * 1000)
            }
            return latencies.sorted()
        }
        func past(_ low: Int64, _ high: Int64) -> Timestamp { Timestamp(millisecondsSinceEpoch: low + Int64(random.next() % UInt64(high - low))) }
        _ = try measure { .now }  // warm the page cache and statement caches
        let current = try measure { .now }
        let asOf = try measure { TimeSlice(asOf: past(firstRecorded, lastRecorded)) }
        let validAt = try measure { TimeSlice(validAt: past(first, last)) }
        let both = try measure { TimeSlice(asOf: past(firstRecorded, lastRecorded), validAt: past(first, last)) }
        for (name, latencies) in [("current", current), ("as_of", asOf), ("valid_at", validAt), ("both", both)] {
            report("\(name)_p50_ms", String(format: "%.3f", percentile(latencies, 0.5)))
            report("\(name)_p99_ms", String(format: "%.3f", percentile(latencies, 0.99)))
        }
        report("as_of_ratio_p50", String(format: "%.2f", percentile(asOf, 0.5) / percentile(current, 0.5)))
        report("valid_at_ratio_p50", String(format: "%.2f", percentile(validAt, 0.5) / percentile(current, 0.5)))
        report("both_ratio_p99", String(format: "%.2f", percentile(both, 0.99) / percentile(current, 0.99)))

    case "verify":  // P6
        let start = DispatchTime.now()
        let result = try LedgerVerifier(path: database).verify()
        let elapsed = seconds(since: start)
        guard result.isValid else { fail("verify failed: \(result.failure!)") }
        let ledger = try Ledger(path: database)
        let sample = try ledger.events(after: 0, limit: 20_000)
        ledger.close()
        let meanBytes = sample.map { $0.canonicalBytes.count + 1 }.reduce(0, +) / max(1, sample.count)
        report("events", result.size)
        report("seconds", elapsed)
        report("events_per_second", Int(Double(result.size) / elapsed))
        report("mean_event_bytes", meanBytes)
        report("hashed_mb_per_second", String(format: "%.1f", Double(result.size * meanBytes) / elapsed / 1e6))

    case "http-append":  // P2: concurrent clients, one event per request, durable
        guard let port = option("port").flatMap(Int.init), let token = option("token") else { fail("--port and --token") }
        let clients = number("clients", 64), perClient = number("per-client", 50)
        let latencies = LatencyLog()
        let start = DispatchTime.now()
        // One thread per client: concurrentPerform would run only as many clients at once as there are cores.
        concurrently(clients) { client in
            guard let connection = try? BlockingHTTPClient(port: port) else { return }
            for n in 0..<perClient {
                let body = #"{"streams":[{"stream":"measure/R1-M\#(client % 10)","events":[{"type":"MeasureReadingRecorded","effectiveAt":"2030-01-01","data":{"value":\#(n),"at":"2030-01-01"}}]}]}"#
                let begin = DispatchTime.now()
                guard let response = try? connection.request("POST", "/v1/transactions", headers: [
                    ("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")], body: Array(body.utf8)),
                    response.status == 201
                else { latencies.failure(); continue }
                latencies.add(seconds(since: begin) * 1000)
            }
        }
        let elapsed = seconds(since: start)
        let sorted = latencies.sorted
        report("appends", sorted.count)
        report("failures", latencies.failures)
        report("appends_per_second", Int(Double(sorted.count) / elapsed))
        report("p50_ms", String(format: "%.2f", percentile(sorted, 0.5)))
        report("p99_ms", String(format: "%.2f", percentile(sorted, 0.99)))

    case "inproc-append":  // P2 without HTTP: the same single-event appends from --clients threads, in process
        let ledger = try Ledger(path: database, hook: PlanLedgerHook.standard)
        defer { ledger.close() }
        let clients = number("clients", 64), perClient = number("per-client", 50)
        let latencies = LatencyLog()
        let before = ledger.statistics
        let start = DispatchTime.now()
        concurrently(clients) { client in
            for n in 0..<perClient {
                let append = StreamAppend(stream: StreamName("measure/R1-M\(client % 10)")!, expectedVersion: .any, events: [
                    ProposedEvent(type: "MeasureReadingRecorded", effectiveAt: Timestamp(parsing: "2030-01-01"),
                                  data: ["value": .number(Double(n)), "at": "2030-01-01"])])
                let begin = DispatchTime.now()
                do {
                    _ = try ledger.append(AppendTransaction(streams: [append], actor: Actor(id: "bench", role: "admin")))
                    latencies.add(seconds(since: begin) * 1000)
                } catch {
                    latencies.failure()
                }
            }
        }
        let elapsed = seconds(since: start)
        let sorted = latencies.sorted
        let after = ledger.statistics
        report("appends", sorted.count)
        report("failures", latencies.failures)
        report("appends_per_second", Int(Double(sorted.count) / elapsed))
        report("transactions_per_commit", String(format: "%.1f", Double(after.transactions - before.transactions) / Double(max(1, after.commits - before.commits))))
        report("p50_ms", String(format: "%.2f", percentile(sorted, 0.5)))
        report("p99_ms", String(format: "%.2f", percentile(sorted, 0.99)))

    case "crash-load":  // appends until the server dies, logging each acknowledged event id (fsynced) to --acked
        guard let port = option("port").flatMap(Int.init), let token = option("token"), let acked = option("acked") else {
            fail("--port, --token and --acked")
        }
        guard FileManager.default.createFile(atPath: acked, contents: nil) else { fail("cannot create \(acked)") }
        let log = FileHandle(forWritingAtPath: acked)!
        log.seekToEndOfFile()
        let lock = NSLock()
        let round = option("round") ?? "0"
        concurrently(number("clients", 64)) { client in
            guard let connection = try? BlockingHTTPClient(port: port) else { return }
            for n in 0..<100_000 {
                let id = UUID().uuidString.lowercased()
                let body = #"{"streams":[{"stream":"goal/CR\#(round)-\#(client)-\#(n)","expectedVersion":"noStream","events":[{"id":"\#(id)","type":"GoalDefined","data":{"title":"t","level":"objective","owner":{"organisation":"organisation/ORG-0","role":"r"}}}]},{"stream":"goal/CR\#(round)-\#(client)-\#(n)-B","expectedVersion":"noStream","events":[{"type":"GoalDefined","data":{"title":"t","level":"objective","owner":{"organisation":"organisation/ORG-0","role":"r"}}}]}]}"#
                guard let response = try? connection.request("POST", "/v1/transactions", headers: [
                    ("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")], body: Array(body.utf8)),
                    response.status == 201
                else { return }
                lock.lock()
                log.write(Data("\(id)\n".utf8))
                lock.unlock()
            }
        }

    case "check-acked":  // every acknowledged id is stored exactly once, and no transaction is half stored
        guard let acked = option("acked") else { fail("--acked") }
        let ids = try String(contentsOfFile: acked, encoding: .utf8).split(separator: "\n").map(String.init)
        let ledger = try Ledger(path: database)
        defer { ledger.close() }
        let events = try ledger.events(after: 0, limit: 1_000_000_000)
        var counts: [String: Int] = [:]
        for event in events { counts[event.id, default: 0] += 1 }
        let missing = ids.filter { counts[$0] != 1 }
        let streams = Set(events.map(\.stream.description))
        let halves = streams.filter { $0.hasPrefix("goal/CR") && !$0.hasSuffix("-B") && !streams.contains($0 + "-B") }
        report("acknowledged", ids.count)
        report("missing_or_duplicated", missing.count)
        report("partial_transactions", halves.count)
        if !missing.isEmpty || !halves.isEmpty { fail("lost \(missing.prefix(3)) / partial \(halves.prefix(3))") }

    case "tamper":
        let outcome = try TamperHarness.run(ledgerAt: database, rounds: number("rounds", 1000), seed: UInt64(number("seed", 1))) {
            FileHandle.standardError.write(Data("\($0)\n".utf8))
        }
        report("rounds", outcome.rounds)
        report("undetected_or_misplaced", outcome.failures.count)
        for failure in outcome.failures.prefix(10) { FileHandle.standardError.write(Data("\(failure)\n".utf8)) }
        if !outcome.failures.isEmpty { exit(1) }

    case "fuzz":  // against an in-process server on a copy of --db
        let ledger = try Ledger(path: database, hook: PlanLedgerHook.standard)
        let service = PlanLedgerService(ledger: ledger)
        let token = try service.tokens.create(role: .admin, organisations: [], actorId: "fuzzer", label: nil,
                                              grantedBy: Actor(id: "bench", role: "system")).secret!
        var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0)
        configuration.headerTimeout = 0.5
        configuration.bodyTimeout = 1
        let server = HTTPServer(configuration: configuration, handler: service.handle)
        try server.start()
        let before = try ledger.checkpoint()
        let outcome = HTTPFuzzer(port: server.port, token: token).run(requests: number("requests", 5000),
                                                                       seconds: Double(number("seconds", 300)), seed: UInt64(number("seed", 1)))
        service.stop(serving: server)
        let after = try ledger.checkpoint()
        ledger.close()
        report("requests", outcome.requests)
        report("statuses", outcome.answered.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ","))
        report("closed_without_answer", outcome.closedWithoutAnswer)
        report("stored", after.size - before.size)
        for failure in outcome.failures.prefix(10) { FileHandle.standardError.write(Data("\(failure)\n".utf8)) }
        if !outcome.failures.isEmpty || after.size != before.size + outcome.acknowledgedAppends || outcome.acknowledgedAppends > 0 {
            exit(1)
        }
        guard try LedgerVerifier(path: database).verify().isValid else { fail("verify failed after fuzzing") }

    default:
        fail("usage: planledger-bench generate|rebuild|queries|verify|http-append|inproc-append|crash-load|check-acked|tamper|fuzz [--db PATH] ...")
    }
} catch {
    fail("\(error)")
}

/// Runs `body` on `count` threads at once and waits for all of them.
func concurrently(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        let thread = Thread {
            body(index)
            group.leave()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
    group.wait()
}

final class LatencyLog: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private let lock = NSLock()
    private var values: [Double] = []
    private(set) var failures = 0
    func add(_ value: Double) { lock.lock(); values.append(value); lock.unlock() }
    func failure() { lock.lock(); failures += 1; lock.unlock() }
    var sorted: [Double] { lock.lock(); defer { lock.unlock() }; return values.sorted() }
}
