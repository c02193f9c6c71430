/// The life-cycle statuses `evolve` gives entities. Stable: the projections, the API and clients filter by them.
public enum EntityStatus {
    public static let active = "active"
    public static let closed = "closed"
    public static let retired = "retired"
    public static let challenged = "challenged"
    public static let validated = "validated"
    public static let invalidated = "invalidated"
    public static let proposed = "proposed"
    public static let taken = "taken"
    public static let superseded = "superseded"
    public static let revoked = "revoked"
    public static let withdrawn = "withdrawn"
    public static let dissolved = "dissolved"
    public static let recorded = "recorded"

    /// The statuses `evolve` gives the entities of each kind, in life-cycle order: what a status filter on that
    /// kind may ask for (any other would match nothing, and an empty answer reads as "there are none").
    public static let byKind: [String: [String]] = [
        "organisation": [active, dissolved],
        "goal": [active, closed],
        "measure": [active, retired],
        "assumption": [active, challenged, validated, invalidated, retired],
        "decision": [proposed, taken, superseded, revoked],
        "evidence": [active, withdrawn],
        "handover": [recorded],
    ]

    /// Statuses after which a stream takes no further events: its life cycle has ended.
    public static let ended: Set<String> = [closed, retired, invalidated, superseded, revoked, withdrawn, dissolved, recorded]
}
