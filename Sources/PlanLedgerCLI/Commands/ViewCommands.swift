import Foundation
import Ledger
import Planning
import Projections

/// Options every view command takes.
private let sliceOptions: Set<String> = ["as-of", "valid-at"]
private let sliceHelp = """
      --as-of TIME      the ledger as recorded at TIME (transaction time)
      --valid-at TIME   only what was in force at TIME (valid time; default now, so records that take effect later
                        are left out); with --as-of: what we believed at one about the other
      --json            the API's JSON instead of a table
    TIME is a date (2022-06-30, midnight UTC) or an RFC 3339 date-time.
    """

/// Prints a view as JSON or as text.
private func show(_ json: JSONValue, _ arguments: CommandLineArguments, text: (JSONValue) -> String) {
    Terminal.print(arguments.flag("json") ? PrettyJSON.string(json) : text(json))
}

private func string(_ value: JSONValue?) -> String {
    switch value {
    case .string(let text)?: text
    case nil, .null?: ""
    case let value?: CanonicalJSON.string(value)
    }
}

/// `text` cut to `limit` characters, the cut marked with "…" (in the limit); --json shows the whole value.
func clipped(_ text: String, _ limit: Int) -> String {
    text.count <= limit ? text : text.prefix(limit - 1) + "…"
}

private func header(_ title: String, _ json: JSONValue) -> String {
    var parts = [title]
    if let asOf = json["asOf"]?.stringValue { parts.append("as recorded at \(asOf)") }
    if let validAt = json["validAt"]?.stringValue { parts.append("in force at \(validAt)") }
    return parts.joined(separator: " — ")
}

/// `planledger get`: an entity's state, a stream's events, or a range of the log.
enum GetCommand: Command {
    static let name = "get"
    static let summary = "an entity's state (get goal/G-1), its raw events (--events), or a range of the log"
    static let help = """
        Usage: planledger get STREAM [--as-of TIME] [--valid-at TIME] [--json] [--db PATH]
               planledger get STREAM --events [--from-version N] [--json] [--db PATH]
               planledger get [--after POSITION] [--limit N] [--type TYPE] [--kind KIND] [--json] [--db PATH]

        With a STREAM (kind/key, e.g. decision/GB-2021-017): its state, owner and status at the requested times;
        with --events, its events from --from-version on, as stored (full envelopes with --json). Without a stream:
        the log after --after (default 0), at most --limit (default 100) events, optionally of one --type or stream
        --kind. Each form takes only the options on its usage line: --as-of and --valid-at select an entity's state,
        not events, so they are refused with --events or for the log.

        Options:
          --as-of TIME, --valid-at TIME
                              an entity's state as recorded at TIME, or in force at TIME, as in the views
          --events            the stream's events instead of its state
          --from-version N    its events from version N on (default 1)
          --after POSITION    the log after POSITION (default 0)
          --limit N           at most N events of the log (default 100)
          --type TYPE         only events of the log of this type (GoalDefined)
          --kind KIND         only events of the log on streams of this kind (goal, decision)
          --json              the API's JSON instead of a table: an entity as GET /v1/entities/{kind}/{key},
                              events as GET /v1/streams/{kind}/{key} ({stream, version, events}), the log as
                              GET /v1/events ({events, next}, next present when more follow)
        TIME is a date (2022-06-30, midnight UTC) or an RFC 3339 date-time. Shown as a table, a page of the log
        that more events follow ends with the command for the next page, on standard error.
        """
    static let positionals = Positionals.upTo(["STREAM"])
    static let valuedOptions: Set<String> = sliceOptions.union(["from-version", "after", "limit", "type", "kind"])
    static let flagOptions: Set<String> = ["json", "events"]

    /// The options each form of the usage line reads. One form's options given to another are a usage error: they
    /// would be silently ignored (`get --as-of` of the log is not the log as of then).
    static let formOptions: [(form: String, options: Set<String>)] = [
        ("get STREAM", sliceOptions), ("get STREAM --events", ["events", "from-version"]),
        ("get without a STREAM", ["after", "limit", "type", "kind"]),
    ]

    static func run(_ arguments: CommandLineArguments, context: CommandContext) throws -> Int32 {
        let form = arguments.positional.isEmpty ? formOptions[2]
            : arguments.flag("events") ? formOptions[1] : formOptions[0]
        let foreign = arguments.given.subtracting(form.options).subtracting(["json", "db"])
        if let option = foreign.sorted().first {
            throw CLIError.usage("--\(option) does not apply to \(form.form) (see the usage lines)")
        }
        // Events come from the log alone; only an entity's state needs the projections.
        let readsState = !arguments.positional.isEmpty && !arguments.flag("events")
        let ledger = try LedgerAccess.open(context, for: readsState ? .readingViews : .readingLog)
        defer { ledger.close() }
        guard let name = arguments.positional.first else { return try log(ledger, arguments, context) }
        let stream = try LedgerAccess.streamName(name)
        if arguments.flag("events") {
            let fromVersion = try arguments.integer("from-version", in: 1...Int.max) ?? 1
            let events = try ledger.stream(stream, fromVersion: fromVersion, limit: Int.max)
            let version = try ledger.version(of: stream)
            if events.isEmpty {
                throw CLIError.failed(
                    version == 0 ? "stream \(name) has no events"
                        : "stream \(name) has no events from version \(fromVersion): its version is \(version)")
            }
            // GET /v1/streams/{kind}/{key}'s shape; all of them, so there is no `next`.
            let json: JSONValue = ["stream": .string(stream.description), "version": JSONValue(version),
                                   "events": .array(events.map(\.json))]
            show(json, arguments) { _ in EventTable.render(events) }
            return 0
        }
        let entity = try PlanningReadModel(ledger: ledger).entity(stream, at: LedgerAccess.slice(arguments))
        show(entity, arguments) { json in
            """
            \(header(string(json["stream"]), json))
            status:  \(string(json["status"]))
            owner:   \(string(json["owner"]).isEmpty ? "(none)" : string(json["owner"]))
            version: \(string(json["version"]))
            state:
            \(PrettyJSON.string(json["state"] ?? .null))
            """
        }
        return 0
    }
}

extension GetCommand {
    /// A page of the log, as GET /v1/events gives it (`{events, next}`, `next` present only when more follow);
    /// as a table, the command for the next page goes to standard error.
    static func log(_ ledger: Ledger, _ arguments: CommandLineArguments, _ context: CommandContext) throws -> Int32 {
        let after = try arguments.integer("after", in: 0...Int.max) ?? 0
        let limit = try arguments.integer("limit", in: 1...(Int.max - 1)) ?? 100
        let filter = EventFilter(type: arguments.value("type"), streamKind: arguments.value("kind"))
        let (events, next) = try ledger.eventPage(after: after, limit: limit, filter: filter)
        let json: JSONValue = .object(omittingNil: [("events", .array(events.map(\.json))),
                                                    ("next", next.map { JSONValue($0) })])
        show(json, arguments) { _ in EventTable.render(events) }
        if let next, !arguments.flag("json") {
            var command = ["planledger", "get", "--after", String(next)]
            for name in ["limit", "type", "kind", "db"] {
                if let value = arguments.value(name) { command += ["--\(name)", shellQuoted(value)] }
            }
            Terminal.error("more events follow: \(command.joined(separator: " "))")
        }
        return 0
    }

    /// `text` as one shell word.
    static func shellQuoted(_ text: String) -> String {
        let plain = !text.isEmpty && text.unicodeScalars.allSatisfy {
            $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._/:-+=@,".unicodeScalars.contains($0))
        }
        return plain ? text : "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }
}

/// `planledger history`: a stream's audit trail.
enum HistoryCommand: Command {
    static let name = "history"
    static let summary = "a stream's audit trail: who, both times, reason, and the fields each event changed"
    static let help = """
        Usage: planledger history STREAM [--as-of TIME] [--valid-at TIME] [--json] [--db PATH]

        Every event of the stream (and every handover that moved its ownership) with its actor, recordedAt,
        effectiveAt, reason and a field-level diff of the state it produced. As text, long values are cut short
        (marked …); --json gives them whole.

        Options:
        \(sliceHelp)
        """
    static let positionals = Positionals.upTo(["STREAM"])
    static let valuedOptions = sliceOptions
    static let flagOptions: Set<String> = ["json"]

    static func run(_ arguments: CommandLineArguments, context: CommandContext) throws -> Int32 {
        guard arguments.positional.count == 1 else { throw CLIError.usage("give one stream, e.g. goal/G-1") }
        let ledger = try LedgerAccess.open(context)
        defer { ledger.close() }
        let history = try PlanningReadModel(ledger: ledger).history(try LedgerAccess.streamName(arguments.positional[0]),
                                                                    at: LedgerAccess.slice(arguments))
        show(history, arguments) { json in
            var lines = [header("History of \(string(json["stream"]))", json)]
            for event in json["events"]?.arrayValue ?? [] {
                let actor = event["actor"].map { "\(string($0["id"])) (\(string($0["role"])))" } ?? ""
                lines.append("")
                lines.append("#\(string(event["position"])) \(string(event["type"]))\(event["stream"].map { " via \(string($0))" } ?? "")  effective \(string(event["effectiveAt"]))  recorded \(string(event["recordedAt"]))  by \(actor)")
                if let reason = event["reason"] { lines.append("    reason: \(string(reason))") }
                for change in event["changes"]?.arrayValue ?? [] {
                    let before = change["before"].map { string($0) } ?? "∅"
                    let after = change["after"].map { string($0) } ?? "∅"
                    lines.append("    \(string(change["field"])): \(clipped(before, 60)) → \(clipped(after, 80))")
                }
            }
            return lines.joined(separator: "\n")
        }
        return 0
    }
}

/// `planledger plan`: the goal tree.
enum PlanCommand: Command {
    static let name = "plan"
    static let summary = "the plan: goal tree with measures (RAG), assumptions, decisions and needs-review flags"
    static let help = """
        Usage: planledger plan [--organisation KEY] [--as-of TIME] [--valid-at TIME] [--json] [--db PATH]

        The goal tree of one organisation (or all), each goal with its measures (latest reading, target, RAG from
        direction, trajectory and tolerance), the assumptions it rests on, the decisions affecting it, and a
        needs-review flag when anything it rests on was invalidated, revoked or withdrawn.

        Options:
          --organisation KEY   e.g. QWO or organisation/QWO; one the ledger has never recorded is an error
        \(sliceHelp)
        """
    static let valuedOptions = sliceOptions.union(["organisation"])
    static let flagOptions: Set<String> = ["json"]

    static func run(_ arguments: CommandLineArguments, context: CommandContext) throws -> Int32 {
        let organisation = try LedgerAccess.organisationOption(arguments)
        let ledger = try LedgerAccess.open(context)
        defer { ledger.close() }
        let plan = try PlanningReadModel(ledger: ledger).plan(
            organisation: organisation?.description, at: LedgerAccess.slice(arguments))
        show(plan, arguments) { json in
            var lines = [header("Plan" + (json["organisation"].map { " of \(string($0))" } ?? ""), json)]
            func goal(_ node: JSONValue, _ depth: Int) {
                let pad = String(repeating: "  ", count: depth)
                let review = node["needsReview"] == true ? "  ⚠ NEEDS REVIEW" : ""
                let assessment = node["assessment"]?["status"].map { " (\(string($0)))" } ?? ""
                lines.append("\(pad)\(string(node["stream"])) [\(string(node["status"]))\(assessment)] \(string(node["title"]))\(review)")
                for reason in node["reviewReasons"]?.arrayValue ?? [] { lines.append("\(pad)    ! \(string(reason))") }
                for measure in node["measures"]?.arrayValue ?? [] {
                    let reading = measure["latestReading"].map { "\(string($0["value"])) at \(string($0["at"]).prefix(10))" } ?? "no reading"
                    let target = measure["target"].map { "target \(string($0["value"])) by \(string($0["due"]).prefix(10))" } ?? "no target"
                    lines.append("\(pad)    measure \(string(measure["stream"])): \(reading); \(target) → \(string(measure["rag"]).uppercased())")
                }
                for assumption in node["assumptions"]?.arrayValue ?? [] {
                    lines.append("\(pad)    rests on \(string(assumption["stream"])) [\(string(assumption["status"]))]")
                }
                for decision in node["decisions"]?.arrayValue ?? [] {
                    lines.append("\(pad)    affected by \(string(decision["stream"])) [\(string(decision["status"]))] \(string(decision["title"]))")
                }
                for child in node["children"]?.arrayValue ?? [] { goal(child, depth + 1) }
            }
            for root in json["goals"]?.arrayValue ?? [] { goal(root, 0) }
            if json["goals"]?.arrayValue?.isEmpty ?? true { lines.append("(no goals)") }
            return lines.joined(separator: "\n")
        }
        return 0
    }
}

/// `planledger impact`: what rests on an assumption or evidence item.
enum ImpactCommand: Command {
    static let name = "impact"
    static let summary = "every decision, goal and measure resting on an assumption or evidence item"
    static let help = """
        Usage: planledger impact STREAM [--as-of TIME] [--valid-at TIME] [--json] [--db PATH]

        Follows what rests on STREAM (an assumption or evidence item): decisions relying on it, what it supports or
        is linked to, what those decisions affect, and down the goal tree to sub-goals and measures.

        Options:
        \(sliceHelp)
        """
    static let positionals = Positionals.upTo(["STREAM"])
    static let valuedOptions = sliceOptions
    static let flagOptions: Set<String> = ["json"]

    static func run(_ arguments: CommandLineArguments, context: CommandContext) throws -> Int32 {
        guard arguments.positional.count == 1 else { throw CLIError.usage("give one stream, e.g. assumption/A-1") }
        let ledger = try LedgerAccess.open(context)
        defer { ledger.close() }
        let impact = try PlanningReadModel(ledger: ledger).impact(of: try LedgerAccess.streamName(arguments.positional[0]),
                                                                  at: LedgerAccess.slice(arguments))
        show(impact, arguments) { json in
            var lines = [header("Impact of \(string(json["stream"])) [\(string(json["status"]))]", json)]
            for section in ["decisions", "goals", "measures", "other"] {
                let items = json[section]?.arrayValue ?? []
                guard !items.isEmpty else { continue }
                lines.append("\(section):")
                for item in items { lines.append("  \(string(item["stream"])) [\(string(item["status"]))] \(string(item["title"]))") }
            }
            return lines.joined(separator: "\n")
        }
        return 0
    }
}

/// `planledger decisions`: the decision register.
enum DecisionsCommand: Command {
    static let name = "decisions"
    static let summary = "the decision register: forum, status, overdue reviews, supersession chains"
    static let help = """
        Usage: planledger decisions [--forum NAME] [--status STATUS] [--review-due DATE] [--as-of TIME] [--valid-at TIME]
                                   [--json] [--db PATH]

        The decision register: every decision with its forum, status, the date its review falls due (and whether it
        is overdue), the chain of decisions that superseded it, and the assumptions or evidence it relies on that
        have since been invalidated, revoked or withdrawn.

        Options:
          --forum NAME        a forum name (Governing Body) or its organisation (QWO)
          --status STATUS     \(statuses.joined(separator: ", ")) (the life-cycle statuses of a decision)
          --review-due DATE   only taken decisions whose review falls due by DATE
        \(sliceHelp)
        """
    static let valuedOptions = sliceOptions.union(["forum", "status", "review-due"])
    static let flagOptions: Set<String> = ["json"]
    /// A decision's life cycle; any other status would match nothing and print an empty register.
    static let statuses = EntityStatus.byKind["decision"]!

    static func run(_ arguments: CommandLineArguments, context: CommandContext) throws -> Int32 {
        if let status = arguments.value("status"), !statuses.contains(status) {
            throw CLIError.usage("--status must be one of \(statuses.joined(separator: ", ")), got '\(status)'")
        }
        let ledger = try LedgerAccess.open(context)
        defer { ledger.close() }
        let register = try PlanningReadModel(ledger: ledger).decisions(
            forum: arguments.value("forum"), status: arguments.value("status"),
            reviewDue: try LedgerAccess.timestamp(arguments, "review-due"), at: LedgerAccess.slice(arguments))
        show(register, arguments) { json in
            var rows = [["DECISION", "STATUS", "FORUM", "REVIEW BY", "OVERDUE", "SUPERSEDED BY", "RESTS ON UNDERMINED"]]
            for decision in json["decisions"]?.arrayValue ?? [] {
                rows.append([
                    string(decision["stream"]), string(decision["status"]), string(decision["forum"]?["name"]),
                    string(decision["reviewBy"]).prefix(10).description, decision["reviewOverdue"] == true ? "yes" : "",
                    (decision["supersessionChain"]?.arrayValue ?? []).map { string($0) }.joined(separator: " → "),
                    (decision["reliesOnUndermined"]?.arrayValue ?? []).map { "\(string($0["stream"])) (\(string($0["status"])))" }
                        .joined(separator: ", "),
                ])
            }
            return header("Decision register", json) + "\n" + TextTable.render(rows)
        }
        return 0
    }
}

/// `planledger memory`: corporate memory of an organisation.
enum MemoryCommand: Command {
    static let name = "memory"
    static let summary = "corporate memory: what an organisation owned, decided, assumed, and handed over open"
    static let help = """
        Usage: planledger memory ORGANISATION [--as-of TIME] [--valid-at TIME] [--json] [--db PATH]

        What ORGANISATION (a key such as QWO-CCG, or organisation/QWO-CCG) owned, decided and assumed over its life,
        its handovers in and out, and what was still open at each handover (untaken decisions, unvalidated
        assumptions, goals at risk or off track).

        Options:
        \(sliceHelp)
        """
    static let positionals = Positionals.upTo(["ORGANISATION"])
    static let valuedOptions = sliceOptions
    static let flagOptions: Set<String> = ["json"]

    static func run(_ arguments: CommandLineArguments, context: CommandContext) throws -> Int32 {
        guard arguments.positional.count == 1 else { throw CLIError.usage("give one organisation, e.g. QWO-CCG") }
        let organisation = try LedgerAccess.organisation(arguments.positional[0], "ORGANISATION")
        let ledger = try LedgerAccess.open(context)
        defer { ledger.close() }
        let memory = try PlanningReadModel(ledger: ledger).memory(of: organisation, at: LedgerAccess.slice(arguments))
        show(memory, arguments) { json in
            var lines = [header("Corporate memory of \(string(json["organisation"])) [\(string(json["status"]))]", json)]
            lines.append("owned (\(json["owned"]?.arrayValue?.count ?? 0)):")
            for item in json["owned"]?.arrayValue ?? [] {
                let until = item["passedTo"].map { " → \(string($0)) on \(string(item["ownedUntil"]).prefix(10))" } ?? ""
                lines.append("  \(string(item["stream"])) [\(string(item["status"]))] \(string(item["title"]))\(until)")
            }
            for (section, title) in [("handoversOut", "handed over"), ("handoversIn", "received")] {
                for handover in json[section]?.arrayValue ?? [] {
                    lines.append("\(title): \(string(handover["stream"])) \(string(handover["from"])) → \(string(handover["to"])) on \(string(handover["effectiveAt"]).prefix(10)) (\(handover["items"]?.arrayValue?.count ?? 0) items)")
                    for open in handover["openAtHandover"]?.arrayValue ?? [] {
                        lines.append("  still open: \(string(open["stream"])) — \(string(open["open"]))")
                    }
                }
            }
            return lines.joined(separator: "\n")
        }
        return 0
    }
}

/// `planledger diff`: what changed in the plan between two dates.
enum DiffCommand: Command {
    static let name = "diff"
    static let summary = "what changed in the plan between two dates (added, revised, closed, transferred)"
    static let help = """
        Usage: planledger diff --from TIME --to TIME [--organisation KEY] [--as-of TIME] [--json] [--db PATH]

        Items added, revised or closed by events effective after --from and up to --to, with the events that did
        it (as recorded now, or at --as-of); and items transferred: handed over in that window, each with the
        organisation it passed from and the one it passed to, and the handovers that moved it. With
        --organisation, the items it owned at either end (for transfers: that it gave or received); one the
        ledger has never recorded is an error. There is no --valid-at: the window is one of valid time already.

        Options:
          --from TIME           the start of the window (events effective after it); required
          --to TIME             the end of the window (events effective up to it); required
          --organisation KEY    e.g. QWO or organisation/QWO
          --as-of TIME          the ledger as recorded at TIME (transaction time; default now)
          --json                the API's JSON (GET /v1/plan/diff) instead of text
        TIME is a date (2022-06-30, midnight UTC) or an RFC 3339 date-time.
        """
    static let valuedOptions: Set<String> = ["from", "to", "organisation", "as-of"]
    static let flagOptions: Set<String> = ["json"]

    static func run(_ arguments: CommandLineArguments, context: CommandContext) throws -> Int32 {
        guard let from = try LedgerAccess.timestamp(arguments, "from"), let to = try LedgerAccess.timestamp(arguments, "to") else {
            throw CLIError.usage("--from and --to are required")
        }
        let organisation = try LedgerAccess.organisationOption(arguments)
        let ledger = try LedgerAccess.open(context)
        defer { ledger.close() }
        let diff = try PlanningReadModel(ledger: ledger).diff(
            from: from, to: to, organisation: organisation?.description,
            asOf: try LedgerAccess.timestamp(arguments, "as-of"))
        show(diff, arguments) { json in
            var lines = ["Changes from \(string(json["from"])) to \(string(json["to"]))"]
            for section in ["added", "revised", "closed"] {
                lines.append("\(section):")
                for item in json[section]?.arrayValue ?? [] {
                    let types = (item["events"]?.arrayValue ?? []).map { string($0["type"]) }.joined(separator: ", ")
                    lines.append("  \(string(item["stream"])) [\(string(item["status"]))] \(string(item["title"])) — \(types)")
                }
            }
            lines.append("transferred:")
            for item in json["transferred"]?.arrayValue ?? [] {
                let handovers = (item["events"]?.arrayValue ?? []).map { string($0["stream"]) }.joined(separator: ", ")
                let move = "\(string(item["from"])) → \(string(item["to"])) (\(handovers))"
                lines.append("  \(string(item["stream"])) [\(string(item["status"]))] \(string(item["title"])) — \(move)")
            }
            return lines.joined(separator: "\n")
        }
        return 0
    }
}
