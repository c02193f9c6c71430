import Foundation
import Ledger
import Testing

@testable import Access

@Suite struct TokenRegistryTests {
    let path = NSTemporaryDirectory() + "planledger-access-\(UUID().uuidString).sqlite"
    let admin = Actor(id: "bootstrap", role: "admin")

    func cleanUp() { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }

    @Test func tokensAuthenticateByHashAndRevocationIsAudited() throws {
        defer { cleanUp() }
        let ledger = try Ledger(path: path, hook: AccessProjector())
        defer { ledger.close() }
        let registry = TokenRegistry(ledger: ledger)
        #expect(try registry.isEmpty())
        let token = try registry.create(role: .contributor, organisations: ["organisation/QWO"], actorId: "pm-1",
                                        label: "planning team", grantedBy: admin)
        let secret = try #require(token.secret)
        let principal = try #require(try registry.authenticate(secret))
        #expect(principal.role == .contributor && principal.organisations == ["organisation/QWO"])
        #expect(principal.actor == Actor(id: "pm-1", role: "contributor", organisation: "organisation/QWO"))
        #expect(try registry.authenticate(secret + "x") == nil)

        // Only the hash is stored, in the ledger and the table.
        let grant = try ledger.stream(StreamName(kind: "access", key: token.id)!)[0]
        #expect(grant.data["secretSha256"]?.stringValue == SHA256.hash(Array(secret.utf8)).hex)
        #expect(!CanonicalJSON.string(grant.json).contains(secret))

        expectError("reason_required") {
            _ = try ledger.append(AppendTransaction(streams: [StreamAppend(
                stream: StreamName(kind: "access", key: token.id)!, events: [ProposedEvent(type: "AccessRevoked", data: [:])])],
                actor: admin))
        }
        try registry.revoke(id: token.id, reason: "left the team", revokedBy: admin)
        #expect(try registry.authenticate(secret) == nil)
        #expect(try registry.list().first?.revokedAt != nil)
        expectError("invalid_transition") { try registry.revoke(id: token.id, reason: "again", revokedBy: admin) }
        let revocation = try ledger.stream(StreamName(kind: "access", key: token.id)!)[1]
        #expect(revocation.type == "AccessRevoked" && revocation.reason == "left the team" && revocation.actor == admin)
    }

    @Test func revokingATokenThatWasNeverGrantedIsNotFoundRatherThanAConflict() throws {
        defer { cleanUp() }
        let ledger = try Ledger(path: path, hook: AccessProjector())
        defer { ledger.close() }
        expectError("not_found") { try TokenRegistry(ledger: ledger).revoke(id: "nope", reason: "typo", revokedBy: admin) }
        #expect(ledger.size == 0)
    }

    @Test func grantsAreValidated() throws {
        defer { cleanUp() }
        let ledger = try Ledger(path: path, hook: AccessProjector())
        defer { ledger.close() }
        let registry = TokenRegistry(ledger: ledger)
        expectError("invalid_data") {
            _ = try registry.create(role: .contributor, organisations: [], actorId: "x", label: nil, grantedBy: admin)
        }
        expectError("invalid_data") {
            _ = try registry.create(role: .reader, organisations: ["goal/G-1"], actorId: "x", label: nil, grantedBy: admin)
        }
        #expect(try registry.isEmpty())
    }

    @Test func tokenTableIsRebuiltFromTheLog() throws {
        defer { cleanUp() }
        let ledger = try Ledger(path: path, hook: AccessProjector())
        let registry = TokenRegistry(ledger: ledger)
        let kept = try registry.create(role: .auditor, organisations: [], actorId: "a", label: nil, grantedBy: admin)
        let gone = try registry.create(role: .reader, organisations: [], actorId: "b", label: nil, grantedBy: admin)
        try registry.revoke(id: gone.id, reason: "expired", revokedBy: admin)
        let changesBefore = try registry.changeCount()
        #expect(changesBefore == 3, "two grants and a revocation")
        ledger.close()
        try ProjectionRebuilder(path: path, hook: AccessProjector()).rebuild()
        let reopened = try Ledger(path: path, hook: AccessProjector())
        defer { reopened.close() }
        let again = TokenRegistry(ledger: reopened)
        #expect(try again.authenticate(kept.secret!)?.role == .auditor)
        #expect(try again.authenticate(gone.secret!) == nil)
        // The change count survives the rebuild and grows, so a token table loaded before it reloads.
        #expect(try again.changeCount() > changesBefore)
    }

    @Test func roleHierarchy() {
        #expect(Role.admin.satisfies(.auditor) && Role.admin.satisfies(.contributor))
        #expect(Role.auditor.satisfies(.reader) && !Role.auditor.satisfies(.contributor))
        #expect(Role.contributor.satisfies(.reader) && !Role.contributor.satisfies(.auditor))
        #expect(!Role.reader.satisfies(.contributor) && !Role.reader.satisfies(.auditor))
    }

    func expectError(_ code: String, _ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try body()
            Issue.record("expected \(code)", sourceLocation: sourceLocation)
        } catch let error as LedgerError {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
        }
    }
}
