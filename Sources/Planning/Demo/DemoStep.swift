import Ledger

/// One step of the demo story: a transaction, and the (historical) time the ledger's clock shows when it is
/// recorded, so that `asOf` views of the story are meaningful.
public struct DemoStep: Sendable {
    public let recordedAt: Timestamp
    public let transaction: AppendTransaction
}
