import Access
import HTTPServer
import Ledger

extension PlanLedgerService {
    /// `POST /v1/tokens` `{role, organisations?, label?, actorId?, reason?}`: the secret is in this response only.
    func createToken(_ context: RequestContext) throws -> HTTPResponse {
        guard let principal = context.principal else { throw APIError.unauthenticated }
        let body = try context.body(fields: ["role", "organisations", "label", "actorId", "reason"])
        guard let role = try body.string("role").flatMap(Role.init(rawValue:)) else {
            throw APIError.badRequest("role must be reader, contributor, auditor or admin", field: "role")
        }
        let organisations = (try body.strings("organisations") ?? [])
            .map { $0.hasPrefix("organisation/") ? $0 : "organisation/" + $0 }
        let label = try body.string("label")
        let actorId = try body.string("actorId") ?? label ?? "token-holder"
        let token = try tokens.create(role: role, organisations: organisations, actorId: actorId, label: label,
                                      grantedBy: principal.actor, reason: try body.string("reason"))
        return .json(token.json, status: 201)
    }

    /// `DELETE /v1/tokens/{id}?reason=...` (or a JSON body `{"reason"}`): revokes, recorded with the reason.
    /// A body is checked like every other route's (415, 400) even when the query gives the reason, and a reason
    /// given both ways must be the same: which of two the record kept would otherwise be the server's guess.
    func revokeToken(_ context: RequestContext) throws -> HTTPResponse {
        guard let principal = context.principal else { throw APIError.unauthenticated }
        let id = context.parameter("id")
        var reason = context.query("reason")
        if !context.request.body.isEmpty, let stated = try context.body(fields: ["reason"]).string("reason") {
            if let reason, reason != stated {
                throw APIError.badRequest("the query and the body give different reasons; give one", field: "reason")
            }
            reason = stated
        }
        guard let reason, !reason.isEmpty else { throw APIError.badRequest("a revocation needs a reason", field: "reason") }
        guard let token = try tokens.list().first(where: { $0.id == id }) else { throw APIError.notFound("no token \(id)") }
        try tokens.revoke(id: id, reason: reason, revokedBy: principal.actor)
        var json = token.json.objectValue ?? [:]
        json["revoked"] = true
        return .json(.object(json))
    }
}
