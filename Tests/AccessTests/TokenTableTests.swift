import Foundation
import Ledger
import Synchronization
import Testing

@testable import Access

/// The in-memory token table and the commit watch that keeps it exact: grants and revocations committed through
/// another connection to the same file (as another process would) show from the next generation on.
@Suite struct TokenTableTests {
    let path = NSTemporaryDirectory() + "planledger-token-table-\(UUID().uuidString).sqlite"
    let admin = Actor(id: "bootstrap", role: "admin")

    func cleanUp() { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }

    /// A ledger (the caller closes it) holding one token with `role`, and a token table over it.
    func ledgerWithOneToken(_ role: Role) throws -> (Ledger, TokenRegistry, TokenRegistry.Token, TokenTable) {
        let ledger = try Ledger(path: path, hook: AccessProjector())
        let registry = TokenRegistry(ledger: ledger)
        let token = try registry.create(role: role, organisations: [], actorId: "a", label: nil, grantedBy: admin)
        return (ledger, registry, token, TokenTable(registry: registry))
    }

    @Test func generationMovesExactlyWhenSomethingIsCommitted() throws {
        defer { cleanUp() }
        let ledger = try Ledger(path: path, hook: AccessProjector())
        defer { ledger.close() }
        let watch = CommitWatch(path: path)
        let first = try watch.generation()
        #expect(try watch.generation() == first, "nothing committed, nothing changed")

        // A commit by this ledger's own writer.
        _ = try TokenRegistry(ledger: ledger).create(role: .reader, organisations: [], actorId: "a", label: nil, grantedBy: admin)
        let second = try watch.generation()
        #expect(second != first)
        #expect(try watch.generation() == second)

        // A commit by another writer on the same file, as `planledger token create` in another process would make.
        let other = try Ledger(path: path, hook: AccessProjector())
        _ = try TokenRegistry(ledger: other).create(role: .reader, organisations: [], actorId: "b", label: nil, grantedBy: admin)
        other.close()
        #expect(try watch.generation() != second)
    }

    @Test func everyProbeSeesACommitEvenWhenSeveralThreadsHoldProbes() throws {
        defer { cleanUp() }
        let ledger = try Ledger(path: path, hook: AccessProjector())
        defer { ledger.close() }
        let watch = CommitWatch(path: path, maximumProbes: 4)
        // Open every probe by asking from more threads than there are probes (some wait for one), then settle.
        DispatchQueue.concurrentPerform(iterations: 16) { _ in _ = try? watch.generation() }
        let before = try watch.generation()
        _ = try TokenRegistry(ledger: ledger).create(role: .reader, organisations: [], actorId: "a", label: nil, grantedBy: admin)
        // Whichever probe each call gets, none may answer the generation from before the commit.
        let after = Mutex<[Int]>([])
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            if let generation = try? watch.generation() { after.withLock { $0.append(generation) } }
        }
        #expect(after.withLock { $0.count } == 16)
        #expect(after.withLock { $0 }.allSatisfy { $0 != before })
    }

    @Test func grantsAndRevocationsFromAnotherWriterTakeEffectAtTheNextGeneration() throws {
        defer { cleanUp() }
        let (ledger, _, kept, table) = try ledgerWithOneToken(.auditor)
        defer { ledger.close() }
        let watch = CommitWatch(path: path)
        #expect(try table.authenticate(kept.secret!, generation: try watch.generation())?.role == .auditor)
        #expect(try table.authenticate(kept.secret! + "x", generation: try watch.generation()) == nil)

        let other = try Ledger(path: path, hook: AccessProjector())
        defer { other.close() }
        let elsewhere = TokenRegistry(ledger: other)
        let granted = try elsewhere.create(role: .contributor, organisations: ["organisation/QWO"], actorId: "c",
                                           label: nil, grantedBy: admin)
        let principal = try table.authenticate(granted.secret!, generation: try watch.generation())
        #expect(principal == Principal(tokenId: granted.id, actorId: "c", role: .contributor, organisations: ["organisation/QWO"]))

        try elsewhere.revoke(id: kept.id, reason: "left", revokedBy: admin)
        #expect(try table.authenticate(kept.secret!, generation: try watch.generation()) == nil)
        #expect(try table.authenticate(granted.secret!, generation: try watch.generation()) != nil)
    }

    @Test func newGenerationsReloadTheTokensOnlyWhenTheTokensChanged() throws {
        defer { cleanUp() }
        let (ledger, _, token, table) = try ledgerWithOneToken(.reader)
        defer { ledger.close() }
        #expect(try table.authenticate(token.secret!, generation: 1)?.role == .reader)
        #expect(table.reloads.load(ordering: .relaxed) == 1)
        // New generations (other commits) that left the tokens alone: the change count is read, the tokens are not.
        #expect(try table.authenticate(token.secret!, generation: 2)?.role == .reader)
        #expect(try table.authenticate(token.secret!, generation: 3)?.role == .reader)
        #expect(table.reloads.load(ordering: .relaxed) == 1)

        let other = try Ledger(path: path, hook: AccessProjector())
        defer { other.close() }
        let granted = try TokenRegistry(ledger: other).create(role: .auditor, organisations: [], actorId: "b", label: nil,
                                                              grantedBy: admin)
        #expect(try table.authenticate(granted.secret!, generation: 4)?.role == .auditor)
        #expect(table.reloads.load(ordering: .relaxed) == 2)
        try TokenRegistry(ledger: other).revoke(id: token.id, reason: "left", revokedBy: admin)
        #expect(try table.authenticate(token.secret!, generation: 5) == nil)
        #expect(table.reloads.load(ordering: .relaxed) == 3)
        // An older generation arriving late does not replace the newer snapshot.
        #expect(try table.authenticate(token.secret!, generation: 4) == nil)
    }

    @Test func theTableIsServedFromMemoryWhileTheGenerationHolds() throws {
        defer { cleanUp() }
        let (ledger, registry, token, table) = try ledgerWithOneToken(.reader)
        defer { ledger.close() }
        #expect(try table.authenticate(token.secret!, generation: 1) != nil)
        try registry.revoke(id: token.id, reason: "left", revokedBy: admin)
        // Same generation: the caller vouches nothing was committed, so the table is not read again. This is why
        // the server always passes a fresh `CommitWatch` generation.
        #expect(try table.authenticate(token.secret!, generation: 1) != nil)
        #expect(try table.authenticate(token.secret!, generation: 2) == nil)
    }
}
