import Foundation
import HTTPServer
import Ledger
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
    static func planledger(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServerProcessTests.binary)
        process.arguments = arguments
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

        init(database: String, accessLog: Bool = false) throws {
            process.executableURL = URL(fileURLWithPath: ServerProcessTests.binary)
            process.arguments = ["serve", "--db", database, "--port", "0"] + (accessLog ? [] : ["--quiet"])
            process.standardOutput = output
            process.standardError = accessLog ? errors : FileHandle.nullDevice
            try process.run()
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

        func terminate() {
            process.terminate()
            process.waitUntilExit()
        }
    }

    @Test func servesPrintsTheFirstAdminTokenAndShutsDownGracefullyKeepingEveryAcknowledgedAppend() throws {
        let directory = NSTemporaryDirectory() + "planledger-process-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = directory + "/ledger.sqlite"
        let server = try Server(database: database)
        #expect(server.port > 0 && server.adminToken.hasPrefix("plt_"))
        let health = try BlockingHTTPClient(port: server.port).request("GET", "/healthz")
        #expect(health.status == 200)

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

        let ledger = try Ledger(path: database)
        defer { ledger.close() }
        let stored = Set(try ledger.events(after: 0, limit: 100_000).map(\.stream.description))
        #expect(!acknowledged.all.isEmpty)
        #expect(acknowledged.all.isSubset(of: stored), "every acknowledged append survived the shutdown")
        #expect(try LedgerVerifier(path: database).verify().isValid)
    }
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
        let directory = NSTemporaryDirectory() + "planledger-process-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = directory + "/ledger.sqlite"
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
        let directory = NSTemporaryDirectory() + "planledger-process-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try ServerProcessTests.Server(database: directory + "/ledger.sqlite", accessLog: true)
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
        let directory = NSTemporaryDirectory() + "planledger-process-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = directory + "/ledger.sqlite"
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
