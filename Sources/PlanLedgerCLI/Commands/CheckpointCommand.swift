import Ledger

/// `planledger checkpoint`: the ledger's size and Merkle root, to publish.
enum CheckpointCommand: Command {
    static let name = "checkpoint"
    static let summary = "print the checkpoint {size, rootHash, recordedAt} to publish"
    static let help = """
        Usage: planledger checkpoint [--size N] [--json] [--db PATH]

        Prints the ledger's checkpoint: its size, RFC 6962 Merkle root and the recordedAt of its last event (for
        an empty ledger, the time it is asked).
        Publish it (in board minutes, say); later 'planledger verify --checkpoint SIZE:ROOT' or a consistency
        proof shows that the ledger still extends it.

        The checkpoint is read from the stored events and Merkle nodes, not recomputed: 'planledger verify' does that.
        It first checks that the size the ledger records for itself agrees with the events stored (positions 1 to
        that size). When it does not (the file was edited behind the ledger's back, or damaged), the checkpoint the
        stored rows give is still printed, but a warning goes to standard error and the exit status is 1: do not
        publish it; run 'planledger verify' to find the first bad position.

        Options:
          --size N   the checkpoint of the first N events instead of all
          --json     as JSON, exactly as GET /v1/ledger/checkpoint serves it
        """
    static let valuedOptions: Set<String> = ["size"]
    static let flagOptions: Set<String> = ["json"]

    static func run(_ arguments: CommandLineArguments, context: CommandContext) throws -> Int32 {
        let ledger = try LedgerAccess.open(context, for: .readingLog)
        defer { ledger.close() }
        // Checked first, so the warning is given even when the damage keeps the checkpoint from being read. A healthy
        // ledger agrees in every snapshot, so appends by a server between the two reads cannot raise it.
        let disagreement = try ledger.storedSize().disagreement
        if let disagreement {
            Terminal.error("warning: \(disagreement): this checkpoint may not be the ledger's; do not publish it, run "
                           + "'planledger verify --db \(context.databasePath)'")
        }
        let checkpoint = try ledger.checkpoint(size: try arguments.integer("size"))
        if arguments.flag("json") {
            Terminal.print(PrettyJSON.string(checkpoint.json))
        } else {
            Terminal.print("size:       \(checkpoint.size)\nrootHash:   \(checkpoint.rootHash.hex)\nrecordedAt: \(checkpoint.recordedAt.rfc3339)")
            Terminal.print("publish as: \(checkpoint.size):\(checkpoint.rootHash.hex)")
        }
        return disagreement == nil ? 0 : 1
    }
}

/// `planledger prove`: RFC 6962 inclusion and consistency proofs, checked before they are printed.
enum ProveCommand: Command {
    static let name = "prove"
    static let summary = "produce and check an inclusion or consistency proof"
    static let help = """
        Usage: planledger prove inclusion --position P [--size N] [--json] [--db PATH]
               planledger prove consistency --from M [--to N] [--json] [--db PATH]

        inclusion:    proves that the event at position P is in the tree of the first N events (default: all).
        consistency:  proves that the tree of the first M events is a prefix of the tree of the first N.
        The proof is checked with the RFC 9162 verification algorithm before it is printed; exit 1 if it fails.

        Options:
          --position P   the event to prove included (inclusion; positions start at 1)
          --size N       the tree to prove it in: the first N events (inclusion; default: all)
          --from M       the earlier tree: the first M events (consistency)
          --to N         the later tree: the first N events (consistency; default: all)
          --json         the proof as JSON only, without the line saying whether it checks
        """
    static let positionals = Positionals.actions([
        "inclusion": .init(options: ["position", "size", "json"]),
        "consistency": .init(options: ["from", "to", "json"]),
    ])
    static let valuedOptions: Set<String> = ["position", "size", "from", "to"]
    static let flagOptions: Set<String> = ["json"]

    static func run(_ arguments: CommandLineArguments, context: CommandContext) throws -> Int32 {
        let ledger = try LedgerAccess.open(context, for: .readingLog)
        defer { ledger.close() }
        let json: JSONValue
        let valid: Bool
        switch arguments.positional.first {
        case "inclusion":
            guard let position = try arguments.integer("position") else { throw CLIError.usage("--position is required") }
            let proof = try ledger.inclusionProof(position: position, size: try arguments.integer("size"))
            (json, valid) = (proof.json, proof.isValid)
        case "consistency":
            guard let from = try arguments.integer("from") else { throw CLIError.usage("--from is required") }
            let proof = try ledger.consistencyProof(from: from, to: try arguments.integer("to"))
            (json, valid) = (proof.json, proof.isValid)
        default:
            throw CLIError.usage("say which proof: 'prove inclusion' or 'prove consistency'")
        }
        Terminal.print(arguments.flag("json") ? PrettyJSON.string(json) : PrettyJSON.string(json) + "\nproof checks: \(valid ? "valid" : "INVALID")")
        return valid ? 0 : 1
    }
}
