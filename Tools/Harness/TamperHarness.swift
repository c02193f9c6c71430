import Foundation
import Ledger
import SQLite

/// Random edits made to a ledger's SQLite file behind its back, each with the position `verify` must report.
/// Used by `planledger-bench tamper` (1,000 rounds) and by a quick test in the suite.
public enum TamperHarness {
    public struct Outcome: Sendable {
        public let rounds: Int
        public let failures: [String]
    }

    /// Runs `rounds` edits, each on a fresh copy of the ledger at `path` (which must verify cleanly).
    public static func run(ledgerAt path: String, rounds: Int, seed: UInt64, log: (String) -> Void = { _ in }) throws -> Outcome {
        var random = SeededRandom(seed: seed)
        let size = try Ledger.sizeOf(path: path)
        precondition(size >= 4, "tamper needs a few events")
        var failures: [String] = []
        let scratch = path + ".tamper"
        for round in 0..<rounds {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: scratch + suffix) }
            // The WAL holds committed pages not yet checkpointed into the main file: copy both.
            for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: path + suffix) {
                try FileManager.default.copyItem(atPath: path + suffix, toPath: scratch + suffix)
            }
            let database = try Database(path: scratch)
            let position = Int(random.next(upTo: UInt64(size))) + 1
            let (description, expected) = try edit(database, position: position, size: size, random: &random)
            let report = try LedgerVerifier(path: scratch).verify()
            if report.failure?.position != expected {
                failures.append("round \(round): \(description) — expected position \(expected), verify said \(report.failure.map { "\($0)" } ?? "valid")")
            }
            if round % 100 == 0 { log("round \(round): \(description) → \(report.failure?.code ?? "valid")") }
        }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: scratch + suffix) }
        return Outcome(rounds: rounds, failures: failures)
    }

    /// One random edit of one kind, and the first position that no longer verifies.
    static func edit(_ database: Database, position: Int, size: Int, random: inout SeededRandom) throws -> (String, Int) {
        switch random.next(upTo: 7) {
        case 0:
            try database.run("UPDATE events SET data = json_set(data, '$.tampered', 1) WHERE position = ?1", [.integer(Int64(position))])
            return ("edited data at \(position)", position)
        case 1:
            try database.run("UPDATE events SET recorded_at = recorded_at + 1 WHERE position = ?1", [.integer(Int64(position))])
            return ("moved recordedAt at \(position)", position)
        case 2:
            try database.run("UPDATE events SET actor_id = actor_id || '-x' WHERE position = ?1", [.integer(Int64(position))])
            return ("changed the actor at \(position)", position)
        case 3:
            try database.run("DELETE FROM events WHERE position = ?1", [.integer(Int64(position))])
            return ("deleted \(position)", position)
        case 4:
            let other = position == size ? position - 1 : position + 1 + Int(random.next(upTo: UInt64(size - position)))
            let (low, high) = (min(position, other), max(position, other))
            try database.execute("""
                UPDATE events SET position = -1 WHERE position = \(low);
                UPDATE events SET position = \(low) WHERE position = \(high);
                UPDATE events SET position = \(high) WHERE position = -1;
                """)
            return ("swapped \(low) and \(high)", low)
        case 5:
            // An inserted copy of a row at the end, with its hash recomputed for the new position.
            let copy = try database.first("SELECT \(EventRow.columns) FROM events WHERE position = ?1", [.integer(Int64(position))]) {
                try EventRow.decode($0)
            }!
            let forged = RecordedEvent(position: size + 1, id: UUID().uuidString.lowercased(), stream: copy.stream,
                                       version: copy.version + 10_000, type: copy.type, schemaVersion: copy.schemaVersion,
                                       recordedAt: copy.recordedAt, effectiveAt: copy.effectiveAt, actor: copy.actor,
                                       reason: copy.reason, correlationId: nil, causationId: nil, data: copy.data, hash: copy.hash)
            try database.run(
                "INSERT INTO events (\(EventRow.columns)) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                [.integer(Int64(size + 1)), .text(forged.id), .text(forged.stream.description), .integer(Int64(forged.version)),
                 .text(forged.type), .integer(Int64(forged.schemaVersion)), .integer(forged.recordedAt.millisecondsSinceEpoch + 1),
                 .integer(forged.effectiveAt.millisecondsSinceEpoch), .text(forged.actor.id), .text(forged.actor.role), .null, .null,
                 .null, .null, .text(CanonicalJSON.string(forged.data)), .blob(forged.computedHash.bytes)])
            return ("inserted a row at \(size + 1)", size + 1)
        default:
            // A careful forger: edit the data and recompute that row's leaf hash. The stored tree still disagrees.
            guard position < size || size % 2 == 0 else {
                try database.run("UPDATE events SET reason = 'forged' WHERE position = ?1", [.integer(Int64(position))])
                return ("edited the reason at \(position)", position)
            }
            let record = try database.first("SELECT \(EventRow.columns) FROM events WHERE position = ?1", [.integer(Int64(position))]) {
                try EventRow.decode($0)
            }!
            guard case .object(var data) = record.data else { return ("nothing", 0) }
            data["forged"] = true
            let forged = RecordedEvent(position: record.position, id: record.id, stream: record.stream, version: record.version,
                                       type: record.type, schemaVersion: record.schemaVersion, recordedAt: record.recordedAt,
                                       effectiveAt: record.effectiveAt, actor: record.actor, reason: record.reason,
                                       correlationId: record.correlationId, causationId: record.causationId, data: .object(data),
                                       hash: record.hash)
            try database.run("UPDATE events SET data = ?2, hash = ?3 WHERE position = ?1",
                             [.integer(Int64(position)), .text(CanonicalJSON.string(.object(data))), .blob(forged.computedHash.bytes)])
            // Found through the level-1 Merkle node: the verifier reports the first position of that pair.
            return ("rehashed an edit at \(position)", ((position - 1) & ~1) + 1)
        }
    }
}

extension Ledger {
    /// The number of events in the ledger at `path`.
    public static func sizeOf(path: String) throws -> Int {
        let database = try Database(path: path, options: .init(readOnly: true))
        return Int(try database.scalarInt("SELECT COUNT(*) FROM events") ?? 0)
    }
}

/// SplitMix64: small, fast and reproducible from its seed (the harness's runs, the bench's ledgers, the seeded tests).
public struct SeededRandom: RandomNumberGenerator, Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    public mutating func next(upTo bound: UInt64) -> UInt64 { bound == 0 ? 0 : next() % bound }
}
