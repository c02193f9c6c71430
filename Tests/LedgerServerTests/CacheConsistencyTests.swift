import Access
import Foundation
import HTTPServer
import Ledger
import Testing

@testable import LedgerServer

/// The server keeps tokens and some answers in memory; none of it may outlive a commit made elsewhere: by another
/// connection in this process, or by another `planledger` process on the same file.
@Suite struct CacheConsistencyTests {
    /// A second writer on the server's file, as another process has.
    static func otherWriter(_ test: TestServer) throws -> Ledger {
        try Ledger(path: test.ledger.path, hook: PlanLedgerHook.standard)
    }

    @Test func tokensGrantedAndRevokedThroughAnotherConnectionTakeEffectAtOnce() throws {
        let test = try TestServer()
        defer { test.stop() }
        // Warm the server's token table first, so a stale table would show.
        #expect(try test.request("GET", "/v1/plan", as: .reader).status == 200)
        let other = try Self.otherWriter(test)
        defer { other.close() }
        let registry = TokenRegistry(ledger: other)
        let granted = try registry.create(role: .reader, organisations: [], actorId: "elsewhere", label: nil,
                                          grantedBy: Actor(id: "test", role: "admin"))
        #expect(try test.request("GET", "/v1/plan", token: granted.secret!).status == 200)
        #expect(try test.request("GET", "/v1/plan", token: granted.secret!).status == 200)

        try registry.revoke(id: granted.id, reason: "left", revokedBy: Actor(id: "test", role: "admin"))
        #expect(try test.request("GET", "/v1/plan", token: granted.secret!).status == 401)
        // The other tokens still work after the table is reloaded.
        #expect(try test.request("GET", "/v1/plan", as: .reader).status == 200)
    }

    @Test func aCachedEntityIsNeverServedAfterACommitElsewhere() throws {
        let test = try TestServer()
        defer { test.stop() }
        let target = "/v1/entities/goal/OBJ-MH"
        let before = try test.request("GET", target, as: .reader)
        #expect(before.status == 200)
        #expect(try test.request("GET", target, as: .reader).json == before.json, "served again, now from the cache")
        let version = try #require(before.json["version"]?.intValue)

        let other = try Self.otherWriter(test)
        _ = try other.append(AppendTransaction(streams: [StreamAppend(
            stream: StreamName("goal/OBJ-MH")!,
            events: [ProposedEvent(type: "GoalStatusAssessed", effectiveAt: Timestamp(parsing: "2023-02-01"),
                                   data: ["status": "on_track", "narrative": "assessed elsewhere"])])],
            actor: Actor(id: "elsewhere", role: "contributor")))
        other.close()
        let after = try test.request("GET", target, as: .reader)
        #expect(after.status == 200 && after.json["version"]?.intValue == version + 1)

        // An append through the server itself invalidates too.
        let appended = try test.request("POST", "/v1/transactions", body: ["streams": [["stream": "goal/OBJ-MH", "events": [
            ["type": "GoalStatusAssessed", "effectiveAt": "2023-03-01", "data": ["status": "at_risk", "narrative": "n"]]]]]])
        #expect(appended.status == 201)
        #expect(try test.request("GET", target, as: .reader).json["version"]?.intValue == version + 2)
        // A past slice is cached under its own target and still answers the past.
        #expect(try test.request("GET", target + "?asOf=2000-01-01", as: .reader).status == 404)
    }

    /// An answer "now" changes when a future-dated record comes into force, with nothing committed: the cache
    /// keeps it only until then. (A past slice is fixed, and stays cached.)
    @Test func aCachedAnswerNowExpiresWhenARecordComesIntoForce() throws {
        let test = try TestServer()
        defer { test.stop() }
        let target = "/v1/entities/goal/OBJ-MH"
        let soon = Timestamp(millisecondsSinceEpoch: Timestamp.now().millisecondsSinceEpoch + 1_500)
        let assessed = try test.request("POST", "/v1/transactions", body: ["streams": [["stream": "goal/OBJ-MH", "events": [
            ["type": "GoalStatusAssessed", "effectiveAt": .string(soon.rfc3339),
             "data": ["status": "off_track", "narrative": "from a moment from now"]]]]]])
        #expect(assessed.status == 201)
        let before = try test.request("GET", target, as: .reader)
        #expect(before.status == 200 && before.json["state"]?["assessment"]?["status"] != "off_track")
        #expect(try test.request("GET", target, as: .reader).json == before.json, "cached until then")
        while Timestamp.now() <= soon { usleep(50_000) }
        let after = try test.request("GET", target, as: .reader)
        #expect(after.json["state"]?["assessment"]?["status"] == "off_track", "\(after.json)")
        #expect(after.json["version"] == before.json["version"].map { JSONValue(($0.intValue ?? 0) + 1) })
    }

    @Test func aCachedAnswerStillNeedsAValidToken() throws {
        let test = try TestServer()
        defer { test.stop() }
        let target = "/v1/entities/goal/OBJ-MH"
        #expect(try test.request("GET", target, as: .reader).status == 200)
        #expect(try test.request("GET", target, as: nil).status == 401)
        #expect(try test.request("GET", target, token: "plt_wrong").status == 401)
    }
}
