import Ledger
import Projections

/// Which streams make up one organisation's archive slice, and its corporate-memory summary: every stream it
/// owned at any time (including those handed to or from it), the handovers naming it, and its own record.
struct OrganisationSlice {
    let organisation: String
    let streams: Set<String>
    let summary: JSONValue?

    static func make(ledger: Ledger, organisation: String, asOf: Timestamp?) throws -> OrganisationSlice {
        guard let stream = StreamName(organisation) else { throw CLIError.usage("'\(organisation)' is not an organisation") }
        let memory = try PlanningReadModel(ledger: ledger).memory(of: stream, at: TimeSlice(asOf: asOf))
        var streams: Set<String> = [organisation]
        for section in ["owned", "handoversIn", "handoversOut"] {
            for item in memory[section]?.arrayValue ?? [] {
                if let name = item["stream"]?.stringValue { streams.insert(name) }
            }
        }
        return OrganisationSlice(organisation: organisation, streams: streams, summary: memory)
    }
}
