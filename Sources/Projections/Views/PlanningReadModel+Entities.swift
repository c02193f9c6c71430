import Ledger
import Planning

/// Entity state and entity lists.
extension PlanningReadModel {
    /// `{stream, kind, version, owner, status, state, asOf?, validAt?}`; `owner` is null for unowned streams.
    public func entity(_ stream: StreamName, at slice: TimeSlice = .now) throws -> JSONValue {
        try read(slice) { store in
            guard let json = try Self.entityJSON(stream, store: store, slice: slice) else {
                throw Self.notFound(stream, slice)
            }
            return json
        }
    }

    /// Entities of `kind` existing at `slice`, optionally only those owned by `organisation` (at that slice) or in
    /// `status`.
    public func entities(kind: String, organisation: String? = nil, status: String? = nil,
                         at slice: TimeSlice = .now) throws -> JSONValue
    {
        try Self.checkFilters(kind: kind, status: status)
        return try read(slice) { store in
            try Self.checkOrganisation(organisation, store: store)
            let streams = try organisation.map { try store.owned(by: $0, at: slice).filter { $0.kind == kind } }
                ?? store.streams(ofKind: kind, at: slice)
            var entities: [JSONValue] = []
            for stream in streams {
                guard let json = try Self.entityJSON(stream, store: store, slice: slice) else { continue }
                if let status, json["status"]?.stringValue != status { continue }
                entities.append(json)
            }
            return .object(omittingNil: [("kind", .string(kind)), ("entities", .array(entities))] + slice.json)
        }
    }

    static func entityJSON(_ stream: StreamName, store: ProjectionStore, slice: TimeSlice) throws -> JSONValue? {
        guard let state = try store.entity(stream, at: slice) else { return nil }
        let owner = try store.owner(of: stream, at: slice)
        return .object(omittingNil: [
            ("stream", .string(stream.description)), ("kind", .string(stream.kind)), ("version", JSONValue(state.version)),
            ("owner", owner.map(JSONValue.string) ?? .null), ("status", .string(state.status)), ("state", state.fields),
        ] + slice.json)
    }

    /// A short summary of an entity for lists inside other views: stream, kind, status, title, owner.
    static func summary(_ stream: StreamName, store: ProjectionStore, slice: TimeSlice) throws -> JSONValue? {
        guard let state = try store.entity(stream, at: slice) else { return nil }
        return try summary(of: state, store: store, slice: slice)
    }

    /// The summary of a state already read at `slice`.
    static func summary(of state: EntityState, store: ProjectionStore, slice: TimeSlice) throws -> JSONValue {
        let stream = state.stream
        let title = state.fields["title"] ?? state.fields["statement"] ?? state.fields["name"]
        return .object(omittingNil: [
            ("stream", .string(stream.description)), ("kind", .string(stream.kind)), ("status", .string(state.status)),
            ("title", title), ("owner", try store.owner(of: stream, at: slice).map(JSONValue.string)),
        ])
    }
}
