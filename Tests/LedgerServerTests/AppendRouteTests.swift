import Access
import Foundation
import HTTPServer
import Ledger
import Planning
import Testing

@testable import LedgerServer

/// `POST /v1/transactions` over real HTTP: stored, conflicting, idempotent, refused — and nothing stored when refused.
@Suite struct AppendRouteTests {
    func goal(_ key: String, expected: JSONValue = "noStream", id: String? = nil, owner: String = DemoStory.icb) -> JSONValue {
        var event: JSONObject = ["type": "GoalDefined", "effectiveAt": "2023-02-01",
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

    /// A reading of `measure`.
    func reading(on measure: String) -> JSONValue {
        ["streams": [["stream": .string(measure), "events": [
            ["type": "MeasureReadingRecorded", "effectiveAt": "2023-03-31", "data": ["value": 5, "at": "2023-03-31"]]]]]]
    }

    /// A new measure of `goal`, which owns it.
    func measure(_ key: String, of goal: String) -> JSONValue {
        ["streams": [["stream": .string("measure/\(key)"), "expectedVersion": "noStream", "events": [
            ["type": "MeasureDefined", "effectiveAt": "2023-02-01", "data": [
                "goal": .string(goal), "title": "A measure", "unit": "patients", "direction": "lower_is_better",
                "baseline": ["value": 10, "at": "2023-02-01"]]]]]]]
    }

    /// A contributor's append is checked against the ledger it is appended to, not the one its request arrived at:
    /// a handover of the stream committed in between (here, between the route reading the request and the append
    /// reaching the writer) makes it 403, and nothing of it is stored.
    @Test func aHandoverCommittedBeforeAContributorsAppendIsHonoured() throws {
        let test = try TestServer()
        defer { test.stop() }
        #expect(try test.request("POST", "/v1/transactions", body: goal("G-400")).status == 201)
        #expect(try test.request("POST", "/v1/transactions", body: measure("M-400", of: "goal/G-400")).status == 201)

        var headers = HTTPHeaders()
        headers.add("Authorization", "Bearer \(test.icbContributor)")
        headers.add("Content-Type", "application/json")
        let arrived = test.service.handle(HTTPRequest(method: "POST", target: "/v1/transactions", headers: headers,
                                                      body: CanonicalJSON.encode(reading(on: "measure/M-400"))))
        let handover: JSONValue = ["streams": [["stream": "handover/H-400", "events": [
            ["type": "HandoverRecorded", "effectiveAt": "2023-03-01", "data": [
                "from": .string(DemoStory.icb), "to": .string(DemoStory.trust), "instrument": "Agreement",
                "items": ["measure/M-400"]]]]]]]
        #expect(try test.request("POST", "/v1/transactions", body: handover).status == 201)
        let size = test.ledger.size

        let answer = TestServer.delivered(arrived)
        #expect(answer?.status == 403)
        #expect(test.ledger.size == size, "nothing of the refused append was stored")
        // The same append from a contributor of the new owner is accepted.
        let trustToken = try test.service.tokens.create(
            role: .contributor, organisations: [DemoStory.trust], actorId: "trust-1", label: nil,
            grantedBy: Actor(id: "test", role: "system")).secret!
        #expect(try test.request("POST", "/v1/transactions", as: nil, body: reading(on: "measure/M-400"),
                                 token: trustToken).status == 201)
    }

    /// The scope follows the owner in force now, as the views show it: a handover recorded to take effect in 2099
    /// leaves the stream its current owner's to write until then, and not yet the new owner's.
    @Test func aHandoverThatTakesEffectLaterLeavesTheStreamWithItsOwnerUntilThen() throws {
        let test = try TestServer()
        defer { test.stop() }
        #expect(try test.request("POST", "/v1/transactions", body: goal("G-700")).status == 201)
        #expect(try test.request("POST", "/v1/transactions", body: measure("M-700", of: "goal/G-700")).status == 201)
        let handover: JSONValue = ["streams": [["stream": "handover/H-700", "events": [
            ["type": "HandoverRecorded", "effectiveAt": "2099-01-01", "data": [
                "from": .string(DemoStory.icb), "to": .string(DemoStory.trust), "instrument": "Agreement",
                "items": ["measure/M-700"]]]]]]]
        #expect(try test.request("POST", "/v1/transactions", body: handover).status == 201)
        #expect(try test.request("GET", "/v1/entities/measure/M-700", as: .reader).json["owner"] == .string(DemoStory.icb))

        #expect(try test.request("POST", "/v1/transactions", as: .contributor, body: reading(on: "measure/M-700")).status == 201)
        let trustToken = try test.service.tokens.create(
            role: .contributor, organisations: [DemoStory.trust], actorId: "trust-1", label: nil,
            grantedBy: Actor(id: "test", role: "system")).secret!
        let early = try test.request("POST", "/v1/transactions", as: nil, body: reading(on: "measure/M-700"), token: trustToken)
        #expect(early.status == 403, "\(early.json)")
    }

    /// A stream defined earlier in the same transaction has its owner when the next one is checked: a contributor
    /// may define a goal of its organisation and a measure of that goal together, but not a measure of another
    /// organisation's new goal.
    @Test func aContributorDefinesAGoalAndItsMeasureInOneTransaction() throws {
        let test = try TestServer()
        defer { test.stop() }
        func together(_ goalKey: String, owner: String, measureKey: String) -> JSONValue {
            ["streams": .array((goal(goalKey, owner: owner)["streams"]?.arrayValue ?? [])
                + (measure(measureKey, of: "goal/\(goalKey)")["streams"]?.arrayValue ?? []))]
        }
        let own = try test.request("POST", "/v1/transactions", as: .contributor,
                                   body: together("G-500", owner: DemoStory.icb, measureKey: "M-500"))
        #expect(own.status == 201, "\(own.json)")
        let size = test.ledger.size
        let foreign = try test.request("POST", "/v1/transactions", as: .contributor,
                                       body: together("G-501", owner: DemoStory.trust, measureKey: "M-501"))
        #expect(foreign.status == 403)
        #expect(foreign.json["error"]?["code"] == "forbidden" && foreign.json["error"]?["index"] == 0)
        #expect(foreign.headers["www-authenticate"] == #"Bearer error="insufficient_scope""#, "the token's scope, not the request, is at fault")
        #expect(test.ledger.size == size)
    }

    /// An event no token could append is refused for what it is, as it is for an admin, not as a matter of the
    /// contributor's scope (403 with a challenge would send the client after a better token).
    @Test func aContributorsMalformedEventIsRefusedForWhatItIs() throws {
        let test = try TestServer()
        defer { test.stop() }
        let size = test.ledger.size
        let assessed: JSONValue = ["type": "GoalStatusAssessed", "effectiveAt": "2023-02-01",
                                   "data": ["status": "on_track", "narrative": "n"]]
        let cases: [(JSONValue, Int, String)] = [
            (["streams": [["stream": "widget/X", "events": [assessed]]]], 422, "wrong_kind"),
            (["streams": [["stream": "goal/NEW-1", "events": [["type": "NoSuchType", "effectiveAt": "2023-02-01", "data": [:]]]]]],
             400, "unknown_type"),
        ]
        for (body, status, code) in cases {
            for role in [Role.contributor, .admin] {
                let response = try test.request("POST", "/v1/transactions", as: role, body: body)
                #expect(response.status == status && response.json["error"]?["code"] == .string(code),
                        "\(role): \(response.status) \(response.json)")
                #expect(response.headers["www-authenticate"] == nil)
            }
        }
        // The event no one could append is the stream's second: its first, alone, would be refused for scope.
        let second: JSONValue = ["streams": [["stream": "goal/NEW-9", "events": [
            assessed, ["type": "MeasureReadingRecorded", "effectiveAt": "2023-02-01", "data": ["value": 1, "at": "2023-02-01"]],
        ]]]]
        let refused = try test.request("POST", "/v1/transactions", as: .contributor, body: second)
        #expect(refused.status == 422 && refused.json["error"]?["code"] == "wrong_kind" && refused.json["error"]?["index"] == 1,
                "\(refused.status) \(refused.json)")
        #expect(test.ledger.size == size)
    }
}
