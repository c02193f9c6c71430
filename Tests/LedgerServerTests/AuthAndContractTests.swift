import Access
import Foundation
import Ledger
import Testing

@testable import LedgerServer

/// Who may call what, and the OpenAPI document agreeing with the routes.
@Suite struct AuthAndContractTests {
    /// A sample request for each route pattern.
    static let samples: [String: String] = [
        "/v1/events/stream": "/v1/events?limit=1",  // streaming: probed through its sibling's role below
        "/v1/streams/{kind}/{key}": "/v1/streams/goal/AMB-1",
        "/v1/entities/{kind}/{key}": "/v1/entities/goal/AMB-1",
        "/v1/entities/{kind}/{key}/history": "/v1/entities/goal/AMB-1/history",
        "/v1/entities/{kind}": "/v1/entities/goal",
        "/v1/plan/diff": "/v1/plan/diff?from=2022-01-01&to=2022-12-31",
        "/v1/impact/{kind}/{key}": "/v1/impact/assumption/A-CMHN-RATIO",
        "/v1/organisations/{key}/memory": "/v1/organisations/QWO/memory",
        "/v1/ledger/proofs/inclusion": "/v1/ledger/proofs/inclusion?position=1",
        "/v1/ledger/proofs/consistency": "/v1/ledger/proofs/consistency?from=1",
        "/v1/tokens/{id}": "/v1/tokens/tok-none?reason=test",
    ]

    @Test func roleByRouteMatrix() throws {
        let test = try TestServer()
        defer { test.stop() }
        for route in test.service.routeTable where route.pattern != "/v1/events/stream" {
            let target = Self.samples[route.pattern] ?? route.pattern
            let body: JSONValue? = route.method == "POST"
                ? (route.pattern == "/v1/tokens" ? ["role": "reader"] : ["streams": [["stream": "goal/OBJ-MH", "events": [
                    ["type": "GoalStatusAssessed", "effectiveAt": "2023-02-01", "data": ["status": "on_track", "narrative": "n"]]]]]])
                : nil
            let required = route.role.flatMap(Role.init(rawValue:))
            for role in [nil] + Role.allCases {
                let status = try test.request(route.method, target, as: role, body: body).status
                let context = "\(route.method) \(route.pattern) as \(role?.rawValue ?? "anonymous")"
                if let required {
                    if role == nil {
                        #expect(status == 401, "\(context)")
                    } else if !role!.satisfies(required) {
                        #expect(status == 403, "\(context)")
                    } else {
                        #expect(status != 401 && status != 403, "\(context): \(status)")
                    }
                } else {
                    #expect(status == 200, "\(context)")
                }
            }
        }
        // The live stream needs the auditor role too.
        #expect(try test.request("GET", "/v1/events/stream", as: .reader).status == 403)
        #expect(try test.request("GET", "/v1/events/stream", as: nil).status == 401)
        #expect(try test.request("GET", "/v1/plan", token: "plt_not-a-token").status == 401)
    }

    @Test func revokedTokensStopWorkingAndGrantsAreAudited() throws {
        let test = try TestServer()
        defer { test.stop() }
        let created = try test.request("POST", "/v1/tokens", body: ["role": "reader", "label": "analyst"])
        #expect(created.status == 201)
        let secret = try #require(created.json["token"]?.stringValue)
        let id = try #require(created.json["id"]?.stringValue)
        #expect(try test.request("GET", "/v1/plan", token: secret).status == 200)
        #expect(try test.request("DELETE", "/v1/tokens/\(id)").status == 400, "a revocation needs a reason")
        #expect(try test.request("DELETE", "/v1/tokens/\(id)?reason=left").status == 200)
        #expect(try test.request("GET", "/v1/plan", token: secret).status == 401)
        let audit = try test.request("GET", "/v1/events?stream=access/\(id)", as: .auditor).json["events"]?.arrayValue ?? []
        #expect(audit.map { $0["type"] } == ["AccessGranted", "AccessRevoked"])
        #expect(audit.last?["reason"] == "left" && audit.last?["actor"]?["id"] == "admin-1")
        #expect(!CanonicalJSON.string(.array(audit)).contains(secret), "the secret itself is never stored")
        let listed = try test.request("GET", "/v1/tokens").json["tokens"]?.arrayValue ?? []
        #expect(listed.allSatisfy { $0["token"] == nil })
        // A token's record is read with the audit log it is part of: not by a reader or contributor, by name either.
        // An auditor reads the stream and its history; a token has no entity state or impact to show (404).
        let auditorSees = ["/v1/streams/access/\(id)": 200, "/v1/entities/access/\(id)/history": 200,
                           "/v1/entities/access/\(id)": 404, "/v1/impact/access/\(id)": 404]
        for (path, status) in auditorSees {
            for role in [Role.reader, .contributor] {
                let refused = try test.request("GET", path, as: role)
                #expect(refused.status == 403 && refused.headers["www-authenticate"] == #"Bearer error="insufficient_scope""#,
                        "\(path) as \(role)")
            }
            #expect(try test.request("GET", path, as: .auditor).status == status, "\(path) as auditor")
        }
    }

    /// A 401 carries the challenge RFC 9110 §11.6.1 requires: `Bearer`, with `error="invalid_token"` when the token
    /// sent is unknown or revoked (RFC 6750 §3); a 403 for a token lacking the role, `error="insufficient_scope"`.
    @Test func unauthenticatedAnswersChallengeForABearerToken() throws {
        let test = try TestServer(demo: false)
        defer { test.stop() }
        func challenge(_ headers: [(String, String)]) throws -> String? {
            let response = try test.client().request("GET", "/v1/plan", headers: headers)
            #expect(response.status == 401)
            return response.headers["www-authenticate"]
        }
        #expect(try challenge([]) == "Bearer")
        #expect(try challenge([("Authorization", "Basic YWRtaW46YWRtaW4=")]) == "Bearer", "another scheme is no bearer token")
        #expect(try challenge([("Authorization", "Bearer plt_not-a-token")]) == #"Bearer error="invalid_token""#)
        let created = try test.request("POST", "/v1/tokens", body: ["role": "reader"])
        let id = try #require(created.json["id"]?.stringValue)
        #expect(try test.request("DELETE", "/v1/tokens/\(id)?reason=left").status == 200)
        let revoked = try #require(created.json["token"]?.stringValue)
        #expect(try challenge([("Authorization", "Bearer \(revoked)")]) == #"Bearer error="invalid_token""#)
        // A valid token without the role: 403 with the scope challenge (RFC 6750 §3.1).
        let forbidden = try test.client().request("GET", "/v1/tokens", headers: [("Authorization", "Bearer \(test.tokens[.reader]!)")])
        #expect(forbidden.status == 403 && forbidden.headers["www-authenticate"] == #"Bearer error="insufficient_scope""#)
        // Two credentials are refused, whichever comes first: a proxy might have read the other one.
        let twice = try test.client().request("GET", "/v1/plan", headers: [
            ("Authorization", "Bearer \(test.tokens[.admin]!)"), ("Authorization", "Bearer plt_someone-else")])
        #expect(twice.status == 400 && twice.text.contains("Authorization"), "\(twice.text)")
    }

    /// A token's fields of the wrong type are refused naming the field, not replaced by defaults; nothing is stored.
    @Test func tokenFieldsOfTheWrongTypeAreRefused() throws {
        let test = try TestServer(demo: false)
        defer { test.stop() }
        let size = test.ledger.size
        let refused: [(JSONValue, String)] = [
            (["role": "reader", "label": 5], "label"),
            (["role": "reader", "actorId": 7], "actorId"),
            (["role": "reader", "actorId": .null], "actorId"),
            (["role": "reader", "organisations": "QWO"], "organisations"),
            (["role": "contributor", "organisations": ["QWO", 3]], "organisations"),
            (["role": "reader", "reason": ["why"]], "reason"),
            (["role": 1], "role"),
            (["role": "reader", "lable": "typo"], "lable"),
            (["reader"], "body"),
            // The actor id goes into every event the token records: bounded, as is the label.
            (["role": "reader", "actorId": .string(String(repeating: "a", count: 257))], "actorId"),
            (["role": "reader", "label": .string(String(repeating: "l", count: 1_025))], "label"),
            // Blank: every append the token made would be refused (invalid_actor), so it is not granted.
            (["role": "reader", "actorId": " "], "actorId"), (["role": "reader", "label": "\t"], "actorId"),
        ]
        for (body, field) in refused {
            let response = try test.request("POST", "/v1/tokens", body: body)
            #expect(response.status == 400 && response.json["error"]?["field"] == .string(field), "\(CanonicalJSON.string(body))")
        }
        #expect(test.ledger.size == size, "nothing refused was stored")
        let created = try test.request("POST", "/v1/tokens", body: ["role": "contributor", "organisations": ["QWO"],
                                                                    "label": "analyst", "actorId": "a-1", "reason": "r"])
        #expect(created.status == 201 && created.json["actorId"] == "a-1" && created.json["organisations"] == ["organisation/QWO"])
        let id = try #require(created.json["id"]?.stringValue)
        let refusedRevocations: [(String, JSONValue, String)] = [
            ("", ["reason": 5], "reason"), ("", ["reason": "left", "why": "x"], "why"),
            // A reason in the query does not excuse the body: it is checked as on every route, and may not differ.
            ("?reason=left", ["reason": 5], "reason"), ("?reason=left", ["why": "x"], "why"),
            ("?reason=left", ["reason": "moved on"], "reason"),
        ]
        for (query, body, field) in refusedRevocations {
            let response = try test.request("DELETE", "/v1/tokens/\(id)\(query)", body: body)
            #expect(response.status == 400 && response.json["error"]?["field"] == .string(field),
                    "\(query) \(CanonicalJSON.string(body))")
        }
        let plainText = try test.client().request("DELETE", "/v1/tokens/\(id)?reason=left", headers: [
            ("Authorization", "Bearer \(test.tokens[.admin]!)"), ("Content-Type", "text/plain"),
        ], body: Array("hello".utf8))
        #expect(plainText.status == 415)
        #expect(test.ledger.size == size + 1, "no revocation refused above was stored")
        #expect(try test.request("DELETE", "/v1/tokens/\(id)?reason=left", body: ["reason": "left"]).status == 200)
    }

    /// Granting or revoking a token appends an event, but the caller sent a token's fields: a refusal names those
    /// fields, not the event's (`data.organisations`, `index` 0).
    @Test func tokenRefusalsNameTheRequestsFields() throws {
        let test = try TestServer()
        defer { test.stop() }
        let contributor = try test.request("POST", "/v1/tokens", body: ["role": "contributor"])
        #expect(contributor.status == 400 && contributor.json["error"]?["field"] == "organisations", "\(contributor.json)")
        #expect(contributor.json["error"]?["index"] == nil)
        #expect(contributor.json["error"]?["message"]?.stringValue?.hasPrefix("organisations:") == true)
        let created = try test.request("POST", "/v1/tokens", body: ["role": "reader"])
        let id = try #require(created.json["id"]?.stringValue)
        #expect(try test.request("DELETE", "/v1/tokens/\(id)?reason=left").status == 200)
        let again = try test.request("DELETE", "/v1/tokens/\(id)?reason=left")
        #expect(again.status == 422 && again.json["error"]?["code"] == "invalid_transition" && again.json["error"]?["index"] == nil,
                "\(again.json)")
    }

    /// A query parameter a route does not take, or one given twice, is refused before anything is read or stored:
    /// a misspelt `asof` must not quietly give today's plan to someone asking for a past one.
    @Test func unknownOrRepeatedQueryParametersAreRefused() throws {
        let test = try TestServer()
        defer { test.stop() }
        let size = test.ledger.size
        for route in test.service.routeTable {
            let target = Self.samples[route.pattern] ?? route.pattern
            let response = try test.request(route.method, target + (target.contains("?") ? "&" : "?") + "zzz=1")
            #expect(response.status == 400 && response.json["error"]?["field"] == "zzz", "\(route.method) \(target)")
        }
        // The live stream is refused before it starts (the loop above probes its sibling in its place).
        let stream = try test.request("GET", "/v1/events/stream?after=1&zzz=1")
        #expect(stream.status == 400 && stream.json["error"]?["field"] == "zzz")
        let misspelt = try test.request("GET", "/v1/plan?asof=2022-06-30")
        #expect(misspelt.status == 400 && misspelt.json["error"]?["field"] == "asof")
        #expect(misspelt.json["error"]?["message"]?.stringValue?.contains("did you mean asOf?") == true)
        let repeated = try test.request("GET", "/v1/ledger/proofs/inclusion?position=1&position=2")
        #expect(repeated.status == 400 && repeated.json["error"]?["field"] == "position")
        #expect(try test.request("GET", "/v1/plan?organisation=QWO&asOf=2022-06-30&validAt=2022-06-30").status == 200)
        #expect(test.ledger.size == size, "nothing was stored")
    }

    @Test func openAPIDocumentsExactlyTheImplementedRoutes() throws {
        let test = try TestServer(demo: false)
        defer { test.stop() }
        let served = try test.request("GET", "/openapi.json", as: nil)
        #expect(served.status == 200)
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Schemas/openapi.json")
        let committed = try JSONParser.parse(Array(try Data(contentsOf: file)))
        #expect(served.json == committed, "GET /openapi.json serves Schemas/openapi.json")
        var documented: Set<String> = []
        /// The names of the query parameters an operation (or its path) lists, `$ref`s resolved.
        func queryNames(_ parameters: JSONValue?) -> Set<String> {
            Set((parameters?.arrayValue ?? []).compactMap { parameter -> String? in
                let resolved = parameter["$ref"]?.stringValue.map { reference in
                    committed["components"]?["parameters"]?[String(reference.split(separator: "/").last!)]
                } ?? parameter
                return resolved?["in"] == .string("query") ? resolved?["name"]?.stringValue : nil
            })
        }
        for (path, operations) in committed["paths"]?.objectValue ?? [:] {
            for (method, operation) in operations.objectValue ?? [:] where method != "parameters" {
                documented.insert("\(method.uppercased()) \(path)")
                let role = operation["x-required-role"]?.stringValue
                let implemented = test.service.routeTable.first { $0.method == method.uppercased() && $0.pattern == path }
                #expect(implemented?.role == role, "\(method) \(path): documented role \(role ?? "public")")
                let query = queryNames(operations["parameters"]).union(queryNames(operation["parameters"]))
                #expect(implemented.map { Set($0.query) } == query, "\(method) \(path): documented query \(query.sorted())")
            }
        }
        let implemented = Set(test.service.routeTable.map { "\($0.method) \($0.pattern)" })
        #expect(implemented == documented)
    }

    @Test func metricsCountRequestsAndAppends() throws {
        let test = try TestServer()
        defer { test.stop() }
        _ = try test.request("GET", "/v1/plan", as: .reader)
        _ = try test.request("GET", "/v1/plan", as: nil)
        let metrics = try test.client().request("GET", "/metrics").text
        #expect(metrics.contains(#"planledger_http_requests_total{route="/v1/plan",status="200"} 1"#))
        #expect(metrics.contains(#"planledger_http_requests_total{route="/v1/plan",status="401"} 1"#))
        #expect(metrics.contains("planledger_ledger_events \(test.ledger.size)"))
        #expect(metrics.contains("# TYPE planledger_append_duration_seconds histogram"))
    }

    /// Events another process commits to the file (a `planledger append` beside the server) are counted at once, not
    /// only after the server's own next commit.
    @Test func healthAndMetricsCountEventsCommittedByAnotherProcess() throws {
        let test = try TestServer()
        defer { test.stop() }
        let before = test.ledger.size
        #expect(try test.request("GET", "/healthz", as: nil).json["size"] == JSONValue(before))
        let other = try Ledger(path: test.ledger.path, hook: PlanLedgerHook.standard)
        _ = try other.append(try AppendTransaction(json: [
            "streams": [["stream": "measure/M-MH-SMI", "events": [["type": "MeasureReadingRecorded", "effectiveAt": "2023-03-31",
                                                                  "data": ["value": 3900, "at": "2023-03-31"]]]]]],
            actor: Actor(id: "cli", role: "admin")))
        other.close()
        #expect(try test.request("GET", "/healthz", as: nil).json["size"] == JSONValue(before + 1))
        #expect(try test.client().request("GET", "/metrics").text.contains("planledger_ledger_events \(before + 1)\n"))
    }

    @Test func bearerTokenHeaderParsing() {
        #expect(PlanLedgerService.bearerToken("Bearer plt_abc") == "plt_abc")
        #expect(PlanLedgerService.bearerToken("bEaReR \t plt_abc  ") == "plt_abc")
        #expect(PlanLedgerService.bearerToken("Bearer ") == nil)
        #expect(PlanLedgerService.bearerToken("Bearer    ") == nil)
        #expect(PlanLedgerService.bearerToken("Basic plt_abc") == nil)
        #expect(PlanLedgerService.bearerToken("Bearerplt_abc") == nil)
        #expect(PlanLedgerService.bearerToken("") == nil)
        #expect(PlanLedgerService.bearerToken("Bear") == nil)
        #expect(PlanLedgerService.bearerToken("Bearer") == nil)
        #expect(PlanLedgerService.bearerToken("BEARER plt_abc") == "plt_abc")
        #expect(PlanLedgerService.bearerToken("Bearér plt_abc") == nil)
        #expect(PlanLedgerService.bearerToken("Bearer\u{0}plt_abc") == nil)
    }
}
