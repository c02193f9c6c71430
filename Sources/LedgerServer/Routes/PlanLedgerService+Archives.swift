import Archive
import HTTPServer
import Ledger
import Projections

extension PlanLedgerService {
    /// `GET /v1/archives?organisation=&asOf=`: a self-verifying archive (Schemas/archive.md), streamed as JSON lines.
    ///
    /// The source is verified before the response starts, while an error status can still be answered: a ledger
    /// that does not verify is `500 ledger_unverified` (the server's own record is damaged; nothing the client can
    /// change or retry), naming the first bad `position` and the verifier's `failure` code.
    func archive(_ context: RequestContext) throws -> HTTPResponse {
        guard let principal = context.principal else { throw APIError.unauthenticated }
        var options = ArchiveExporter.Options(asOf: try context.time("asOf"), createdBy: principal.actor)
        // The slice before the source: its streams and summary are then read from no later a state than the events
        // the source's checkpoint holds (appends may commit in between), and a bad organisation is refused before
        // the ledger is verified.
        if let organisation = context.organisation() {
            guard let stream = StreamName(organisation) else { throw APIError.badRequest("invalid organisation", field: "organisation") }
            let slice = try model.archiveSlice(of: stream, asOf: options.asOf)
            options.streams = slice.streams
            options.organisation = organisation
            options.summary = slice.summary
        }
        let exporter = ArchiveExporter(ledger: ledger)
        let source: ArchiveExporter.Source
        do {
            source = try exporter.source(asOf: options.asOf)
        } catch let error as ArchiveSourceError {
            throw APIError(status: 500, code: "ledger_unverified", "\(error)",
                           details: ["position": JSONValue(error.position), "failure": .string(error.code)])
        }
        let chosen = options
        let name = "planledger-\(options.organisation?.split(separator: "/").last.map(String.init) ?? "ledger").jsonl"
        return .stream(headers: [("Content-Type", "application/x-ndjson"),
                                 ("Content-Disposition", "attachment; filename=\"\(name)\"")]) { writer in
            struct ClientGone: Error {}
            do {
                try exporter.export(chosen, from: source, write: { bytes in
                    guard writer.write(bytes) else { throw ClientGone() }
                })
            } catch {
                // The headers went out long ago: all that is left to say is that the archive is incomplete.
                writer.fail()
            }
        }
    }
}
