#if canImport(Glibc)
import Glibc
#endif

/// The `planledger` command-line tool: dispatches to a subcommand, handles `--help` and `--db`, and turns errors
/// into messages on standard error and exit codes.
public enum PlanLedgerCommand {
    static var commands: [any Command.Type] { [
        ServeCommand.self, DemoCommand.self, TokenCommand.self, AppendCommand.self, GetCommand.self, HistoryCommand.self, PlanCommand.self,
        ImpactCommand.self, DecisionsCommand.self, MemoryCommand.self, DiffCommand.self, CheckpointCommand.self,
        ProveCommand.self, VerifyCommand.self, RebuildCommand.self, ExportCommand.self, VerifyArchiveCommand.self,
        ImportCommand.self,
    ] }

    static var overview: String {
        let width = commands.map { $0.name.count }.max() ?? 0
        let list = commands.map { "  \($0.name.padding(toLength: width + 2, withPad: " ", startingAt: 0))\($0.summary)" }
        return """
            planledger: an event-sourced, hash-linked planning ledger.

            Usage: planledger <command> [options]    (planledger <command> --help, or planledger help <command>,
                                                      for details)

            Commands:
            \(list.joined(separator: "\n"))

            Every command takes --db PATH (default ./planledger.sqlite). Only append, demo, token create, serve and
            import create a ledger; the other commands refuse a file that holds none, and every command refuses a
            ledger of a newer format.
            Exit codes: 0 success, 1 refused or failed check, 2 usage error, 3 storage or I/O error.
            """
    }

    public static func main() {
        // A write past a file-size limit (`ulimit -f`) then fails with EFBIG, which SQLite reports like a full disk
        // and the command answers as a storage error, instead of the signal killing the process mid-write (a
        // server would drop every connection and client with it).
        signal(SIGXFSZ, SIG_IGN)
        exit(run(Array(CommandLine.arguments.dropFirst())))
    }

    /// Runs a command line (without the program name) and returns the exit code.
    public static func run(_ arguments: [String]) -> Int32 {
        guard let name = arguments.first, !name.hasPrefix("-") else {
            if arguments.first == "--help" || arguments.first == "-h" {
                Terminal.print(overview)
                return 0
            }
            Terminal.error(overview)
            return 2
        }
        if name == "help" {
            // `planledger help plan` is `planledger plan --help`.
            guard arguments.count > 1 else {
                Terminal.print(overview)
                return 0
            }
            guard arguments.count == 2, let command = commands.first(where: { $0.name == arguments[1] }) else {
                let names = commands.map { $0.name }.joined(separator: ", ")
                Terminal.error("planledger help: give one command, one of: \(names)")
                return 2
            }
            Terminal.print(command.help)
            return 0
        }
        guard let command = commands.first(where: { $0.name == name }) else {
            Terminal.error("planledger: unknown command '\(name)'\n\n\(overview)")
            return 2
        }
        let rest = Array(arguments.dropFirst())
        if rest.contains("--help") || rest.contains("-h") {
            Terminal.print(command.help)
            return 0
        }
        do {
            let parsed = try CommandLineArguments(rest, valued: command.valuedOptions.union(["db"]),
                                                  repeatable: command.repeatableOptions, flags: command.flagOptions)
            try command.positionals.check(parsed.positional, options: parsed.given)
            let context = CommandContext(databasePath: parsed.value("db") ?? "planledger.sqlite")
            return try command.run(parsed, context: context)
        } catch {
            let failure = CLIError.from(error)
            Terminal.error("planledger \(name): \(failure.message)")
            if failure.exitCode == 2 { Terminal.error("Run 'planledger \(name) --help' for usage.") }
            return failure.exitCode
        }
    }
}
