import Ledger
import Planning

/// The decision register: decisions by forum, status and review date, with supersession chains and what they
/// rest on that has since been undermined.
extension PlanningReadModel {
    /// - Parameters:
    ///   - forum: the forum's name or its organisation (stream name or key); case-insensitive.
    ///   - reviewDue: only taken decisions whose review is due on or before this time.
    ///   - now: the reference time for `reviewOverdue` (default: `validAt`, else the current time).
    public func decisions(forum: String? = nil, status: String? = nil, reviewDue: Timestamp? = nil,
                          at slice: TimeSlice = .now, now: Timestamp = .now()) throws -> JSONValue
    {
        try Self.checkFilters(kind: "decision", status: status)
        let reference = slice.validAt ?? now
        return try read(slice) { store in
            var register: [JSONValue] = []
            for stream in try store.streams(ofKind: "decision", at: slice) {
                guard let state = try store.entity(stream, at: slice) else { continue }
                let fields = state.fields
                let forumJSON = fields["forum"]
                if let forum {
                    let wanted = forum.lowercased()
                    let names = [forumJSON?["name"]?.stringValue, forumJSON?["organisation"]?.stringValue,
                                 forumJSON?["organisation"]?.stringValue.map { String($0.split(separator: "/").last ?? "") }]
                    guard names.contains(where: { $0?.lowercased() == wanted }) else { continue }
                }
                if let status, state.status != status { continue }
                let reviewBy = fields["reviewBy"]?.stringValue.flatMap(Timestamp.init(parsing:))
                let lastReviewed = fields["lastReviewedAt"]?.stringValue.flatMap(Timestamp.init(parsing:))
                let reviewPending = state.status == "taken" && reviewBy != nil
                    && (lastReviewed == nil || lastReviewed! < reviewBy!)
                if let reviewDue, !(reviewPending && reviewBy! <= reviewDue) { continue }

                var undermined: [JSONValue] = []
                for basis in try store.targets(of: stream, relation: "reliesOn", at: slice) {
                    if let basisStatus = try store.entity(basis, at: slice)?.status, Status.undermining.contains(basisStatus) {
                        undermined.append(["stream": .string(basis.description), "status": .string(basisStatus)])
                    }
                }
                register.append(.object(omittingNil: [
                    ("stream", .string(stream.description)), ("title", fields["title"]), ("forum", forumJSON),
                    ("status", .string(state.status)), ("owner", try store.owner(of: stream, at: slice).map(JSONValue.string)),
                    ("decidedBy", fields["decidedBy"]), ("chosenOption", fields["chosenOption"]),
                    ("reviewBy", fields["reviewBy"]),
                    ("reviewOverdue", .bool(reviewPending && reviewBy! < reference)),
                    ("supersessionChain", .array(try Self.supersessionChain(stream, store: store, slice: slice))),
                    ("reliesOnUndermined", .array(undermined)),
                ]))
            }
            return .object(omittingNil: [("decisions", .array(register))] + slice.json)
        }
    }

    /// The decisions that superseded this one, in order: `[B, C]` when B superseded this and C superseded B.
    static func supersessionChain(_ decision: StreamName, store: ProjectionStore, slice: TimeSlice) throws -> [JSONValue] {
        var chain: [JSONValue] = []
        var seen: Set<StreamName> = [decision]
        var current = decision
        while let next = try store.targets(of: current, relation: "supersededBy", at: slice).last, seen.insert(next).inserted {
            chain.append(.string(next.description))
            current = next
        }
        return chain
    }
}
