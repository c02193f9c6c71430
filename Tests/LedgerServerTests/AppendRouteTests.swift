import Foundation
import Ledger
import Planning
import Testing

@testable import LedgerServer

/// `POST /v1/transactions` over real HTTP: stored, conflicting, idempotent, refused — and nothing stored when refused.
@Suite struct AppendRouteTests {
    func goal(_ key: String, expected: JSONValue = "noStream", id: String? = nil, owner: String = DemoStory.icb) -> JSONValue {
        var event: [String: JSONValue] = ["type": "GoalDefined", "effectiveAt": "2023-02-01",
                                          "data": ["title": "New goal", "level": "objective", "parent": "goal/AMB-1",
                                                   "owner": ["organisation": .string(owner), "role": "Director"]]]
        if let id { event["id"] = .string(id) }
        return ["streams": [["stream": .string("goal/\(key)"), "expectedVersion": expected, "events": [.object(event)]]]]
    }

    @Test func appendConflictIdempotencyAndRefusals() throws {
        let test = try TestServer()
        defer { test.stop() }
        let id = UUID().uuidString.lowercased()
        let created = try test.request("POST", "/v1/transactions", body: goal("G-100", id: id))
        #expect(created.status == 201)
        let record = try #require(created.json["events"]?.arrayValue?.first)
        #expect(record["actor"] == ["id": "admin-1", "role": "admin"], "the actor comes from the token")
        #expect(created.json["checkpoint"]?["size"] == record["position"])

        let again = try test.request("POST", "/v1/transactions", body: goal("G-100", id: id))
        #expect(again.status == 200 && again.json["events"] == created.json["events"])

        let conflict = try test.request("POST", "/v1/transactions", body: goal("G-100"))
        #expect(conflict.status == 409)
        #expect(conflict.json["error"]?["code"] == "version_conflict" && conflict.json["error"]?["actual"] == 1)

        let size = test.ledger.size
        let dissolved = try test.request("POST", "/v1/transactions", body: goal("G-101", owner: DemoStory.ccg))
        #expect(dissolved.status == 422 && dissolved.json["error"]?["code"] == "organisation_dissolved")
        #expect(dissolved.json["error"]?["index"] == 0)

        let badSchema = try test.request("POST", "/v1/transactions", body: [
            "streams": [["stream": "goal/G-102", "events": [["type": "GoalDefined", "data": ["title": "x"]]]]]])
        #expect(badSchema.status == 400 && badSchema.json["error"]?["field"] == "data.level")

        let actorInBody = try test.request("POST", "/v1/transactions", body: ["streams": [], "actor": ["id": "someone-else"]])
        #expect(actorInBody.status == 400)

        let malformed = try test.client().request("POST", "/v1/transactions",
                                                  headers: [("Authorization", "Bearer \(test.tokens[.admin]!)"), ("Content-Type", "application/json")],
                                                  body: Array("{\"streams\": [".utf8))
        #expect(malformed.status == 400 && malformed.text.contains("invalid_request"))
        #expect(test.ledger.size == size, "nothing refused was stored")
    }

    /// A body must say it is `application/json` (parameters allowed); anything else is 415 and stores nothing.
    @Test func bodiesMustBeSentAsApplicationJSON() throws {
        let test = try TestServer()
        defer { test.stop() }
        let size = test.ledger.size
        let auth = ("Authorization", "Bearer \(test.tokens[.admin]!)")
        func post(_ target: String, _ body: JSONValue, type: String?, method: String = "POST") throws -> Int {
            try test.client().request(method, target, headers: [auth] + (type.map { [("Content-Type", $0)] } ?? []),
                                      body: CanonicalJSON.encode(body)).status
        }
        for type in [nil, "application/jsonx", "text/plain", "application/json-patch+json", "application", ""] {
            #expect(try post("/v1/transactions", goal("G-300"), type: type) == 415, "\(type ?? "no Content-Type")")
            #expect(try post("/v1/tokens", ["role": "reader"], type: type) == 415, "\(type ?? "no Content-Type")")
        }
        #expect(test.ledger.size == size, "nothing refused was stored")
        let token = try test.request("POST", "/v1/tokens", body: ["role": "reader"])
        let id = try #require(token.json["id"]?.stringValue)
        #expect(try post("/v1/tokens/\(id)", ["reason": "left"], type: nil, method: "DELETE") == 415)
        #expect(try test.request("GET", "/v1/plan", token: token.json["token"]?.stringValue).status == 200, "not revoked")
        #expect(try post("/v1/transactions", goal("G-300"), type: "Application/JSON ; charset=utf-8") == 201)
        #expect(try post("/v1/tokens", ["role": "reader"], type: "application/json;charset=UTF-8") == 201)
    }

    @Test func mediaTypeMatching() {
        for accepted in ["application/json", "APPLICATION/JSON", " application/json ", "application/json; charset=utf-8",
                         "application/json;charset=utf-8", "application/json\t;"] {
            #expect(RequestContext.isJSON(mediaType: accepted), "\(accepted)")
        }
        for refused in ["", "application/jsonx", "application/json-seq", "application/ json", "text/json", "application",
                        "application/problem+json", "xapplication/json"] {
            #expect(!RequestContext.isJSON(mediaType: refused), "\(refused)")
        }
    }

    @Test func contributorsWriteOnlyForTheirOrganisations() throws {
        let test = try TestServer()
        defer { test.stop() }
        #expect(try test.request("POST", "/v1/transactions", as: .contributor, body: goal("G-200")).status == 201)
        let foreign = try test.request("POST", "/v1/transactions", as: .contributor, body: goal("G-201", owner: DemoStory.trust))
        #expect(foreign.status == 403)
        let reading: JSONValue = ["streams": [["stream": "measure/M-RTT-52WK", "events": [
            ["type": "MeasureReadingRecorded", "effectiveAt": "2023-03-31", "data": ["value": 900, "at": "2023-03-31"]]]]]]
        #expect(try test.request("POST", "/v1/transactions", as: .contributor, body: reading).status == 201)
        #expect(try test.request("POST", "/v1/transactions", as: .reader, body: reading).status == 403)
        #expect(try test.request("POST", "/v1/transactions", as: nil, body: reading).status == 401)
        let sneaky: JSONValue = ["streams": [["stream": "access/tok-x", "events": [["type": "AccessRevoked", "reason": "r", "data": [:]]]]]]
        #expect(try test.request("POST", "/v1/transactions", body: sneaky).status == 403)
    }
}
