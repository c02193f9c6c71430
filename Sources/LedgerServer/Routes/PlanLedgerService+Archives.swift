import Archive
import HTTPServer
import Ledger
import Projections

extension PlanLedgerService {
    /// `GET /v1/archives?organisation=&asOf=`: a self-verifying archive (Schemas/archive.md), streamed as JSON lines.
    func archive(_ context: RequestContext) throws -> HTTPResponse {
        guard let principal = context.principal else { throw APIError.unauthenticated }
        var options = ArchiveExporter.Options(asOf: try context.time("asOf"), createdBy: principal.actor)
        if let organisation = context.organisation() {
            guard let stream = StreamName(organisation) else { throw APIError.badRequest("invalid organisation", field: "organisation") }
            let slice = try model.archiveSlice(of: stream, asOf: options.asOf)
            options.streams = slice.streams
            options.organisation = organisation
            options.summary = slice.summary
        }
        let exporter = ArchiveExporter(ledger: ledger)
        let chosen = options
        let name = "planledger-\(options.organisation?.split(separator: "/").last.map(String.init) ?? "ledger").jsonl"
        return .stream(headers: [("Content-Type", "application/x-ndjson"),
                                 ("Content-Disposition", "attachment; filename=\"\(name)\"")]) { writer in
            struct ClientGone: Error {}
            do {
                try exporter.export(chosen, write: { bytes in
                    guard writer.write(bytes) else { throw ClientGone() }
                })
            } catch {
                // The headers went out long ago: all that is left to say is that the archive is incomplete.
                writer.fail()
            }
        }
    }
}
