import Access
import HTTPServer
import Ledger
import Projections

extension PlanLedgerService {
    /// `POST /v1/transactions`: the actor comes from the token; a contributor may write only to streams its
    /// organisations own (or, for new streams, will own); `access/` streams are written through `/v1/tokens` only.
    func append(_ context: RequestContext) throws -> HTTPResponse {
        guard let principal = context.principal else { throw APIError.unauthenticated }
        let transaction = try AppendTransaction(json: try context.json(), actor: principal.actor)
        if transaction.streams.contains(where: { $0.stream.kind == TokenRegistry.streamKind }) {
            throw APIError.forbidden("tokens are granted and revoked through /v1/tokens")
        }
        // Checked by the writer against the state the transaction is appended to, not here on a snapshot that a
        // handover committed meanwhile could make stale.
        let scope = principal.role == .admin ? nil : OrganisationScope(organisations: Set(principal.organisations))
        // Answered when the group commit it joins is durable; the connection's loop serves others meanwhile.
        return .later { [ledger] pending in
            ledger.submit(transaction, condition: scope) { result in
                pending.deliver {
                    switch result {
                    case .success(let result):
                        .json(["events": .array(result.events.map(\.json)), "checkpoint": result.checkpoint.json],
                              status: result.alreadyStored ? 200 : 201)
                    case .failure(let error):
                        .error(APIError.from(error))
                    }
                }
            }
        }
    }
}
