import Ledger
import Planning

/// The plan: the goal tree with measures (latest reading, target, RAG), the assumptions each goal rests on, the
/// decisions affecting it, and `needsReview` when anything it rests on was invalidated, revoked or withdrawn.
extension PlanningReadModel {
    /// `{organisation?, goals: [goal tree], asOf?, validAt?}`. With an organisation, the roots are its goals whose
    /// parent it does not own; without, every goal without a parent.
    public func plan(organisation: String? = nil, at slice: TimeSlice = .now) throws -> JSONValue {
        try read(slice) { store in
            try Self.checkOrganisation(organisation, store: store)
            let goals = try organisation.map { try store.owned(by: $0, at: slice).filter { $0.kind == "goal" } }
                ?? store.streams(ofKind: "goal", at: slice)
            let included = Set(goals)
            var roots: [JSONValue] = []
            for goal in goals {
                let parent = try store.targets(of: goal, relation: "parent", at: slice).first
                if let parent, included.contains(parent) { continue }
                if let node = try Self.goalNode(goal, store: store, slice: slice, within: organisation == nil ? nil : included,
                                                visited: []) {
                    roots.append(node)
                }
            }
            return .object(omittingNil: [("organisation", organisation.map(JSONValue.string)), ("goals", .array(roots))]
                + slice.json)
        }
    }

    static func goalNode(_ goal: StreamName, store: ProjectionStore, slice: TimeSlice, within: Set<StreamName>?,
                         visited: Set<StreamName>) throws -> JSONValue?
    {
        guard !visited.contains(goal), let state = try store.entity(goal, at: slice) else { return nil }
        var reasons: [JSONValue] = []

        var measures: [JSONValue] = []
        for measure in try store.sources(linkingTo: goal, relation: "measures", at: slice) {
            guard let measureState = try store.entity(measure, at: slice) else { continue }
            let evaluation = MeasureRAG.evaluate(fields: measureState.fields)
            measures.append(.object(omittingNil: [
                ("stream", .string(measure.description)), ("status", .string(measureState.status)),
                ("title", measureState.fields["title"]), ("unit", measureState.fields["unit"]),
                ("direction", measureState.fields["direction"]), ("baseline", measureState.fields["baseline"]),
                ("target", measureState.fields["target"]), ("latestReading", evaluation.latest),
                ("expected", evaluation.expected.map(JSONValue.number)), ("rag", .string(evaluation.rag)),
            ]))
        }

        var assumptions: [JSONValue] = []
        for assumption in try store.sources(linkingTo: goal, relation: "supports", at: slice) {
            guard let summary = try summary(assumption, store: store, slice: slice) else { continue }
            assumptions.append(summary)
            if let status = summary["status"]?.stringValue, Status.undermining.contains(status) {
                reasons.append(.string("\(assumption) is \(status)"))
            }
        }

        var decisions: [JSONValue] = []
        for decision in try store.sources(linkingTo: goal, relation: "affects", at: slice) {
            guard let summary = try summary(decision, store: store, slice: slice) else { continue }
            decisions.append(summary)
            if let status = summary["status"]?.stringValue, Status.undermining.contains(status) {
                reasons.append(.string("\(decision) is \(status)"))
            }
            // A decision affecting the goal that itself rests on something undermined.
            for basis in try store.targets(of: decision, relation: "reliesOn", at: slice) {
                if let status = try store.entity(basis, at: slice)?.status, Status.undermining.contains(status) {
                    reasons.append(.string("\(decision) relies on \(basis), which is \(status)"))
                }
            }
        }

        var evidence: [JSONValue] = []
        for item in try store.sources(linkingTo: goal, relation: "linkedTo", at: slice) {
            guard let summary = try summary(item, store: store, slice: slice) else { continue }
            evidence.append(summary)
            if let status = summary["status"]?.stringValue, Status.undermining.contains(status) {
                reasons.append(.string("\(item) is \(status)"))
            }
        }

        var children: [JSONValue] = []
        for child in try store.sources(linkingTo: goal, relation: "parent", at: slice) {
            if let within, !within.contains(child) { continue }
            if let node = try goalNode(child, store: store, slice: slice, within: within, visited: visited.union([goal])) {
                children.append(node)
            }
        }

        return .object(omittingNil: [
            ("stream", .string(goal.description)), ("status", .string(state.status)),
            ("owner", try store.owner(of: goal, at: slice).map(JSONValue.string)),
            ("title", state.fields["title"]), ("level", state.fields["level"]), ("horizon", state.fields["horizon"]),
            ("assessment", state.fields["assessment"]), ("measures", .array(measures)),
            ("assumptions", .array(assumptions)), ("decisions", .array(decisions)), ("evidence", .array(evidence)),
            ("needsReview", .bool(!reasons.isEmpty)), ("reviewReasons", .array(reasons)),
            ("children", .array(children)),
        ])
    }
}
