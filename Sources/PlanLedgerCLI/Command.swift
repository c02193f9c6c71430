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
    case actions([String: Action])

    /// One action's arguments and the options (besides `--db`) it reads, so that the options of another action are
    /// refused rather than ignored (`prove inclusion --from 3`).
    struct Action {
        let arguments: [String]
        let options: Set<String>

        init(_ arguments: [String] = [], options: Set<String>) {
            self.arguments = arguments
            self.options = options
        }
    }

    static let none = Positionals.upTo([])

    /// Throws a usage error naming the first argument beyond what is declared, an unknown action, or an option
    /// the chosen action does not read.
    /// - Parameter options: the names of the options given.
    func check(_ arguments: [String], options: Set<String>) throws(CLIError) {
        switch self {
        case .upTo(let names):
            if arguments.count > names.count { throw Self.unexpected(arguments[names.count], names) }
        case .actions(let actions):
            // A missing action is left to the command, which says what it can do.
            guard let name = arguments.first else { return }
            guard let action = actions[name] else {
                let known = actions.keys.sorted().joined(separator: ", ")
                throw CLIError.usage("unknown action '\(name)' (one of: \(known))")
            }
            if arguments.count > action.arguments.count + 1 {
                throw Self.unexpected(arguments[action.arguments.count + 1], action.arguments)
            }
            if let option = options.subtracting(action.options).subtracting(["db"]).sorted().first {
                throw CLIError.usage("--\(option) does not apply to '\(name)'")
            }
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
