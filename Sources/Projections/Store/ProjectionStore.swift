import Ledger
import Planning
import SQLite

/// Bitemporal reads of the projection tables on one connection. Used by the domain's checks during an append
/// (on the writer's connection, seeing the transaction's earlier events) and by every view (on a reader).
struct ProjectionStore: PlanningStateReader {
    let database: Database
    /// The slice reads default to; the domain's checks read "as recorded so far", future-dated records included.
    var slice: TimeSlice = .latest
    /// Latest states already folded on this connection (the writer's and rebuild's; views read at a slice).
    var cache: LatestStateCache? = nil
    /// The event being folded, while the projections are updated (appends, rebuild). The log already holds it and
    /// whatever follows it (the rest of its transaction; in a rebuild, the whole log), so reads of the log see only
    /// the events before it: exactly what the projection tables have been given so far.
    var folding: FoldPoint? = nil

    // MARK: PlanningStateReader

    func entity(_ stream: StreamName, validAt: Timestamp?) throws -> EntityState? {
        if let cached = cache?.state(of: stream), slice == .latest, validAt == nil || validAt! >= cached.updatedAt {
            // Valid time only grows along a stream, so the latest state is also the state at any later valid time.
            return cached
        }
        // A copy of the store's slice, not a new one: a new slice without validAt would mean "in force now", and the
        // domain's checks read "latest" (a goal defined to start next year can be revised today).
        var at = slice
        if let validAt { at.validAt = validAt }
        return try entity(stream, at: at)
    }

    func owner(of stream: StreamName, at: Timestamp) throws -> String? {
        var slice = self.slice
        slice.validAt = at
        return try owner(of: stream, at: slice)
    }

    // MARK: Entities

    /// The stream's state at `slice`. Along a stream both times only grow with the version, so the versions visible
    /// at (asOf, validAt) are a prefix, and `visibleVersion` names its last.
    func entity(_ stream: StreamName, at slice: TimeSlice) throws -> EntityState? {
        guard let version = try visibleVersion(stream.description, at: slice) else { return nil }
        return try state(of: stream, version: version)
    }

    /// The state after `version`: the nearest snapshot at or below it (one seek back from where the version's key
    /// would be), then the log's events up to it folded in.
    func state(of stream: StreamName, version: Int) throws -> EntityState? {
        guard var state = try database.first(
            """
            SELECT version, status, created_at, effective_at, fields FROM entity_versions
            WHERE stream = ?1 AND version <= ?2 ORDER BY version DESC LIMIT 1
            """, [.text(stream.description), .integer(Int64(version))], { row in
            EntityState(stream: stream, version: row.int(0), status: row.text(1),
                        createdAt: Timestamp(millisecondsSinceEpoch: row.int64(2)),
                        updatedAt: Timestamp(millisecondsSinceEpoch: row.int64(3)),
                        fields: try row.withBytes(4) { try JSONParser.parse($0) })
            }) else { return nil }
        guard state.version < version else { return state }
        let events = try Ledger.streamEvents(stream, fromVersion: state.version + 1, limit: version - state.version,
                                             in: database)
        for event in events { state = PlanningDomain.evolve(state, event) }
        guard state.version == version else {
            throw LedgerError(.storage, code: "storage_error",
                              "the log holds \(stream) up to version \(state.version), its projection up to \(version)")
        }
        return state
    }

    /// The newest version visible at `slice`, from the log's indexes. Along a stream both times only grow with the
    /// version, so one seek finds the newest version recorded by asOf; if that one is not yet in force at validAt,
    /// every version in force then is older, and a second seek on the valid-time index finds the newest of them.
    func visibleVersion(_ stream: String, at slice: TimeSlice) throws -> Int? {
        var recordedBound = slice.recordedBound
        var positionBound = Int64.max
        if let folding {
            recordedBound = min(recordedBound, folding.recordedAt)
            positionBound = Int64(folding.position)
        }
        guard let recorded = try database.first(
            """
            SELECT version, effective_at FROM events INDEXED BY events_by_stream_recorded
            WHERE stream = ?1 AND recorded_at <= ?2 AND position < ?3 ORDER BY recorded_at DESC, version DESC LIMIT 1
            """, [.text(stream), .integer(recordedBound), .integer(positionBound)], {
                (version: $0.int(0), effectiveAt: $0.int64(1))
            }) else { return nil }
        let effectiveBound = slice.effectiveBound
        if recorded.effectiveAt <= effectiveBound { return recorded.version }
        // Older than `recorded`, so recorded by asOf and (in a fold) before the event being folded.
        return try database.first(
            """
            SELECT version FROM events INDEXED BY events_by_stream_effective
            WHERE stream = ?1 AND effective_at <= ?2 ORDER BY effective_at DESC, version DESC LIMIT 1
            """, [.text(stream), .integer(effectiveBound)]) { $0.int(0) }
    }

    /// Streams of `kind` that exist at `slice`, in name order.
    func streams(ofKind kind: String, at slice: TimeSlice) throws -> [StreamName] {
        try database.map(
            """
            SELECT stream FROM entity_versions
            WHERE kind = ?1 AND version = 1 AND recorded_at <= ?2 AND effective_at <= ?3 ORDER BY stream
            """, [.text(kind), .integer(slice.recordedBound), .integer(slice.effectiveBound)]
        ) { StreamName($0.text(0))! }
    }

    // MARK: Ownership

    /// The owner at `slice`: the latest ownership row in force at validAt among those recorded by asOf. A handover
    /// recorded later but effective earlier changes `validAt` answers from the day it was recorded on.
    func owner(of stream: StreamName, at slice: TimeSlice) throws -> String? {
        try database.first(
            """
            SELECT organisation FROM ownership
            WHERE stream = ?1 AND effective_at <= ?2 AND recorded_at <= ?3
            ORDER BY effective_at DESC, position DESC LIMIT 1
            """, [.text(stream.description), .integer(slice.effectiveBound), .integer(slice.recordedBound)]
        ) { $0.text(0) }
    }

    /// Every stream `organisation` owned at `slice`.
    func owned(by organisation: String, at slice: TimeSlice) throws -> [StreamName] {
        let candidates = try everOwned(by: organisation, at: slice)
        return try candidates.filter { try owner(of: $0, at: slice) == organisation }
    }

    /// Every stream `organisation` owned at any valid time up to `slice.validAt`, as recorded by `slice.asOf`.
    func everOwned(by organisation: String, at slice: TimeSlice) throws -> [StreamName] {
        try database.map(
            """
            SELECT DISTINCT stream FROM ownership WHERE organisation = ?1 AND recorded_at <= ?2 AND effective_at <= ?3
            ORDER BY stream
            """, [.text(organisation), .integer(slice.recordedBound), .integer(slice.effectiveBound)]
        ) { StreamName($0.text(0))! }
    }

    /// The ownership history of a stream up to `slice.validAt`, as recorded by `slice.asOf`, in valid-time order.
    func ownershipHistory(of stream: StreamName, at slice: TimeSlice) throws -> [(effectiveAt: Timestamp, organisation: String, position: Int)] {
        try database.map(
            """
            SELECT effective_at, organisation, position FROM ownership
            WHERE stream = ?1 AND recorded_at <= ?2 AND effective_at <= ?3
            ORDER BY effective_at, position
            """, [.text(stream.description), .integer(slice.recordedBound), .integer(slice.effectiveBound)]
        ) { (Timestamp(millisecondsSinceEpoch: $0.int64(0)), $0.text(1), $0.int(2)) }
    }

    // MARK: Links

    /// Streams that link to `target` with `relation` at `slice`. For single-valued relations (a goal's parent) only
    /// sources whose latest such link, at that slice, still points at `target` count.
    func sources(linkingTo target: StreamName, relation: String, at slice: TimeSlice) throws -> [StreamName] {
        let candidates = try database.map(
            """
            SELECT DISTINCT source FROM links
            WHERE target = ?1 AND relation = ?2 AND recorded_at <= ?3 AND effective_at <= ?4 ORDER BY source
            """, [.text(target.description), .text(relation), .integer(slice.recordedBound), .integer(slice.effectiveBound)]
        ) { StreamName($0.text(0))! }
        guard ProjectionStore.singleValuedRelations.contains(relation) else { return candidates }
        return try candidates.filter { try targets(of: $0, relation: relation, at: slice) == [target] }
    }

    /// What `source` links to with `relation` at `slice` (for single-valued relations, only the latest link).
    func targets(of source: StreamName, relation: String, at slice: TimeSlice) throws -> [StreamName] {
        let rows = try database.map(
            """
            SELECT target FROM links
            WHERE source = ?1 AND relation = ?2 AND recorded_at <= ?3 AND effective_at <= ?4
            ORDER BY effective_at, position
            """, [.text(source.description), .text(relation), .integer(slice.recordedBound), .integer(slice.effectiveBound)]
        ) { StreamName($0.text(0))! }
        if ProjectionStore.singleValuedRelations.contains(relation) { return rows.last.map { [$0] } ?? [] }
        var seen = Set<StreamName>()
        return rows.filter { seen.insert($0).inserted }
    }

    /// Relations where a later link replaces the earlier one rather than adding to it.
    static let singleValuedRelations: Set<String> = ["parent"]
}

/// Where in the log an event being folded stands (see `ProjectionStore.folding`); two numbers, not the event, which
/// would be copied (a dozen references retained and released) for every event of a rebuild.
struct FoldPoint {
    let position: Int
    let recordedAt: Int64

    init(_ record: borrowing RecordedEvent) {
        position = record.position
        recordedAt = record.recordedAt.millisecondsSinceEpoch
    }
}

/// The latest state of recently used streams, attached to the writer's (or rebuild's) connection so that the domain
/// checks and the evolve step of an append do not read back and re-parse a stored state. The connection drops it on
/// any rollback and when another connection commits (see `ConnectionAttachment`), so it never outlives what it
/// mirrors. Bounded: when full it starts again empty, which costs one read per stream afterwards.
final class LatestStateCache: ConnectionAttachment {
    static let capacity = 50_000
    /// Each cached stream's place in `states`. The states are kept apart from the index so that a fold changes one
    /// in place through the array (a dictionary's in-place access copies the key and value it yields).
    private var slots: [StreamName: Int] = [:]
    private var states: [EntityState?] = []
    /// Whether every stream with a state in the projection tables is cached: true from a reset of the tables (a
    /// rebuild, where it saves a read for the first event of every stream) until the cache first overflows.
    private(set) var holdsEveryStream = false

    init() {}

    /// The latest state of `stream`, if cached.
    func state(of stream: StreamName) -> EntityState? { slots[stream].flatMap { states[$0] } }

    /// Marks the cache as complete for projection tables that were just emptied.
    func startWithEmptyProjections() {
        empty()
        holdsEveryStream = true
    }

    private func empty() {
        slots.removeAll(keepingCapacity: true)
        states.removeAll(keepingCapacity: true)
    }

    /// Replaces the latest state of `record`'s stream (regardless of time) with the state after `record`: in place,
    /// the state moved out of the cache for `evolve` so that changing its fields does not copy them first. A state
    /// the cache lacks is read from `store`, unless the cache holds every stream (then the stream has none yet).
    /// Returns whether the stream is new, and the new state when `returningState`: a copy retains its strings and
    /// fields, and most events of a rebuild carry no snapshot that would need it.
    func evolve(_ record: borrowing RecordedEvent, readingMissesFrom store: ProjectionStore, returningState: Bool)
        throws -> (state: EntityState?, isNew: Bool)
    {
        let slot: Int
        if let cached = slots[record.stream] {
            slot = cached
        } else {
            if states.count >= Self.capacity {
                empty()
                holdsEveryStream = false
            }
            let stored = holdsEveryStream ? nil : try store.entity(record.stream, at: .latest)
            slot = states.count
            states.append(stored)
            slots[record.stream] = slot
        }
        // In place (the array's `_modify`), through a helper rather than a closure, which would capture the event by
        // copy. (The read above goes to the tables, never to this cache.)
        return Self.evolve(&states[slot], record, returningState: returningState)
    }

    private static func evolve(_ slot: inout EntityState?, _ record: borrowing RecordedEvent, returningState: Bool)
        -> (state: EntityState?, isNew: Bool)
    {
        let previous = slot.take()
        let isNew = previous == nil
        slot = PlanningDomain.evolve(consume previous, record)
        return (returningState ? slot : nil, isNew)
    }
}
