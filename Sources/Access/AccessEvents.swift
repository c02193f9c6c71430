import Ledger

/// The two event types of `access/<tokenId>` streams. Grants carry the SHA-256 of the token's secret, never the
/// secret itself, so the audit trail of who could do what is in the ledger without exposing any credential.
enum AccessEvents {
    static let granted = "AccessGranted"
    static let revoked = "AccessRevoked"
    static let kind = "access"

    struct Grant {
        let role: Role
        let organisations: [String]
        let actorId: String
        let label: String?
        let secretSHA256: String
    }

    /// Decodes and checks an `AccessGranted` payload: `{role, organisations: [organisation/..], actorId, label?,
    /// secretSha256}`.
    static func grant(from data: JSONValue) throws(LedgerError) -> Grant {
        func invalid(_ field: String, _ message: String) -> LedgerError {
            LedgerError(.invalidInput, code: "invalid_data", "data.\(field): \(message)", details: ["field": .string("data.\(field)")])
        }
        guard let object = data.objectValue else { throw invalid("", "must be an object") }
        let allowed: Set<String> = ["role", "organisations", "actorId", "label", "secretSha256"]
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) { throw invalid(unknown, "unknown field") }
        guard let role = object["role"]?.stringValue.flatMap(Role.init(rawValue:)) else {
            throw invalid("role", "must be one of reader, contributor, auditor, admin")
        }
        guard let organisations = object["organisations"]?.arrayValue?.compactMap(\.stringValue),
            organisations.count == object["organisations"]?.arrayValue?.count,
            organisations.allSatisfy({ StreamName($0)?.kind == "organisation" })
        else { throw invalid("organisations", "must be an array of organisation stream names") }
        if role == .contributor && organisations.isEmpty {
            throw invalid("organisations", "a contributor token names at least one organisation")
        }
        // The id every event the token records will carry: refused here if no append could record it.
        guard let actorId = object["actorId"]?.stringValue, !Actor.isBlank(actorId) else {
            throw invalid("actorId", "is required and must not be blank")
        }
        guard let hash = object["secretSha256"]?.stringValue, Digest(hex: hash) != nil else {
            throw invalid("secretSha256", "must be 64 hex digits")
        }
        if let label = object["label"], label.stringValue == nil { throw invalid("label", "must be a string") }
        return Grant(role: role, organisations: organisations, actorId: actorId, label: object["label"]?.stringValue,
                     secretSHA256: hash.lowercased())
    }
}
