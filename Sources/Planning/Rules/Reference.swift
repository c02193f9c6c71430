import Ledger

/// A link one event makes from its stream to another: what the projections index for the plan tree, impact graph
/// and registers. Relations: `parent`, `measures`, `supports`, `reliesOn`, `affects`, `supersededBy`, `linkedTo`,
/// `evidence`, `handsOver`, `from`, `to`, `contributor`, `successor`, `mergedInto`.
public struct Reference: Sendable, Hashable {
    public let from: StreamName
    public let to: StreamName
    public let relation: String

    public init(from: StreamName, to: StreamName, relation: String) {
        self.from = from
        self.to = to
        self.relation = relation
    }
}
