import Ledger

/// `planledger get`: a stream's events, or a range of the log.
enum GetCommand: Command {
    static let name = "get"
    static let summary = "show a stream's events (get goal/G-1) or a range of the log (get --after 100)"
    static let help = """
        Usage: planledger get STREAM [--from-version N] [--json] [--db PATH]
               planledger get [--after POSITION] [--limit N] [--type TYPE] [--kind KIND] [--json] [--db PATH]

        With a STREAM (kind/key, e.g. decision/BOARD-2022-031): that stream's events from --from-version (default 1).
        Without: the ledger's events after --after (default 0), at most --limit (default 100), optionally only
        of one --type or stream --kind.

        Options:
          --json     full envelopes as JSON (with hash), exactly as the API serves them
        """
    static let valuedOptions: Set<String> = ["from-version", "after", "limit", "type", "kind"]
    static let flagOptions: Set<String> = ["json"]

    static func run(_ arguments: CommandLineArguments, context: CommandContext) throws -> Int32 {
        let ledger = try LedgerAccess.open(context)
        defer { ledger.close() }
        let events: [RecordedEvent]
        if let name = arguments.positional.first {
            guard arguments.positional.count == 1 else { throw CLIError.usage("get takes one stream") }
            events = try ledger.stream(try LedgerAccess.streamName(name),
                                       fromVersion: try arguments.integer("from-version") ?? 1, limit: Int.max)
            if events.isEmpty { throw CLIError.failed("stream \(name) has no events") }
        } else {
            events = try ledger.events(after: try arguments.integer("after") ?? 0,
                                       limit: try arguments.integer("limit") ?? 100,
                                       filter: EventFilter(type: arguments.value("type"),
                                                           streamKind: arguments.value("kind")))
        }
        if arguments.flag("json") {
            Terminal.print(PrettyJSON.string(.array(events.map(\.json))))
        } else {
            Terminal.print(EventTable.render(events))
        }
        return 0
    }
}

/// A compact table of events for people.
enum EventTable {
    static func render(_ events: [RecordedEvent]) -> String {
        var rows = [["POS", "STREAM@V", "TYPE", "RECORDED", "EFFECTIVE", "ACTOR", "REASON"]]
        for event in events {
            rows.append([String(event.position), "\(event.stream)@\(event.version)", event.type,
                         event.recordedAt.rfc3339, event.effectiveAt.rfc3339,
                         "\(event.actor.id) (\(event.actor.role))", event.reason ?? ""])
        }
        return TextTable.render(rows)
    }
}

/// Left-aligned columns separated by two spaces.
enum TextTable {
    static func render(_ rows: [[String]]) -> String {
        guard let columns = rows.map(\.count).max() else { return "" }
        let widths = (0..<columns).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
