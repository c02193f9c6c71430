/// One `planledger` subcommand: its name, help text, the arguments it accepts, and what it does.
protocol Command {
    static var name: String { get }
    /// One line for the command list.
    static var summary: String { get }
    /// The full `--help` text: usage line, description, options.
    static var help: String { get }
    /// The positional arguments it takes. Anything beyond is a usage error, so that a path given without `--db`
    /// (`planledger verify other.sqlite`) is never silently ignored in favour of the default ledger.
    static var positionals: Positionals { get }
    /// Options that take a value (besides `--db`).
    static var valuedOptions: Set<String> { get }
    /// Valued options that may be given more than once, their values accumulating (every other option given twice
    /// is a usage error rather than the last one silently winning).
    static var repeatableOptions: Set<String> { get }
    /// Options that take no value (besides `--help`).
    static var flagOptions: Set<String> { get }
    /// Runs the command; returns the process exit code.
    static func run(_ arguments: CommandLineArguments, context: CommandContext) throws -> Int32
}

extension Command {
    static var positionals: Positionals { .none }
    static var valuedOptions: Set<String> { [] }
    static var repeatableOptions: Set<String> { [] }
    static var flagOptions: Set<String> { [] }
}

/// The positional arguments a command takes, by the names its usage line gives them.
enum Positionals {
    /// At most these, in order (each may be left out from the end; the command says which it requires).
    case upTo([String])
    /// A first word choosing an action (`token create`, `prove inclusion`), then at most the named arguments of
    /// that action.
    case actions([String: [String]])

    static let none = Positionals.upTo([])

    /// Throws a usage error naming the first argument beyond what is declared, or an unknown action.
    func check(_ arguments: [String]) throws(CLIError) {
        switch self {
        case .upTo(let names):
            if arguments.count > names.count { throw Self.unexpected(arguments[names.count], names) }
        case .actions(let actions):
            // A missing action is left to the command, which says what it can do.
            guard let action = arguments.first else { return }
            guard let names = actions[action] else {
                let known = actions.keys.sorted().joined(separator: ", ")
                throw CLIError.usage("unknown action '\(action)' (one of: \(known))")
            }
            if arguments.count > names.count + 1 { throw Self.unexpected(arguments[names.count + 1], names) }
        }
    }

    private static func unexpected(_ argument: String, _ names: [String]) -> CLIError {
        let takes = names.isEmpty ? "takes no positional arguments" : "takes at most \(names.joined(separator: " "))"
        let hint = argument.hasSuffix(".sqlite") ? " (a ledger is named with --db PATH)" : ""
        return CLIError.usage("unexpected argument '\(argument)': it \(takes)\(hint)")
    }
}

/// What every command gets: the ledger path (`--db`, default `./planledger.sqlite`).
struct CommandContext {
    let databasePath: String
}
