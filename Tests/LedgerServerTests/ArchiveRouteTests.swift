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

    /// Before the first event there is nothing to archive: 422 naming the field and when the first event was.
    @Test func anArchiveAsOfBeforeTheFirstEventIsRefused() throws {
        let test = try TestServer()
        defer { test.stop() }
        let first = try #require(try test.ledger.events(after: 0, limit: 1).first).recordedAt
        let response = try test.request("GET", "/v1/archives?asOf=2000-01-01", as: .auditor)
        #expect(response.status == 422)
        #expect(response.json["error"]?["code"] == "nothing_recorded", "\(response.json)")
        #expect(response.json["error"]?["field"] == "asOf")
        #expect(response.json["error"]?["firstRecordedAt"] == .string(first.rfc3339))
        // A slice is taken first (before the ledger is verified): then it is the organisation that was not there.
        let slice = try test.request("GET", "/v1/archives?asOf=2000-01-01&organisation=QWO-CCG", as: .auditor)
        #expect(slice.status == 404 && slice.json["error"]?["code"] == "not_found", "\(slice.json)")
        #expect(slice.json["error"]?["message"]?.stringValue?.contains("organisation/QWO-CCG") == true)
    }
}
