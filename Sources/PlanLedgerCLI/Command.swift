/// One `planledger` subcommand: its name, help text, the options it accepts, and what it does.
protocol Command {
    static var name: String { get }
    /// One line for the command list.
    static var summary: String { get }
    /// The full `--help` text: usage line, description, options.
    static var help: String { get }
    /// Options that take a value (besides `--db`).
    static var valuedOptions: Set<String> { get }
    /// Options that take no value (besides `--help`).
    static var flagOptions: Set<String> { get }
    /// Runs the command; returns the process exit code.
    static func run(_ arguments: CommandLineArguments, context: CommandContext) throws -> Int32
}

extension Command {
    static var valuedOptions: Set<String> { [] }
    static var flagOptions: Set<String> { [] }
}

/// What every command gets: the ledger path (`--db`, default `./planledger.sqlite`).
struct CommandContext {
    let databasePath: String
}
