import Foundation
import HTTPServer
import Ledger
import LedgerServer
import SQLite
import Testing

/// The real `planledger` binary: `serve` on a free port, first-start admin token, and a graceful SIGTERM while
/// clients append — every acknowledged event survives and `verify` passes.
@Suite struct ServerProcessTests {
    static var binary: String {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("planledger").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/planledger").path
    }

    /// Runs the `planledger` binary to completion; its standard output and standard error.
    /// - Parameter user: a user id to run it as instead (through `setpriv`, so only when the tests run as root).
    static func planledger(_ arguments: [String], as user: UInt32? = nil) throws
        -> (status: Int32, output: String, errors: String)
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServerProcessTests.binary)
        process.arguments = arguments
        if let user {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=\(user)", "--regid=\(user)", "--clear-groups", ServerProcessTests.binary] + arguments
        }
        let output = Pipe()
        process.standardOutput = output
        // To a file, not a second pipe: a pipe left unread while standard output is drained could fill and block.
        let errorsPath = NSTemporaryDirectory() + "planledger-stderr-" + UUID().uuidString
        guard FileManager.default.createFile(atPath: errorsPath, contents: nil),
              let errors = FileHandle(forWritingAtPath: errorsPath) else { throw CocoaError(.fileWriteUnknown) }
        defer { try? FileManager.default.removeItem(atPath: errorsPath) }
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try errors.close()
        let errorText = (try? String(contentsOfFile: errorsPath, encoding: .utf8)) ?? ""
        return (process.terminationStatus, String(decoding: data, as: UTF8.self), errorText)
    }

    final class Server {
        let process = Process()
        let output = Pipe()
        var port = 0
        var adminToken = ""

        /// Standard error (the access log) when started with `accessLog`.
        let errors = Pipe()

        /// - Parameter fileSizeLimit: if given, the server runs under a soft `ulimit -f` of this many blocks, so
        ///   that writes past it fail as they would on a full disk (`raiseFileSizeLimit()` makes space again).
        init(database: String, accessLog: Bool = false, fileSizeLimit: Int? = nil, options: [String] = []) throws {
            let arguments = ["serve", "--db", database, "--port", "0"] + (accessLog ? [] : ["--quiet"]) + options
            if let fileSizeLimit {
                process.executableURL = URL(fileURLWithPath: "/bin/sh")
                process.arguments = ["-c", "ulimit -S -f \(fileSizeLimit) && exec \"$0\" \"$@\"", ServerProcessTests.binary] + arguments
            } else {
                process.executableURL = URL(fileURLWithPath: ServerProcessTests.binary)
                process.arguments = arguments
            }
            process.standardOutput = output
            process.standardError = accessLog ? errors : FileHandle.nullDevice
            if fileSizeLimit != nil {
                // The test runs on a thread that blocks most signals, and a child inherits that mask. A blocked
                // SIGXFSZ cannot kill the server as it would in a shell, so start it as a shell would.
                try Self.withNoSignalsBlocked { try process.run() }
            } else {
                try process.run()
            }
            var text = ""
            let deadline = Date(timeIntervalSinceNow: 20)
            while !text.contains("listening on"), Date() < deadline {
                let data = output.fileHandleForReading.availableData
                if data.isEmpty { break }
                text += String(decoding: data, as: UTF8.self)
            }
            for line in text.split(separator: "\n") {
                if line.hasPrefix("admin token") { adminToken = String(line.split(separator: " ").last!) }
                if let range = line.range(of: "http://127.0.0.1:") {
                    port = Int(line[range.upperBound...].prefix { $0.isNumber })!
                }
            }
        }

        private static func withNoSignalsBlocked(_ body: () throws -> Void) rethrows {
            var none = sigset_t(), saved = sigset_t()
            sigemptyset(&none)
            pthread_sigmask(SIG_SETMASK, &none, &saved)
            defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
            try body()
        }

        /// Lifts the file-size limit of a server started with one: as if space had been freed on the disk.
        func raiseFileSizeLimit() -> Bool {
            // glibc's prlimit(2) wrapper, which the Glibc module does not import (it is a GNU extension).
            typealias PRLimit = @convention(c) (pid_t, Int32, UnsafePointer<rlimit>?, UnsafeMutablePointer<rlimit>?) -> Int32
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "prlimit") else { return false }
            var unlimited = rlimit(rlim_cur: rlim_t.max, rlim_max: rlim_t.max)  // RLIM_INFINITY
            return unsafeBitCast(symbol, to: PRLimit.self)(process.processIdentifier, Int32(RLIMIT_FSIZE.rawValue), &unlimited, nil) == 0
        }

        func terminate() {
            process.terminate()
            process.waitUntilExit()
        }
    }

    @Test func servesPrintsTheFirstAdminTokenAndShutsDownGracefullyKeepingEveryAcknowledgedAppend() throws {
        let scratch = try ScratchLedger()
        defer { scratch.remove() }
        let database = scratch.database
        let server = try Server(database: database, options: ["--max-slow-requests", "3"])
        #expect(server.port > 0 && server.adminToken.hasPrefix("plt_"))
        let health = try BlockingHTTPClient(port: server.port).request("GET", "/healthz")
        #expect(health.status == 200)
        let metrics = try BlockingHTTPClient(port: server.port).request("GET", "/metrics")
        #expect(String(decoding: metrics.body, as: UTF8.self).contains("planledger_slow_requests_limit 3\n"))

        // Register an organisation, then let 8 clients append readings-free goals concurrently while we SIGTERM.
        let register = #"{"streams":[{"stream":"organisation/ORG","events":[{"type":"OrganisationRegistered","data":{"name":"Org","kind":"icb"}}]}]}"#
        let headers = [("Authorization", "Bearer \(server.adminToken)"), ("Content-Type", "application/json")]
        #expect(try BlockingHTTPClient(port: server.port).request("POST", "/v1/transactions", headers: headers, body: Array(register.utf8)).status == 201)
        let acknowledged = Acknowledged()
        let port = server.port
        let group = DispatchGroup()
        for client in 0..<8 {
            group.enter()
            Thread {
                defer { group.leave() }
                guard let connection = try? BlockingHTTPClient(port: port) else { return }
                for n in 0..<200 {
                    let body = #"{"streams":[{"stream":"goal/C\#(client)-\#(n)","expectedVersion":"noStream","events":[{"type":"GoalDefined","data":{"title":"g","level":"objective","owner":{"organisation":"organisation/ORG","role":"r"}}}]}]}"#
                    guard let response = try? connection.request("POST", "/v1/transactions", headers: headers, body: Array(body.utf8)),
                        response.status == 201
                    else { return }
                    acknowledged.add("goal/C\(client)-\(n)")
                }
            }.start()
        }
        Thread.sleep(forTimeInterval: 0.3)
        server.terminate()
        #expect(server.process.terminationStatus == 0)
        group.wait()
        // The stopped server folded its write-ahead log into the file, so a copy of the file alone is complete, and
        // closed every connection before its writer's, which removed the -wal and -shm.
        for suffix in ["-wal", "-shm"] {
            #expect(!FileManager.default.fileExists(atPath: database + suffix), "\(suffix) left beside the ledger")
        }

        let ledger = try Ledger(path: database)
        defer { ledger.close() }
        let stored = Set(try ledger.events(after: 0, limit: 100_000).map(\.stream.description))
        #expect(!acknowledged.all.isEmpty)
        #expect(acknowledged.all.isSubset(of: stored), "every acknowledged append survived the shutdown")
        #expect(try LedgerVerifier(path: database).verify().isValid)
    }
}

/// A full disk, made with a file-size limit: appends fail with a storage error and store nothing, reads go on, and
/// once space is back the running server continues from exactly what was acknowledged.
@Suite struct FullDiskProcessTests {
    @Test func appendsFailCleanlyAndNothingAcknowledgedIsLost() throws {
        let scratch = try ScratchLedger()
        defer { scratch.remove() }
        let database = scratch.database
        // 4,000 blocks: 2 or 4 MB depending on the shell; each append below stores about 3 KB of text (tens of KB of
        // pages in the write-ahead log).
        let server = try ServerProcessTests.Server(database: database, fileSizeLimit: 4_000)
        defer { if server.process.isRunning { server.terminate() } }
        let client = try BlockingHTTPClient(port: server.port)
        let headers = [("Authorization", "Bearer \(server.adminToken)"), ("Content-Type", "application/json")]
        func register(_ n: Int) throws -> BlockingHTTPClient.Response {
            let name = "Org \(n) " + String(repeating: "x", count: 3_000)
            let body = #"{"streams":[{"stream":"organisation/ORG-\#(n)","events":[{"type":"OrganisationRegistered","data":{"name":"\#(name)","kind":"icb"}}]}]}"#
            return try client.request("POST", "/v1/transactions", headers: headers, body: Array(body.utf8))
        }

        var acknowledged = 0
        var refused: BlockingHTTPClient.Response?
        while refused == nil, acknowledged < 2_000 {
            let response = try register(acknowledged + 1)
            if response.status == 201 { acknowledged += 1 } else { refused = response }
        }
        let failure = try #require(refused, "the file-size limit was never reached")
        #expect(acknowledged > 10)
        #expect(failure.status == 500)
        #expect(String(decoding: failure.body, as: UTF8.self).contains(#""code":"storage_error""#))
        // The disk stays full: the next appends fail the same way, and reads are still answered.
        for n in 1...3 { #expect(try register(acknowledged + 1 + n).status == 500) }
        let read = try client.request("GET", "/v1/entities/organisation/ORG-1", headers: headers)
        #expect(read.status == 200)
        // Space again: the running server appends from exactly where the acknowledged appends ended.
        try #require(server.raiseFileSizeLimit())
        let resumed = try register(acknowledged + 1)
        #expect(resumed.status == 201)
        acknowledged += 1
        server.terminate()
        #expect(server.process.terminationStatus == 0, "the server stopped when asked, not killed by the limit")

        // Exactly the acknowledged appends are stored, without a gap, and appending goes on after them.
        let ledger = try Ledger(path: database)
        defer { ledger.close() }
        let stored = Set(try ledger.events(after: 0, limit: 100_000).map(\.stream.description))
        #expect(stored.filter { $0.hasPrefix("organisation/") } == Set((1...acknowledged).map { "organisation/ORG-\($0)" }))
        #expect(try LedgerVerifier(path: database).verify().isValid)
        let next = AppendTransaction(streams: [StreamAppend(stream: StreamName("goal/G-1")!, expectedVersion: .noStream,
                                                            events: [ProposedEvent(type: "Noted", data: ["n": 1])])],
                                     actor: Actor(id: "test", role: "admin"))
        #expect(try ledger.append(next).events[0].position == ledger.size)
    }
}

/// A fresh directory for one process test's ledger file; `remove()` it when the test is done.
struct ScratchLedger {
    let directory = NSTemporaryDirectory() + "planledger-process-" + UUID().uuidString
    var database: String { directory + "/ledger.sqlite" }

    init() throws { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

final class Acknowledged: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private let lock = NSLock()
    private var streams: Set<String> = []
    func add(_ stream: String) { lock.lock(); streams.insert(stream); lock.unlock() }
    var all: Set<String> { lock.lock(); defer { lock.unlock() }; return streams }
}

/// Another process granting and revoking tokens on the file a running `planledger serve` holds: the server keeps
/// its tokens in memory, and must still refuse a revoked token from the first request after the revocation.
@Suite struct ServerTokensFromAnotherProcessTests {
    @Test func aTokenRevokedByAnotherProcessIsRefusedAtOnce() throws {
        let scratch = try ScratchLedger()
        defer { scratch.remove() }
        let database = scratch.database
        let server = try ServerProcessTests.Server(database: database)
        defer { server.terminate() }
        let client = try BlockingHTTPClient(port: server.port)
        #expect(try client.request("GET", "/v1/plan", headers: [("Authorization", "Bearer \(server.adminToken)")]).status == 200)

        let created = try ServerProcessTests.planledger(["token", "create", "--role", "reader", "--label", "elsewhere", "--db", database])
        #expect(created.status == 0)
        let lines = created.output.split(separator: "\n")
        let secret = String(try #require(lines.last))
        let id = String(try #require(lines.first?.split(separator: " ").dropFirst().first))
        let bearer = [("Authorization", "Bearer \(secret)")]
        #expect(try client.request("GET", "/v1/plan", headers: bearer).status == 200, "granted elsewhere, accepted here")

        #expect(try ServerProcessTests.planledger(["token", "revoke", id, "--reason", "left", "--db", database]).status == 0)
        #expect(try client.request("GET", "/v1/plan", headers: bearer).status == 401, "revoked elsewhere, refused here")
        #expect(try client.request("GET", "/v1/plan", headers: [("Authorization", "Bearer \(server.adminToken)")]).status == 200)
    }
}

/// The access log is written in batches; an orderly stop must still leave a line for every request answered.
@Suite struct ServerAccessLogProcessTests {
    @Test func everyRequestHasItsLineAfterAGracefulStop() throws {
        let scratch = try ScratchLedger()
        defer { scratch.remove() }
        let server = try ServerProcessTests.Server(database: scratch.database, accessLog: true)
        let port = server.port
        #expect(port > 0)
        let process = server.process
        let errors = server.errors
        let client = try BlockingHTTPClient(port: port)
        for index in 0..<50 { _ = try client.request("GET", "/healthz?n=\(index)") }
        process.terminate()
        let log = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let lines = log.split(separator: "\n").filter { $0.contains(#""path":"/healthz""#) }
        #expect(lines.count == 50)
    }
}

/// A ledger whose projections were written by another version is rebuilt when a command opens it, and the command
/// says so on standard error rather than going quiet for what can be many seconds.
@Suite struct RebuildOnOpenTests {
    @Test func openingALedgerWithOldProjectionsRebuildsThemAndSaysSo() throws {
        let scratch = try ScratchLedger()
        defer { scratch.remove() }
        let database = scratch.database
        #expect(try ServerProcessTests.planledger(["demo", "--db", database]).status == 0)
        let current = try ServerProcessTests.planledger(["plan", "--db", database, "--json"])
        #expect(current.status == 0 && !current.errors.contains("rebuilding"), "current projections are not rebuilt")

        // As a file from before projection layouts were recorded: no layout mark, and no entity rows.
        let events = try { () throws -> Int in
            let connection = try Database(path: database)
            try connection.execute("DELETE FROM projection_meta; DELETE FROM entity_versions")
            return Int(try connection.scalarInt("SELECT COUNT(*) FROM events") ?? 0)
        }()
        let reopened = try ServerProcessTests.planledger(["plan", "--db", database, "--json"])
        #expect(reopened.status == 0)
        #expect(reopened.errors.contains("rebuilding them from the \(events) events of the log"), "\(reopened.errors)")
        #expect(reopened.output == current.output, "the rebuilt projections give the same plan")
        let again = try ServerProcessTests.planledger(["plan", "--db", database, "--json"])
        #expect(!again.errors.contains("rebuilding"), "rebuilt once, then current")
    }
}

/// A ledger file its reader may not write (`chmod 444`, as an archivist keeps a copy): `verify`, `checkpoint` and the
/// views read it without writing anything, not even a `-wal` or `-shm` beside it; a view that would need its
/// projections rebuilt says so. Root may write any file, so as root the commands run as `nobody` through `setpriv`.
@Suite struct WriteProtectedLedgerTests {
    static let canDropToAnotherUser = getuid() != 0 || FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")
    /// Who runs the commands: `nobody` when the tests run as root, else the test's own user.
    static let reader: UInt32? = getuid() == 0 ? 65534 : nil

    /// A new directory the reader may write, as its own directory would be (SQLite could create its -wal and -shm
    /// files there); removed by the caller.
    static func sharedDirectory() throws -> String {
        let directory = NSTemporaryDirectory() + "planledger-readonly-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o777])
        return directory
    }

    @Test(.enabled(if: canDropToAnotherUser))
    func aReaderWhoMayNotWriteTheFileReadsItAndLeavesItAsItWas() throws {
        let directory = try Self.sharedDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let reader = Self.reader
        let ledger = directory + "/ro.sqlite"
        let stale = directory + "/stale.sqlite"
        #expect(try ServerProcessTests.planledger(["demo", "--db", ledger]).status == 0)
        try FileManager.default.copyItem(atPath: ledger, toPath: stale)
        try { try Database(path: stale).run("UPDATE projection_meta SET value = '3' WHERE key = 'layout'") }()
        for file in [ledger, stale] { try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: file) }
        let before = try [ledger, stale].map { try Data(contentsOf: URL(fileURLWithPath: $0)) }

        for command in [["verify"], ["checkpoint"], ["plan", "--organisation", "QWO"], ["get", "goal/AMB-1"], ["get", "--after", "40"],
                        ["decisions"], ["token", "list"], ["export", "--out", directory + "/ccg.jsonl", "--organisation", "QWO-CCG"]] {
            let result = try ServerProcessTests.planledger(command + ["--db", ledger], as: reader)
            #expect(result.status == 0, "\(command): \(result.errors)")
        }
        for command in [["verify"], ["checkpoint"], ["get", "--after", "40"]] {
            let result = try ServerProcessTests.planledger(command + ["--db", stale], as: reader)
            #expect(result.status == 0, "\(command) needs no projections: \(result.errors)")
        }
        let view = try ServerProcessTests.planledger(["plan", "--db", stale], as: reader)
        #expect(view.status == 3 && view.errors.contains("projections_outdated"), "\(view.errors)")
        #expect(!view.errors.contains("CREATE TABLE"), "\(view.errors)")

        #expect(try [ledger, stale].map { try Data(contentsOf: URL(fileURLWithPath: $0)) } == before)
        for file in [ledger, stale] {
            for suffix in ["-wal", "-shm"] { #expect(!FileManager.default.fileExists(atPath: file + suffix), "\(file)\(suffix)") }
        }
        // Made writable again, its owner appends to it as before: nothing left behind blocks the writer.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: ledger)
        #expect(try ServerProcessTests.planledger(["token", "create", "--role", "reader", "--db", ledger]).status == 0)
    }

    /// A copy taken with its `-wal` (commits not yet folded into the file; the README says to copy both) and
    /// without `-shm`, write-protected: a reader who may not write it still reads every committed event.
    @Test(.enabled(if: canDropToAnotherUser))
    func aWriteProtectedCopyWithItsWriteAheadLogIsReadWhole() throws {
        let directory = try Self.sharedDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let reader = Self.reader
        let source = directory + "/source.sqlite"
        let copy = directory + "/copy.sqlite"
        #expect(try ServerProcessTests.planledger(["demo", "--db", source]).status == 0)
        // Open, so the appends below stay in the -wal, as in a server killed before it could fold it.
        let ledger = try Ledger(path: source, hook: PlanLedgerHook.standard)
        for reading in 1...5 {
            _ = try ledger.append(AppendTransaction(streams: [StreamAppend(
                stream: StreamName("measure/M-MH-SMI")!,
                events: [ProposedEvent(type: "MeasureReadingRecorded", effectiveAt: Timestamp(parsing: "2023-03-31"),
                                       data: ["value": JSONValue(3900 + reading), "at": "2023-03-31"])])],
                actor: Actor(id: "test", role: "planner")))
        }
        let checkpoint = try ledger.checkpoint()
        try FileManager.default.copyItem(atPath: source, toPath: copy)
        try FileManager.default.copyItem(atPath: source + "-wal", toPath: copy + "-wal")
        ledger.close()
        #expect((try FileManager.default.attributesOfItem(atPath: copy + "-wal")[.size] as? Int ?? 0) > 0)
        for file in [copy, copy + "-wal"] {
            try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: file)
        }
        let verified = try ServerProcessTests.planledger(
            ["verify", "--db", copy, "--checkpoint", "\(checkpoint.size):\(checkpoint.rootHash.hex)"], as: reader)
        #expect(verified.status == 0, "\(verified.output) \(verified.errors)")
        #expect(verified.output.contains("verified \(checkpoint.size) events"), "\(verified.output)")
    }
}
