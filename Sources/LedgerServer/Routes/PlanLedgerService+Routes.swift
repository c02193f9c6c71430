import Access
import HTTPServer
import Ledger
import Projections

/// The route table. Roles: public (nil), reader, contributor (appends for its organisations), auditor (the audit
/// log, corporate memory and archives), admin (tokens). `Schemas/openapi.json` documents exactly these routes.
extension PlanLedgerService {
    static var routes: [Route] {
        let slice = ["asOf", "validAt"]
        return [
            Route(method: "POST", pattern: "/v1/transactions", role: .contributor, work: .quick) { try $0.append($1) },
            Route(
                method: "GET", pattern: "/v1/events",
                query: ["after", "limit", "type", "stream", "kind", "actor", "organisation", "from", "to"],
                role: .auditor
            ) { try $0.events($1) },
            Route(method: "GET", pattern: "/v1/events/stream", query: ["after"], role: .auditor, work: .quick) {
                try $0.subscribe($1)
            },
            Route(method: "GET", pattern: "/v1/streams/{kind}/{key}", query: ["fromVersion"], role: .reader) {
                try $0.stream($1)
            },
            // A past slice is fixed by its query and changes only with a commit; the state now also changes when a
            // future-dated record comes into force, and is cached only until then (`ResponseCache`).
            Route(
                method: "GET", pattern: "/v1/entities/{kind}/{key}", query: slice, role: .reader, cacheable: true,
                work: .quick
            ) {
                service, context in
                .json(try service.model.entity(try context.stream(), at: try context.slice()))
            },
            Route(method: "GET", pattern: "/v1/entities/{kind}/{key}/history", query: slice, role: .reader) {
                service, context in
                .json(try service.model.history(try context.stream(), at: try context.slice()))
            },
            Route(
                method: "GET", pattern: "/v1/entities/{kind}", query: ["organisation", "status"] + slice, role: .reader
            ) { service, context in
                .json(
                    try service.model.entities(
                        kind: context.parameter("kind"), organisation: context.organisation(),
                        status: context.query("status"), at: try context.slice()))
            },
            Route(method: "GET", pattern: "/v1/plan", query: ["organisation"] + slice, role: .reader) {
                service, context in
                .json(try service.model.plan(organisation: context.organisation(), at: try context.slice()))
            },
            Route(
                method: "GET", pattern: "/v1/plan/diff", query: ["from", "to", "organisation", "asOf"], role: .reader
            ) { service, context in
                guard let from = try context.time("from"), let to = try context.time("to") else {
                    throw APIError.badRequest("from and to are required", field: "from")
                }
                return .json(
                    try service.model.diff(
                        from: from, to: to, organisation: context.organisation(),
                        asOf: try context.time("asOf")))
            },
            Route(method: "GET", pattern: "/v1/impact/{kind}/{key}", query: slice, role: .reader) { service, context in
                .json(try service.model.impact(of: try context.stream(), at: try context.slice()))
            },
            Route(
                method: "GET", pattern: "/v1/decisions", query: ["forum", "status", "reviewDue"] + slice,
                role: .reader
            ) { service, context in
                .json(
                    try service.model.decisions(
                        forum: context.query("forum"), status: context.query("status"),
                        reviewDue: try context.time("reviewDue"), at: try context.slice()))
            },
            Route(method: "GET", pattern: "/v1/organisations/{key}/memory", query: slice, role: .auditor) {
                service, context in
                guard let organisation = StreamName(kind: "organisation", key: context.parameter("key")) else {
                    throw APIError.badRequest("invalid organisation key", field: "key")
                }
                return .json(try service.model.memory(of: organisation, at: try context.slice()))
            },
            Route(method: "GET", pattern: "/v1/ledger/checkpoint", query: ["size"], role: .reader, work: .quick) {
                service, context in
                .json(try service.ledger.checkpoint(size: try context.integer("size")).json)
            },
            Route(
                method: "GET", pattern: "/v1/ledger/proofs/inclusion", query: ["position", "size"], role: .reader,
                work: .quick
            ) { service, context in
                guard let position = try context.integer("position", range: 1...Int.max) else {
                    throw APIError.badRequest("position is required", field: "position")
                }
                return .json(
                    try service.ledger.inclusionProof(position: position, size: try context.integer("size")).json)
            },
            Route(
                method: "GET", pattern: "/v1/ledger/proofs/consistency", query: ["from", "to"], role: .reader,
                work: .quick
            ) { service, context in
                guard let from = try context.integer("from") else {
                    throw APIError.badRequest("from is required", field: "from")
                }
                return .json(try service.ledger.consistencyProof(from: from, to: try context.integer("to")).json)
            },
            Route(method: "GET", pattern: "/v1/archives", query: ["organisation", "asOf"], role: .auditor) {
                try $0.archive($1)
            },
            Route(method: "GET", pattern: "/v1/tokens", role: .admin) { service, context in
                .json(["tokens": .array(try service.tokens.list().map(\.json))])
            },
            Route(method: "POST", pattern: "/v1/tokens", role: .admin, work: .commit) { try $0.createToken($1) },
            Route(method: "DELETE", pattern: "/v1/tokens/{id}", query: ["reason"], role: .admin, work: .commit) {
                try $0.revokeToken($1)
            },
            Route(method: "GET", pattern: "/healthz", role: nil, work: .quick) { service, context in
                .json(["status": "ok", "size": JSONValue(try service.committedSize.current())])
            },
            Route(method: "GET", pattern: "/metrics", role: nil, work: .quick) { service, context in
                let statistics = service.ledger.statistics
                let size = try service.committedSize.current()
                return .text(
                    service.metrics.render(
                        ledgerSize: size, commits: statistics.commits,
                        transactions: statistics.transactions,
                        slowRequests: (service.slowRoutes.load, service.slowRoutes.limit)),
                    contentType: "text/plain; version=0.0.4; charset=utf-8")
            },
            Route(method: "GET", pattern: "/openapi.json", role: nil, work: .quick) { _, _ in
                .json(status: 200, OpenAPIDocument.bytes)
            },
        ]
    }
}

extension RequestContext {
    /// `asOf` / `validAt` query parameters.
    func slice() throws -> TimeSlice { TimeSlice(asOf: try time("asOf"), validAt: try time("validAt")) }
}
