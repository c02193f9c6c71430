import Access
import Foundation
import HTTPServer
import Ledger

extension PlanLedgerService {
    /// `POST /v1/tokens` `{role, organisations?, label?, actorId?}`: the secret is in this response only.
    func createToken(_ context: RequestContext) throws -> HTTPResponse {
        guard let principal = context.principal else { throw APIError.unauthenticated }
        let body = try context.json()
        guard let object = body.objectValue else { throw APIError.badRequest("the body must be an object", field: "body") }
        if let unknown = object.keys.sorted().first(where: { !["role", "organisations", "label", "actorId", "reason"].contains($0) }) {
            throw APIError.badRequest("unknown field \(unknown)", field: unknown)
        }
        guard let role = object["role"]?.stringValue.flatMap(Role.init(rawValue:)) else {
            throw APIError.badRequest("role must be reader, contributor, auditor or admin", field: "role")
        }
        let organisations = (object["organisations"]?.arrayValue ?? []).compactMap(\.stringValue)
            .map { $0.hasPrefix("organisation/") ? $0 : "organisation/" + $0 }
        let label = object["label"]?.stringValue
        let actorId = object["actorId"]?.stringValue ?? label ?? "token-holder"
        let reason = object["reason"]?.stringValue
        return offLoop { [tokens] in
            let token = try tokens.create(role: role, organisations: organisations, actorId: actorId, label: label,
                                          grantedBy: principal.actor, reason: reason)
            return .json(token.json, status: 201)
        }
    }

    /// `DELETE /v1/tokens/{id}?reason=...` (or a JSON body `{"reason"}`): revokes, recorded with the reason.
    func revokeToken(_ context: RequestContext) throws -> HTTPResponse {
        guard let principal = context.principal else { throw APIError.unauthenticated }
        let id = context.parameter("id")
        var reason = context.query("reason")
        if reason == nil, !context.request.body.isEmpty { reason = try context.json()["reason"]?.stringValue }
        guard let reason, !reason.isEmpty else { throw APIError.badRequest("a revocation needs a reason", field: "reason") }
        guard let token = try tokens.list().first(where: { $0.id == id }) else { throw APIError.notFound("no token \(id)") }
        return offLoop { [tokens] in
            try tokens.revoke(id: id, reason: reason, revokedBy: principal.actor)
            var json = token.json.objectValue ?? [:]
            json["revoked"] = true
            return .json(.object(json))
        }
    }

    /// Runs `body`, which waits for a group commit through a blocking call (a token grant or revocation), on a
    /// thread of its own and answers `.later`, so that the connection's event loop serves others meanwhile.
    private func offLoop(_ body: @escaping @Sendable () throws -> HTTPResponse) -> HTTPResponse {
        .later { deliver in
            let thread = Thread {
                let result = Result { try body() }
                deliver {
                    switch result {
                    case .success(let response): response
                    case .failure(let error): .error(APIError.from(error))
                    }
                }
            }
            thread.name = "planledger-token-change"
            thread.start()
        }
    }
}
