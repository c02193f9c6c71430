import Dispatch
import HTTPServer
import Ledger

extension PlanLedgerService {
    /// `GET /v1/events`: the log, filtered, a page at a time.
    func events(_ context: RequestContext) throws -> HTTPResponse {
        let limit = try context.integer("limit", default: 100, range: 1...1000)!
        var stream: StreamName?
        if let text = context.query("stream") {
            guard let name = StreamName(text) else { throw APIError.badRequest("stream must be kind/key", field: "stream") }
            stream = name
        }
        let filter = EventFilter(type: context.query("type"), stream: stream, streamKind: context.query("kind"),
                                 actorId: context.query("actor"), organisation: context.organisation(),
                                 recordedFrom: try context.time("from"), recordedTo: try context.time("to"))
        let after = try context.integer("after", default: 0)!
        let (events, next) = try ledger.eventPage(after: after, limit: limit, filter: filter)
        return .json(.object(omittingNil: [("events", .array(events.map(\.json))),
                                           ("next", next.map { JSONValue($0) })]))
    }

    /// `GET /v1/streams/{kind}/{key}`: a stream's events from `fromVersion`, at most `streamPageLimit`; `next` is the
    /// `fromVersion` of the rest when there is more.
    func stream(_ context: RequestContext) throws -> HTTPResponse {
        let stream = try context.stream()
        let fromVersion = try context.integer("fromVersion", default: 1, range: 1...Int.max)!
        let events = try ledger.stream(stream, fromVersion: fromVersion, limit: streamPageLimit)
        // Read after the events, so it is never below the last of them: the response tells the truth about the rest.
        let version = try ledger.version(of: stream)
        guard version > 0 else { throw APIError.notFound("stream \(stream) does not exist") }
        let next = events.last.flatMap { $0.version < version ? $0.version + 1 : nil }.map { JSONValue($0) }
        return .json(.object(omittingNil: [("stream", .string(stream.description)), ("version", JSONValue(version)),
                                           ("events", .array(events.map(\.json))), ("next", next)]))
    }

    /// `GET /v1/events/stream`: Server-Sent Events. Catches up from `after` (or `Last-Event-ID`), then sends each
    /// event as it commits, with a keep-alive comment when quiet; ends when the client leaves, the server stops, or
    /// the token no longer authorises the stream (revoked, here or by another process).
    func subscribe(_ context: RequestContext) throws -> HTTPResponse {
        var cursor = try context.integer("after", default: 0)!
        if let lastEventID = context.request.headers["last-event-id"], let position = Int(lastEventID) { cursor = position }
        let ledger = self.ledger
        let interval = keepAliveInterval
        let start = cursor
        return .stream(headers: [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")]) { writer in
            // The token was checked when the stream began, but a stream may stay open for days: it is checked again
            // before anything more is sent, so a revocation stops it as it stops a new request. Cheap while nothing
            // is committed (the token table answers from memory for an unchanged generation).
            func stillAuthorised() -> Bool {
                guard (try? self.authoriseAgain(context)) != nil else {
                    _ = writer.write(Array(": this token no longer authorises the stream\n\n".utf8))
                    return false
                }
                return true
            }
            var cursor = start
            guard writer.write(Array(": planledger events after \(cursor)\n\n".utf8)) else { return }
            var lastWrite = DispatchTime.now()
            while writer.isOpen {
                guard let events = try? ledger.events(after: cursor, limit: 500) else { return }
                if events.isEmpty {
                    if !ledger.waitForEvents(after: cursor, timeout: min(interval, 1)),
                        Double(DispatchTime.now().uptimeNanoseconds - lastWrite.uptimeNanoseconds) / 1e9 >= interval
                    {
                        // Quiet: a comment keeps proxies from closing the stream and notices a client that left.
                        guard stillAuthorised(), writer.write(Array(": keep-alive\n\n".utf8)) else { return }
                        lastWrite = DispatchTime.now()
                    }
                    continue
                }
                guard stillAuthorised() else { return }
                var chunk: [UInt8] = []
                for event in events {
                    chunk += Array("id: \(event.position)\nevent: ledger-event\ndata: ".utf8)
                    chunk += CanonicalJSON.encode(event.json)
                    chunk += Array("\n\n".utf8)
                }
                guard writer.write(chunk) else { return }
                lastWrite = DispatchTime.now()
                cursor = events.last!.position
            }
        }
    }
}
