/// A command line split into options and positional arguments: `--name value`, `--name=value`, boolean `--flag`,
/// and `--` ending the options. A value starting with `--` must be given as `--name=value`. Which names take a value
/// is declared by the command, so a mistyped option is an error rather than silently positional.
struct CommandLineArguments {
    /// Every value given for each valued option, in order.
    private(set) var options: [String: [String]] = [:]
    private(set) var flags: Set<String> = []
    private(set) var positional: [String] = []

    /// - Parameters:
    ///   - valued: option names (without `--`) that take a value.
    ///   - repeatable: valued options that may be given more than once; any other given twice is an error.
    ///   - flags: option names that take none.
    init(_ arguments: [String], valued: Set<String>, repeatable: Set<String> = [],
         flags allowedFlags: Set<String>) throws(CLIError) {
        var index = 0
        var onlyPositional = false
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if onlyPositional || !argument.hasPrefix("--") || argument == "-" {
                positional.append(argument)
                continue
            }
            if argument == "--" {
                onlyPositional = true
                continue
            }
            var name = String(argument.dropFirst(2))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            if valued.contains(name) {
                guard options[name] == nil || repeatable.contains(name) else {
                    throw CLIError.usage("--\(name) is given more than once")
                }
                if let inlineValue {
                    options[name, default: []].append(inlineValue)
                } else {
                    // An option where its value should be (`--actor --db x.sqlite`) means the value was left out:
                    // taking it as the value would read the wrong file or report the wrong argument. A value that
                    // starts with `--` is given inline (`--reason=--x`).
                    guard index < arguments.count, !arguments[index].hasPrefix("--") else {
                        throw CLIError.usage(
                            "--\(name) needs a value (one starting with -- is given as --\(name)=VALUE)")
                    }
                    options[name, default: []].append(arguments[index])
                    index += 1
                }
            } else if allowedFlags.contains(name) {
                guard inlineValue == nil else { throw CLIError.usage("--\(name) takes no value") }
                flags.insert(name)
            } else {
                throw CLIError.usage("unknown option --\(name)")
            }
        }
    }

    /// The names of the options given (valued and flags), without `--`.
    var given: Set<String> { flags.union(options.keys) }

    /// The value of a single-valued option.
    func value(_ name: String) -> String? { options[name]?.first }

    /// Every value of a repeatable option, in order; each may also be a comma-separated list.
    func values(_ name: String) -> [String] {
        (options[name] ?? []).flatMap { $0.split(separator: ",").map(String.init) }
    }

    func flag(_ name: String) -> Bool { flags.contains(name) }

    func integer(_ name: String) throws(CLIError) -> Int? {
        guard let text = value(name) else { return nil }
        guard let value = Int(text) else { throw CLIError.usage("--\(name) must be an integer, got '\(text)'") }
        return value
    }

    /// An integer option that must lie in `range` (a port, a limit).
    func integer(_ name: String, in range: ClosedRange<Int>) throws(CLIError) -> Int? {
        guard let value = try integer(name) else { return nil }
        guard range.contains(value) else {
            let bounds = range.upperBound == Int.max ? "at least \(range.lowerBound)" : "from \(range.lowerBound) to \(range.upperBound)"
            throw CLIError.usage("--\(name) must be \(bounds), got \(value)")
        }
        return value
    }
}
