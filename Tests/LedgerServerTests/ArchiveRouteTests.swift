import Foundation
import Ledger
import SQLite
import Testing

/// `GET /v1/archives` refusals, answered before the archive's stream begins.
@Suite struct ArchiveRouteTests {
    /// A ledger that does not verify is a 500 naming the first bad position, not an archive of the damage.
    @Test func anArchiveOfALedgerThatDoesNotVerifyIsRefusedNamingThePosition() throws {
        let test = try TestServer()
        defer { test.stop() }
        try Database(path: test.ledger.path).execute("UPDATE events SET reason = 'edited' WHERE position = 5")
        for target in ["/v1/archives", "/v1/archives?organisation=QWO-CCG"] {
            let response = try test.request("GET", target, as: .auditor)
            #expect(response.status == 500, "\(target)")
            #expect(response.json["error"]?["code"] == "ledger_unverified", "\(target): \(response.json)")
            #expect(response.json["error"]?["position"] == 5 && response.json["error"]?["failure"] == "hash_mismatch")
        }
    }
}
