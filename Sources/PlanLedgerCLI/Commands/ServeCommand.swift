import Access
import Dispatch
import HTTPServer
import Ledger
import LedgerServer

#if canImport(Glibc)
import Glibc
#endif

/// `planledger serve`: the HTTP/JSON API.
enum ServeCommand: Command {
    static let name = "serve"
    static let summary = "serve the HTTP/JSON API (default 127.0.0.1:7373)"
    static let help = """
        Usage: planledger serve [--db PATH] [--host 127.0.0.1] [--port 7373] [--demo] [--max-body BYTES]
                                [--max-connections N] [--max-slow-requests N] [--quiet]

        Serves the API of Schemas/openapi.json over HTTP/1.1 with keep-alive. Every /v1 route needs a bearer token
        (planledger token create). On first start with no tokens, creates an admin token and prints it once.
        SIGINT or SIGTERM stops gracefully: no new connections, in-flight appends and running views finish, views
        still waiting for a slot get 503 shutting_down, then the ledger closes. Stop it before running a newer
        planledger on the same file: once that rebuilds the read models, this server refuses appends (500).

        Options:
          --host ADDRESS        the address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)
          --demo                load the demo story first when the ledger is empty
          --max-body BYTES      largest request body accepted (default 1048576); larger gets 413
          --port N              the port to listen on (default 7373); 0 picks a free port
          --max-connections N   connections served at once (default 256); more get 503 with Retry-After
          --max-slow-requests N requests to views that fold or scan the ledger (plan, diff, decisions, lists,
                                history, impact, memory, the log and stream pages) run at once
                                (default 2 per core, at least 4); the others wait their turn, and past eight
                                waiting per slot get 503 with Retry-After
          --quiet               no access log on standard error
        """
    static let valuedOptions: Set<String> = ["host", "port", "max-body", "max-connections", "max-slow-requests"]
    static let flagOptions: Set<String> = ["demo", "quiet"]

    static func run(_ arguments: CommandLineArguments, context: CommandContext) throws -> Int32 {
        // Every option is checked before anything is opened or created.
        var configuration = HTTPServer.Configuration(host: arguments.value("host") ?? "127.0.0.1",
                                                     port: try arguments.integer("port", in: 0...65_535) ?? 7373)
        if let maximum = try arguments.integer("max-body", in: 0...Int.max) { configuration.limits.maximumBodyBytes = maximum }
        if let maximum = try arguments.integer("max-connections", in: 1...Int.max) { configuration.maximumConnections = maximum }
        let slowRouteLimit = try arguments.integer("max-slow-requests", in: 1...Int.max)
            ?? PlanLedgerService.defaultSlowRouteLimit
        if arguments.flag("demo") {
            let ledger = try LedgerAccess.open(context, for: .appending)
            let empty = ledger.size == 0
            ledger.close()
            if empty { Terminal.print("loaded the demo story: \(try DemoCommand.load(context)) events") }
        }
        let ledger = try LedgerAccess.open(context, for: .appending)
        let service = PlanLedgerService(ledger: ledger, slowRouteLimit: slowRouteLimit)
        if try service.tokens.isEmpty() {
            let token = try service.tokens.create(role: .admin, organisations: [], actorId: "first-admin",
                                                  label: "created on first start", grantedBy: Actor(id: "planledger", role: "system"),
                                                  reason: "no tokens existed when the server first started")
            Terminal.print("admin token (shown once, store it safely): \(token.secret!)")
        }
        let log = AccessLog(enabled: !arguments.flag("quiet"))
        let metrics = service.metrics
        configuration.onResponse = { request, status, seconds in
            log.record(request, status: status, seconds: seconds)
            // Errors the HTTP layer answers itself (malformed, too large, timeouts, busy) never reach a route.
            if request.method == "-" { metrics.recordRequest(route: "-", status: status) }
        }
        // Before the server starts and says it is listening: a supervisor may signal as soon as it reads that line,
        // and a signal that came before the handlers would be lost (ignored, as in a background job) or fatal.
        let stop = DispatchSemaphore(value: 0)
        var sources: [any DispatchSourceSignal] = []
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { stop.signal() }
            source.resume()
            sources.append(source)
        }
        let server = HTTPServer(configuration: configuration, handler: service.handle)
        do {
            try server.start()
        } catch {
            ledger.close()
            throw CLIError.io("cannot listen on \(configuration.host):\(configuration.port): \(error)")
        }
        Terminal.print("PlanLedger listening on http://\(configuration.host):\(server.port) (ledger \(context.databasePath), \(ledger.size) events)")

        stop.wait()
        Terminal.error("stopping: finishing requests in flight")
        service.stop(serving: server)
        log.flush()  // every answered request's line, before "stopped"
        ledger.close()
        Terminal.error("stopped")
        return 0
    }
}

/// `planledger token`: create, list and revoke API tokens (each grant and revocation is a ledger event).
enum TokenCommand: Command {
    static let name = "token"
    static let summary = "create, list or revoke API tokens (grants and revocations are audited in the ledger)"
    static let help = """
        Usage: planledger token create --role ROLE [--organisation KEY]... [--label TEXT] [--actor-id ID] [--actor ID]
                                      [--db PATH]
               planledger token list [--json] [--db PATH]
               planledger token revoke ID --reason TEXT [--actor ID] [--db PATH]

        Roles: reader (read views), contributor (also append, for the organisations named with --organisation,
        comma-separated or repeated), auditor (also the audit log, corporate memory and archives), admin (tokens).
        The secret is printed once by 'create'; only its SHA-256 is stored. Grants and revocations are recorded as
        AccessGranted / AccessRevoked events on access/<id> streams, by --actor (default $USER).

        Options:
          --role ROLE            reader, contributor, auditor or admin (create)
          --organisation KEY     an organisation the token may append for (create; a key such as QWO or
                                 organisation/QWO; repeat it or separate keys with commas)
          --label TEXT           a label for the token list (create)
          --actor-id ID          who the token is issued to, recorded on what it appends (create; default: the
                                 label, else token-holder)
          --actor ID             who grants or revokes it (create, revoke; default: $USER)
          --reason TEXT          why it is revoked, recorded on the AccessRevoked event (revoke; required)
          --json                 the list as JSON (list)
        """
    static let positionals = Positionals.actions([
        "create": .init(options: ["role", "organisation", "label", "actor-id", "actor"]),
        "list": .init(options: ["json"]),
        "revoke": .init(["ID"], options: ["reason", "actor"]),
    ])
    static let valuedOptions: Set<String> = ["role", "organisation", "label", "actor-id", "reason", "actor"]
    static let repeatableOptions: Set<String> = ["organisation"]
    static let flagOptions: Set<String> = ["json"]

    static func run(_ arguments: CommandLineArguments, context: CommandContext) throws -> Int32 {
        let actor = Actor(id: try LedgerAccess.actorId(arguments), role: "admin")
        switch arguments.positional.first {
        case "create":
            guard let role = arguments.value("role").flatMap(Role.init(rawValue:)) else {
                throw CLIError.usage("--role must be reader, contributor, auditor or admin")
            }
            var organisations: [String] = []
            for text in arguments.values("organisation") {
                organisations.append(try LedgerAccess.organisation(text, "--organisation").description)
            }
            let token = try LedgerAccess.appending(context) { ledger in
                try TokenRegistry(ledger: ledger).create(
                    role: role, organisations: organisations,
                    actorId: arguments.value("actor-id") ?? arguments.value("label") ?? "token-holder",
                    label: arguments.value("label"), grantedBy: actor)
            }
            Terminal.print("created \(token.id) (\(role.rawValue)); the token is shown once:\n\(token.secret!)")
        case "list":
            let ledger = try LedgerAccess.open(context)
            defer { ledger.close() }
            let tokens = try TokenRegistry(ledger: ledger).list()
            if arguments.flag("json") {
                Terminal.print(PrettyJSON.string(.array(tokens.map(\.json))))
            } else {
                var rows = [["ID", "ROLE", "ORGANISATIONS", "ACTOR", "LABEL", "GRANTED", "REVOKED"]]
                for token in tokens {
                    rows.append([token.id, token.role.rawValue, token.organisations.joined(separator: ","), token.actorId,
                                 token.label ?? "", token.grantedAt.rfc3339, token.revokedAt?.rfc3339 ?? ""])
                }
                Terminal.print(TextTable.render(rows))
            }
        case "revoke":
            guard arguments.positional.count == 2 else { throw CLIError.usage("give the token id to revoke") }
            guard let reason = arguments.value("reason") else { throw CLIError.usage("--reason is required") }
            let ledger = try LedgerAccess.open(context, for: .changing)
            defer { ledger.close() }
            try TokenRegistry(ledger: ledger).revoke(id: arguments.positional[1], reason: reason, revokedBy: actor)
            Terminal.print("revoked \(arguments.positional[1])")
        default:
            throw CLIError.usage("say what to do: token create, token list or token revoke")
        }
        return 0
    }
}
