import Ledger

/// `planledger verify`: recompute every leaf hash and the Merkle tree from the stored fields.
enum VerifyCommand: Command {
    static let name = "verify"
    static let summary = "recompute every leaf hash and the Merkle root; name the first bad position"
    static let help = """
        Usage: planledger verify [--checkpoint SIZE:ROOTHEX] [--db PATH]

        Reads every stored event, recomputes its RFC 8785 canonical bytes and leaf hash, checks positions are
        gapless, stream versions consecutive and times monotonic, rebuilds the RFC 6962 tree and compares every
        stored node. Prints the first position that does not match and exits 1; prints the verified size and root
        and exits 0 otherwise. Shows progress on a terminal. Opens the ledger read-only and writes nothing, so a
        write-protected copy can be checked.

        Options:
          --checkpoint SIZE:ROOT   also require that the first SIZE events have this published root
        """
    static let valuedOptions: Set<String> = ["checkpoint"]

    static func run(_ arguments: CommandLineArguments, context: CommandContext) throws -> Int32 {
        let expected = try LedgerAccess.checkpoint(arguments)
        // Checks that the file holds a ledger of a format this build reads, without writing to it; closed once the
        // verifier's own connections are, so that it removes the -wal and -shm reading made beside a ledger with none.
        let ledger = try LedgerAccess.open(context, for: .readingLog)
        defer { ledger.close() }
        let report = try LedgerVerifier(path: context.databasePath).verify(expected: expected) { done, total in
            Terminal.progress("verifying", done, total)
        }
        if let failure = report.failure {
            Terminal.print("FAILED at position \(failure.position) [\(failure.code)]: \(failure.message)")
            return 1
        }
        Terminal.print("verified \(report.size) events; root \(report.rootHash.hex)")
        if let expected { Terminal.print("extends the published checkpoint \(expected.size):\(expected.rootHash.hex)") }
        return 0
    }
}
