import Ledger

/// Which streams make up one organisation's archive slice, and its corporate-memory summary.
struct OrganisationSlice {
    let organisation: String
    let streams: Set<String>
    let summary: JSONValue?

    static func make(ledger: Ledger, organisation: String, asOf: Timestamp?) throws -> OrganisationSlice {
        throw CLIError.failed("organisation slices need the planning projections")
    }
}
