import Ledger
import Planning

/// Impact of an assumption or evidence item: every decision, goal and measure that rests on it, transitively
/// through the decisions it supports and down the goal tree.
extension PlanningReadModel {
    /// `{stream, status, decisions, goals, measures, other, edges: [{from, to, relation}]}`.
    public func impact(of stream: StreamName, at slice: TimeSlice = .now) throws -> JSONValue {
        try read(slice) { store in
            guard let root = try store.entity(stream, at: slice) else { throw Self.notFound(stream, slice) }
            var edges: [JSONValue] = []
            var reached: [StreamName] = []
            var seen: Set<StreamName> = [stream]
            var queue: [StreamName] = [stream]
            func reach(_ next: StreamName, from: StreamName, _ relation: String) {
                edges.append(["from": .string(from.description), "to": .string(next.description),
                              "relation": .string(relation)])
                if seen.insert(next).inserted {
                    reached.append(next)
                    queue.append(next)
                }
            }
            while !queue.isEmpty {
                let current = queue.removeFirst()
                // What rests on `current`, by the kind of link.
                for decision in try store.sources(linkingTo: current, relation: "reliesOn", at: slice) {
                    reach(decision, from: current, "reliedOnBy")
                }
                for target in try store.targets(of: current, relation: "supports", at: slice) {
                    reach(target, from: current, "supports")
                }
                for target in try store.targets(of: current, relation: "linkedTo", at: slice) {
                    reach(target, from: current, "linkedTo")
                }
                if current.kind == "decision" {
                    for target in try store.targets(of: current, relation: "affects", at: slice) {
                        reach(target, from: current, "affects")
                    }
                }
                if current.kind == "goal" {
                    for child in try store.sources(linkingTo: current, relation: "parent", at: slice) {
                        reach(child, from: current, "parentOf")
                    }
                    for measure in try store.sources(linkingTo: current, relation: "measures", at: slice) {
                        reach(measure, from: current, "measuredBy")
                    }
                }
            }
            var groups: [String: [JSONValue]] = ["decision": [], "goal": [], "measure": []]
            var other: [JSONValue] = []
            for item in reached {
                guard let summary = try Self.summary(item, store: store, slice: slice) else { continue }
                if groups[item.kind] != nil { groups[item.kind]!.append(summary) } else { other.append(summary) }
            }
            return .object(omittingNil: [
                ("stream", .string(stream.description)), ("status", .string(root.status)),
                ("decisions", .array(groups["decision"]!)), ("goals", .array(groups["goal"]!)),
                ("measures", .array(groups["measure"]!)), ("other", .array(other)), ("edges", .array(edges)),
            ] + slice.json)
        }
    }
}
