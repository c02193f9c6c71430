import Foundation

/// Envelope checks that need no database: run before anything is written, so a malformed transaction is refused
/// with the index and field of its first fault.
enum AppendValidation {
    static let maximumReasonLength = 4_000
    static let maximumTraceIdLength = 128

    /// Checks `transaction` and returns it with event ids normalised (lowercase) or generated.
    static func normalised(_ transaction: AppendTransaction) throws(LedgerError) -> AppendTransaction {
        try check(transaction.actor)
        guard !transaction.streams.isEmpty else {
            throw LedgerError(.invalidInput, code: "empty_transaction", "a transaction appends to at least one stream")
        }
        var copy = transaction
        var streamsSeen = Set<StreamName>()
        var idsSeen = Set<String>()
        var index = 0
        for (streamIndex, append) in transaction.streams.enumerated() {
            guard streamsSeen.insert(append.stream).inserted else {
                throw LedgerError(.invalidInput, code: "duplicate_stream",
                                  "stream \(append.stream) appears twice in one transaction; list its events together",
                                  details: ["stream": .string(append.stream.description)])
            }
            guard !append.events.isEmpty else {
                throw LedgerError(.invalidInput, code: "empty_stream_append",
                                  "stream \(append.stream) is listed with no events",
                                  details: ["stream": .string(append.stream.description)])
            }
            for (eventIndex, event) in append.events.enumerated() {
                defer { index += 1 }
                func invalid(_ code: String, _ field: String, _ message: String) -> LedgerError {
                    LedgerError(.invalidInput, code: code, message).at(eventIndex: index, field: field)
                }
                guard isValidTypeName(event.type) else {
                    throw invalid("invalid_type", "type", "event type must match [A-Z][A-Za-z0-9]{0,63}")
                }
                if let version = event.schemaVersion, version < 1 {
                    throw invalid("invalid_schema_version", "schemaVersion", "schemaVersion must be a positive integer")
                }
                guard case .object = event.data else {
                    throw invalid("invalid_data", "data", "data must be a JSON object")
                }
                if let reason = event.reason, reason.isEmpty || reason.count > maximumReasonLength {
                    throw invalid("invalid_reason", "reason", "reason must be 1–\(maximumReasonLength) characters")
                }
                for (field, value) in [("correlationId", event.correlationId), ("causationId", event.causationId)] {
                    if let value, value.isEmpty || value.count > maximumTraceIdLength {
                        throw invalid("invalid_trace_id", field, "\(field) must be 1–\(maximumTraceIdLength) characters")
                    }
                }
                let id: String
                if let given = event.id {
                    guard let uuid = UUID(uuidString: given) else {
                        throw invalid("invalid_id", "id", "id must be a UUID")
                    }
                    id = uuid.uuidString.lowercased()
                } else {
                    id = EventIdGenerator.next()
                }
                guard idsSeen.insert(id).inserted else {
                    throw invalid("duplicate_id", "id", "event id \(id) appears twice in one transaction")
                }
                copy.streams[streamIndex].events[eventIndex].id = id
            }
        }
        return copy
    }

    /// Refuses an actor no event may record: events are immutable, so an empty id or role, or an organisation that
    /// is not an organisation's stream name, would stay in the ledger for good. Only new appends pass here: an
    /// import loads records verbatim (`LedgerImporter`), so archives of ledgers that recorded such actors still load.
    /// - Throws: `LedgerError` `invalid_actor` naming the field (`actor.id`, `actor.role`, `actor.organisation`).
    static func check(_ actor: Actor) throws(LedgerError) {
        guard let (field, message) = actor.problem else { return }
        throw LedgerError(.invalidInput, code: "invalid_actor", "actor.\(field) \(message)",
                          details: ["field": .string("actor.\(field)")])
    }

    static func isValidTypeName(_ type: String) -> Bool {
        let bytes = Array(type.utf8)
        guard let first = bytes.first, (0x41...0x5A).contains(first), bytes.count <= 64 else { return false }
        return bytes.allSatisfy { (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
    }
}
