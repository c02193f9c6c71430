import Ledger

/// `planledger append`: appends one transaction read from a JSON file or standard input.
enum AppendCommand: Command {
    static let name = "append"
    static let summary = "append a transaction (JSON, as POST /v1/transactions) from a file or stdin"
    static let help = """
        Usage: planledger append [FILE|-] [--db PATH] [--actor ID] [--role ROLE] [--organisation ORG] [--json]

        Appends one transaction atomically. The input is the body of POST /v1/transactions:
          {"streams": [{"stream": "goal/G-1", "expectedVersion": "noStream",
                        "events": [{"type": "GoalDefined", "effectiveAt": "2022-04-01", "data": {...}}]}]}
        Reads standard input when FILE is '-' or absent. Creates the ledger if there is no file (or an empty one) at
        --db; a refused first append leaves no file behind. Refuses a file that holds anything but a ledger.

        The actor recorded is --actor (default: $USER), --role (default: cli) and --organisation (a key such as
        QWO or a stream name such as organisation/QWO); never anything in the input. An empty --actor or --role,
        or an --organisation that names no organisation, is a usage error and nothing is stored.

        Options:
          --actor ID           who records it (default: $USER)
          --role ROLE          in what role (default: cli)
          --organisation ORG   the organisation the actor acts for (QWO or organisation/QWO; default: none)
          --json               print the stored records as JSON (default: one line per event)
        """
    static let positionals = Positionals.upTo(["FILE"])
    static let valuedOptions: Set<String> = ["actor", "role", "organisation"]
    static let flagOptions: Set<String> = ["json"]

    static func run(_ arguments: CommandLineArguments, context: CommandContext) throws -> Int32 {
        // Checked before the input is read: a usage error should not wait for standard input.
        let actor = try LedgerAccess.recordingActor(arguments)
        let input = try Terminal.readInput(arguments.positional.first ?? "-")
        let body: JSONValue
        do {
            body = try JSONParser.parse(input)
        } catch {
            throw CLIError.failed("the input is not valid JSON: \(error)")
        }
        let transaction = try AppendTransaction(json: body, actor: actor)
        let result = try LedgerAccess.appending(context) { ledger in try ledger.append(transaction) }
        if arguments.flag("json") {
            Terminal.print(PrettyJSON.string(["events": .array(result.events.map(\.json)),
                                              "checkpoint": result.checkpoint.json]))
        } else {
            for event in result.events {
                Terminal.print("\(event.position)\t\(event.stream)@\(event.version)\t\(event.type)\t\(event.hash.hex)")
            }
            let verb = result.alreadyStored ? "already stored (idempotent re-send); nothing appended" : "appended"
            Terminal.print("\(verb). checkpoint: size \(result.checkpoint.size), root \(result.checkpoint.rootHash.hex)")
        }
        return 0
    }
}
