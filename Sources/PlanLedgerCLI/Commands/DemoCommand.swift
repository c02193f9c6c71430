import Ledger
import Planning
import Synchronization

/// `planledger demo`: loads the sample story into an empty ledger.
enum DemoCommand: Command {
    static let name = "demo"
    static let summary = "load a realistic sample story (a CCG handing over to its ICB) into an empty ledger"
    static let help = """
        Usage: planledger demo [--db PATH]

        Loads NHS Example CCG's 2021–22 plan into an empty ledger: an ambition, objectives and key results, measures
        with trajectories and readings, a workforce-ratio assumption, evidence, Governing Body decisions with options,
        rationale and a declared conflict of interest; the handover of its open items to NHS Example ICB on
        1 July 2022 and the CCG's dissolution; then a decision recorded late (backdated to 15 June 2022), a decision
        superseded, and in January 2023 the workforce assumption invalidated.

        Each event is recorded at its historical time (the demo sets the ledger's clock), so --as-of views of the
        story work. Then prints commands to try. Refuses a ledger that already holds events.
        """

    static func run(_ arguments: CommandLineArguments, context: CommandContext) throws -> Int32 {
        let count = try load(context)
        Terminal.print("""
            Loaded the demo story: \(count) events into \(context.databasePath).

            Try:
              planledger plan --organisation QWO                      the ICB's plan today (needsReview flags, RAG)
              planledger plan --as-of 2022-06-30 --valid-at 2022-06-30  the plan as recorded on 30 June 2022
              planledger plan --valid-at 2022-06-30                     ... and as in force then, as known now
              planledger impact assumption/A-CMHN-RATIO                 what rests on the invalidated assumption
              planledger decisions                                      the register, with supersessions and overdue reviews
              planledger memory QWO-CCG                                 what the CCG owned, decided and handed over
              planledger history measure/M-RTT-52WK                     audit trail with field-level changes
              planledger diff --from 2022-06-30 --to 2022-12-31         what changed in the plan
              planledger verify                                         recompute every hash and the Merkle root
              planledger export --organisation QWO-CCG --out ccg.jsonl  a self-verifying handover archive
              planledger serve                                          the HTTP API on 127.0.0.1:7373
            """)
        return 0
    }

    /// Loads the story with the ledger's clock set to each step's historical time. Returns the events stored.
    static func load(_ context: CommandContext) throws -> Int {
        let now = Mutex<Timestamp>(Timestamp(millisecondsSinceEpoch: 0))
        return try LedgerAccess.appending(context, clock: { now.withLock { $0 } }) { ledger in
            guard ledger.size == 0 else {
                throw CLIError.failed("\(context.databasePath) already holds \(ledger.size) events; the demo needs an empty ledger (use --db NEW)")
            }
            let steps = DemoStory.steps()
            for (index, step) in steps.enumerated() {
                now.withLock { $0 = step.recordedAt }
                _ = try ledger.append(step.transaction)
                Terminal.progress("loading", index + 1, steps.count)
            }
            return ledger.size
        }
    }
}

/// `planledger rebuild`: recreates every projection from the log.
enum RebuildCommand: Command {
    static let name = "rebuild"
    static let summary = "recreate all projections from the log (same answers as the incremental ones)"
    static let help = """
        Usage: planledger rebuild [--db PATH]

        Drops the read models (entity snapshots, ownership, links, tokens) and refolds them from the log in
        position order, in one transaction, with the code appends use. The indexes the views keep on the log (a
        stream's versions by time) index the log's own columns and stay. Stop the server first. Shows progress on
        a terminal.
        Any command that opens a ledger for writing (or for a view, when it may write the file) whose read models
        were written by an older version of planledger rebuilds them the same way first, saying so on standard
        error. Read models of a newer version are refused by every other command; this one recreates them for
        this version.
        """

    static func run(_ arguments: CommandLineArguments, context: CommandContext) throws -> Int32 {
        // Not opened as a Ledger for writing first: opening would rebuild out-of-date projections itself, and then
        // again here. Checked read-only instead, so that another program's database is refused rather than given
        // the ledger's tables; an empty file becomes an empty ledger.
        try LedgerAccess.requireExisting(context)
        try LedgerAccess.requireWritable(context)
        if !LedgerFileState(path: context.databasePath).admitsNewLedger {
            try Ledger(path: context.databasePath, mode: .readOnly(needsProjections: false)).close()
        }
        let count = try ProjectionRebuilder(path: context.databasePath, hook: LedgerAccess.hook).rebuild { done, total in
            Terminal.progress("rebuilding", done, total)
        }
        Terminal.print("rebuilt the projections from \(count) events")
        return 0
    }
}
