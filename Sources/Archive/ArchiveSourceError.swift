import Ledger

/// Why an export was refused before a byte of the archive was written: the ledger it would be cut from does not
/// verify. Carries the first bad position and the verifier's code, as `planledger verify` reports them, so that an
/// archive never certifies (with a fresh trailer and root) a ledger that was edited or lost a record.
public struct ArchiveSourceError: Error, Sendable, CustomStringConvertible {
    /// The first position that does not verify (or the first missing one).
    public let position: Int
    /// The verifier's code: `hash_mismatch`, `missing_event`, `checkpoint_mismatch`, …
    public let code: String
    public let message: String

    public init(position: Int, code: String, _ message: String) {
        self.position = position
        self.code = code
        self.message = message
    }

    init(_ failure: LedgerVerifier.Failure) {
        self.init(position: failure.position, code: failure.code, failure.message)
    }

    public var description: String {
        "the ledger fails verification at position \(position) [\(code)]: \(message); no archive was written "
            + "(planledger verify names the same position)"
    }
}
