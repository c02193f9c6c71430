import Archive
import Foundation
import HTTPServer
import Ledger
import Planning
import Testing

@testable import LedgerServer

/// Every read route over real HTTP on the demo story, with asOf and validAt.
@Suite struct ReadRouteTests {
    @Test func entityHistoryListPlanDiffImpactDecisionsMemory() throws {
        let test = try TestServer()
        defer { test.stop() }
        let then = try test.request("GET", "/v1/entities/assumption/A-CMHN-RATIO?asOf=2022-12-31", as: .reader)
        #expect(then.status == 200 && then.json["status"] == "active" && then.json["asOf"] == "2022-12-31T00:00:00.000Z")
        #expect(try test.request("GET", "/v1/entities/assumption/A-CMHN-RATIO", as: .reader).json["status"] == "invalidated")
        #expect(try test.request("GET", "/v1/entities/goal/AMB-1?validAt=2022-06-30", as: .reader).json["owner"] == .string(DemoStory.ccg))
        #expect(try test.request("GET", "/v1/entities/goal/NOPE", as: .reader).status == 404)
        #expect(try test.request("GET", "/v1/entities/goal/AMB-1?asOf=yesterday", as: .reader).status == 400)

        let history = try test.request("GET", "/v1/entities/measure/M-RTT-52WK/history", as: .reader)
        #expect(history.json["events"]?.arrayValue?.contains { $0["type"] == "MeasureReadingCorrected" } == true)
        let list = try test.request("GET", "/v1/entities/decision?status=proposed", as: .reader)
        #expect(list.json["entities"]?.arrayValue?.map { $0["stream"] } == ["decision/GB-2022-004"])

        let planThen = try test.request("GET", "/v1/plan?asOf=2022-06-30T12:00:00Z&validAt=2022-06-30T12:00:00Z", as: .reader)
        let planKnownNow = try test.request("GET", "/v1/plan?validAt=2022-06-30T12:00:00Z", as: .reader)
        #expect(!CanonicalJSON.string(planThen.json).contains("ICB-2022-011"))
        #expect(CanonicalJSON.string(planKnownNow.json).contains("ICB-2022-011"))
        #expect(try test.request("GET", "/v1/plan?organisation=QWO", as: .reader).json["organisation"] == .string(DemoStory.icb))

        let diff = try test.request("GET", "/v1/plan/diff?from=2022-06-30&to=2022-12-31", as: .reader)
        #expect(diff.json["closed"]?.arrayValue?.map { $0["stream"] } == ["decision/GB-2021-022"])
        // The handover to the ICB on 1 July: each item with the organisation it passed from and to.
        let transferred = diff.json["transferred"]?.arrayValue ?? []
        #expect(transferred.map { $0["stream"] } == DemoStory.ccgItems.map(JSONValue.string))
        #expect(transferred.allSatisfy { $0["from"] == .string(DemoStory.ccg) && $0["to"] == .string(DemoStory.icb) })
        #expect(transferred.first?["events"]?.arrayValue?.first?["stream"] == "handover/QWO-CCG-TO-QWO")
        let trustDiff = try test.request("GET", "/v1/plan/diff?from=2022-06-30&to=2022-12-31&organisation=RXX",
                                         as: .reader)
        #expect(trustDiff.status == 200 && trustDiff.json["transferred"] == [])
        #expect(try test.request("GET", "/v1/plan/diff?from=2022-06-30", as: .reader).status == 400)

        let impact = try test.request("GET", "/v1/impact/assumption/A-CMHN-RATIO", as: .reader)
        #expect(impact.json["decisions"]?.arrayValue?.map { $0["stream"] } == ["decision/GB-2021-017"])
        let decisions = try test.request("GET", "/v1/decisions?forum=Governing%20Body&status=superseded", as: .reader)
        #expect(decisions.json["decisions"]?.arrayValue?.map { $0["stream"] } == ["decision/GB-2021-022"])
        let memory = try test.request("GET", "/v1/organisations/QWO-CCG/memory", as: .auditor)
        #expect(memory.json["handoversOut"]?.arrayValue?.first?["openAtHandover"]?.arrayValue?.count == 4)
    }

    /// A filter naming an organisation the ledger has never recorded is 404, and a name that is not an
    /// organisation's 400, not an empty answer an auditor would take for "it owns nothing". One recorded later than
    /// the slice asked for still answers, empty: that is the answer then.
    @Test func anUnknownOrganisationFilterIsNotFound() throws {
        let test = try TestServer()
        defer { test.stop() }
        for target in ["/v1/plan?organisation=QWX", "/v1/entities/goal?organisation=QWX",
                       "/v1/plan/diff?from=2022-06-30&to=2022-12-31&organisation=QWX"] {
            let response = try test.request("GET", target, as: .reader)
            #expect(response.status == 404 && response.json["error"]?["code"] == "not_found", "\(target): \(response.json)")
            #expect(response.json["error"]?["message"]?.stringValue?.contains("organisation/QWX") == true)
        }
        let malformed = try test.request("GET", "/v1/plan?organisation=goal/AMB-1", as: .reader)
        #expect(malformed.status == 400, "\(malformed.json)")
        let before = try test.request("GET", "/v1/plan?organisation=QWO&asOf=2000-01-01", as: .reader)
        #expect(before.status == 200 && before.json["goals"] == [], "\(before.json)")
        #expect(try test.request("GET", "/v1/plan?organisation=QWO", as: .reader).json["goals"]?.arrayValue?.isEmpty == false)
    }

    /// A kind or status no entity could have is refused, not answered with an empty list that reads as "none".
    @Test func anUnknownKindOrStatusIsRefused() throws {
        let test = try TestServer()
        defer { test.stop() }
        let refused: [(String, Int, String)] = [
            ("/v1/entities/goals", 404, "kind"), ("/v1/entities/goal?status=actve", 400, "status"),
            ("/v1/decisions?status=bogus", 400, "status"),
            // Statuses of other kinds: a goal is never taken, a decision never active.
            ("/v1/entities/goal?status=taken", 400, "status"), ("/v1/decisions?status=active", 400, "status"),
        ]
        for (target, status, field) in refused {
            let response = try test.request("GET", target, as: .reader)
            #expect(response.status == status && response.json["error"]?["field"] == .string(field), "\(target): \(response.json)")
        }
        #expect(try test.request("GET", "/v1/entities/goal?status=active", as: .reader).json["entities"]?.arrayValue?.isEmpty == false)
        #expect(try test.request("GET", "/v1/decisions?status=taken", as: .reader).json["decisions"]?.arrayValue?.isEmpty == false)
    }

    /// Views that may fold or scan much of the ledger (a plan over a million events takes seconds) run on a thread
    /// of their own and answer later, so the other connections of their event loop do not wait; point reads and
    /// proofs answer at once, on the loop.
    @Test func viewsThatMayTakeLongAnswerLaterAndPointReadsAtOnce() throws {
        let test = try TestServer()
        defer { test.stop() }
        func isLater(_ response: HTTPResponse) -> Bool { if case .later = response.body { true } else { false } }
        for target in ["/v1/plan", "/v1/plan/diff?from=2022-06-30&to=2022-12-31", "/v1/decisions",
                       "/v1/entities/decision", "/v1/entities/goal/AMB-1/history", "/v1/organisations/QWO-CCG/memory",
                       "/v1/impact/assumption/A-CMHN-RATIO", "/v1/events", "/v1/streams/goal/AMB-1", "/v1/tokens"] {
            let response = test.handled(target)
            #expect(isLater(response), "\(target)")
            #expect(TestServer.delivered(response)?.status == 200, "\(target)")
        }
        for target in ["/v1/entities/goal/AMB-1", "/v1/ledger/checkpoint", "/v1/ledger/proofs/inclusion?position=1",
                       "/healthz"] {
            let response = test.handled(target)
            #expect(!isLater(response) && response.status == 200, "\(target)")
        }
    }

    @Test func logStreamsCheckpointAndProofsVerifyClientSide() throws {
        let test = try TestServer()
        defer { test.stop() }
        let page = try test.request("GET", "/v1/events?limit=5&kind=decision", as: .auditor)
        let events = page.json["events"]?.arrayValue ?? []
        #expect(events.count == 5 && events.allSatisfy { $0["stream"]?.stringValue?.hasPrefix("decision/") == true })
        #expect(page.json["next"] == events.last?["position"])
        let next = try test.request("GET", "/v1/events?limit=5&kind=decision&after=\(page.json["next"]!.intValue!)", as: .auditor)
        #expect(next.json["events"]?.arrayValue?.first?["position"]?.intValue ?? 0 > page.json["next"]!.intValue!)
        // An independent client recomputes each served envelope's hash.
        for event in events {
            let record = try RecordedEvent(json: event)
            #expect(record.computedHash == record.hash)
        }
        let stream = try test.request("GET", "/v1/streams/decision/GB-2021-017?fromVersion=2", as: .reader)
        #expect(stream.json["version"] == 2 && stream.json["events"]?.arrayValue?.count == 1)

        let checkpoint = try test.request("GET", "/v1/ledger/checkpoint", as: .reader).json
        let size = checkpoint["size"]!.intValue!
        let root = Digest(hex: checkpoint["rootHash"]!.stringValue!)!
        let proof = try test.request("GET", "/v1/ledger/proofs/inclusion?position=7&size=\(size)", as: .reader).json
        let leaf = try RecordedEvent(json: try test.request("GET", "/v1/events?after=6&limit=1", as: .auditor).json["events"]!.arrayValue![0])
        #expect(MerkleProof.verifyInclusion(leafHash: leaf.computedHash, leafIndex: 6, size: size,
                                            path: proof["path"]!.arrayValue!.map { Digest(hex: $0.stringValue!)! }, rootHash: root))
        let old = try test.request("GET", "/v1/ledger/checkpoint?size=20", as: .reader).json
        let consistency = try test.request("GET", "/v1/ledger/proofs/consistency?from=20&to=\(size)", as: .reader).json
        #expect(MerkleProof.verifyConsistency(fromSize: 20, toSize: size, fromRoot: Digest(hex: old["rootHash"]!.stringValue!)!,
                                              toRoot: root, path: consistency["path"]!.arrayValue!.map { Digest(hex: $0.stringValue!)! }))
        #expect(try test.request("GET", "/v1/ledger/proofs/inclusion?position=0", as: .reader).status == 400)
        #expect(try test.request("GET", "/v1/ledger/proofs/inclusion?position=9999", as: .reader).status == 404)
    }

    /// `next` is absent from the last page, as openapi's EventPage says: not `"next": null`, and not on a full page
    /// that ends the log either.
    @Test func theLastPageOfTheLogHasNoNext() throws {
        let test = try TestServer()
        defer { test.stop() }
        let more = try test.request("GET", "/v1/events?after=\(test.ledger.size - 3)&limit=2", as: .auditor)
        #expect(more.json["next"] == JSONValue(test.ledger.size - 1), "one more event follows this page")
        // A full page that ends the log is the last page: no `next` that would lead to an empty one.
        for target in ["/v1/events?after=\(test.ledger.size - 2)&limit=2", "/v1/events?after=\(test.ledger.size - 1)&limit=2",
                       "/v1/events?after=\(test.ledger.size)"] {
            let last = try test.request("GET", target, as: .auditor)
            #expect(last.status == 200 && last.json["events"]?.arrayValue != nil, "\(target)")
            #expect(last.json.objectValue?.keys.contains("next") == false, "\(target): \(CanonicalJSON.string(last.json))")
        }
    }

    /// A stream longer than one response comes in pages: `next` is the `fromVersion` of the rest, absent on the last.
    @Test func longStreamsComeInPagesLinkedByNext() throws {
        let test = try TestServer(streamPageLimit: 2)
        defer { test.stop() }
        let stream = "measure/M-RTT-52WK"
        let version = try test.ledger.version(of: try #require(StreamName(stream)))
        try #require(version >= 3, "the demo stream needs more events than one page")
        var versions: [Int] = []
        var target: String? = "/v1/streams/\(stream)"
        var pages = 0
        while let current = target, pages <= version {
            let page = try test.request("GET", current, as: .reader)
            #expect(page.status == 200 && page.json["version"] == JSONValue(version))
            let events = page.json["events"]?.arrayValue ?? []
            #expect(!events.isEmpty && events.count <= 2, "\(current)")
            versions += events.compactMap { $0["version"]?.intValue }
            target = page.json["next"].map { "/v1/streams/\(stream)?fromVersion=\($0.intValue ?? 0)" }
            #expect(target == nil || page.json["next"]?.intValue == versions.last.map { $0 + 1 }, "\(current)")
            pages += 1
        }
        #expect(versions == Array(1...version), "every event, once, in order")
        #expect(pages == (version + 1) / 2, "a page that ends at the stream's version has no next")
    }

    @Test func archiveOfTheCCGVerifiesAgainstTheFullLedgersCheckpoint() throws {
        let test = try TestServer()
        defer { test.stop() }
        let response = try test.client().request("GET", "/v1/archives?organisation=QWO-CCG",
                                                  headers: [("Authorization", "Bearer \(test.tokens[.auditor]!)")])
        #expect(response.status == 200 && response.headers["content-type"] == "application/x-ndjson")
        let report = try ArchiveVerifier().verify(LineReader(bytes: response.body))
        let checkpoint = try test.ledger.checkpoint()
        #expect(report.manifest.source == checkpoint)
        #expect(report.manifest.summary?["organisation"] == .string(DemoStory.ccg))
        let streams = Set(CanonicalJSON.string(report.manifest.json).matches("goal/"))
        #expect(!streams.isEmpty)
        #expect(report.events > 20)
    }

    @Test func liveSubscriptionCatchesUpThenStreams() throws {
        let test = try TestServer()
        defer { test.stop() }
        let client = try test.client()
        let size = test.ledger.size
        try client.sendRaw("GET /v1/events/stream?after=\(size - 2) HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(test.tokens[.auditor]!)\r\n\r\n")
        let head = try client.readStreamHead()
        #expect(head.status == 200 && head.headers["content-type"] == "text/event-stream")
        var received: [Int] = []
        var sawKeepAlive = false
        func read(until count: Int) throws {
            while received.count < count {
                guard let chunk = try client.readChunk() else { return }
                let text = String(decoding: chunk, as: UTF8.self)
                if text.contains(": keep-alive") { sawKeepAlive = true }
                for line in text.split(separator: "\n") where line.hasPrefix("id: ") { received.append(Int(line.dropFirst(4))!) }
            }
        }
        try read(until: 2)
        #expect(received == [size - 1, size])
        let append = try test.request("POST", "/v1/transactions", body: [
            "streams": [["stream": "measure/M-MH-SMI", "events": [["type": "MeasureReadingRecorded", "effectiveAt": "2023-03-31",
                                                                  "data": ["value": 3900, "at": "2023-03-31"]]]]]])
        #expect(append.status == 201)
        try read(until: 3)
        #expect(received.last == size + 1)
        Thread.sleep(forTimeInterval: 1.2)
        while !sawKeepAlive, let chunk = try client.readChunk() {
            if String(decoding: chunk, as: UTF8.self).contains(": keep-alive") { sawKeepAlive = true }
        }
        #expect(sawKeepAlive)
    }

    /// Revoking a token ends its open live streams: nothing committed after the revocation reaches them.
    @Test func liveSubscriptionEndsWhenItsTokenIsRevoked() throws {
        let test = try TestServer()
        defer { test.stop() }
        let created = try test.request("POST", "/v1/tokens", body: ["role": "auditor", "label": "watcher"])
        let secret = try #require(created.json["token"]?.stringValue)
        let id = try #require(created.json["id"]?.stringValue)
        let client = try test.client()
        try client.sendRaw("GET /v1/events/stream?after=\(test.ledger.size) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(secret)\r\n\r\n")
        #expect(try client.readStreamHead().status == 200)
        _ = try client.readChunk()  // the opening comment
        #expect(try test.request("DELETE", "/v1/tokens/\(id)?reason=left").status == 200)
        #expect(try test.request("GET", "/v1/events?limit=1", token: secret).status == 401)
        let append = try test.request("POST", "/v1/transactions", body: [
            "streams": [["stream": "measure/M-MH-SMI", "events": [["type": "MeasureReadingRecorded", "effectiveAt": "2023-03-31",
                                                                  "data": ["value": 3900, "at": "2023-03-31"]]]]]])
        #expect(append.status == 201)
        var received: [String] = []
        var ended = false
        let deadline = Date(timeIntervalSinceNow: 4)
        while Date() < deadline {
            guard let chunk = try client.readChunk() else {
                ended = true
                break
            }
            received += String(decoding: chunk, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("id: ") }.map(String.init)
        }
        #expect(received.isEmpty, "sent after the revocation: \(received)")
        #expect(ended, "the stream ends")
    }
}

extension String {
    func matches(_ needle: String) -> [Substring] {
        var found: [Substring] = []
        var rest = self[...]
        while let range = rest.range(of: needle) {
            found.append(rest[range])
            rest = rest[range.upperBound...]
        }
        return found
    }
}
