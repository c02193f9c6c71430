import Ledger

/// The two times every read takes: `asOf` (transaction time: only what had been recorded by then) and `validAt`
/// (valid time: only what was in force by then). Nil means "now" for both.
public struct TimeSlice: Sendable, Hashable {
    public var asOf: Timestamp?
    public var validAt: Timestamp?

    public init(asOf: Timestamp? = nil, validAt: Timestamp? = nil) {
        self.asOf = asOf
        self.validAt = validAt
    }

    public static let now = TimeSlice()

    var recordedBound: Int64 { asOf?.millisecondsSinceEpoch ?? .max }
    var effectiveBound: Int64 { validAt?.millisecondsSinceEpoch ?? .max }

    /// The slice's two times, for echoing in responses (absent ones omitted).
    var json: [(String, JSONValue?)] {
        [("asOf", asOf.map { .string($0.rfc3339) }), ("validAt", validAt.map { .string($0.rfc3339) })]
    }
}
