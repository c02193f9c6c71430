import Ledger

/// The two times every read takes: `asOf` (transaction time: only what had been recorded by then) and `validAt`
/// (valid time: only what was in force by then). Both default to "now" (DESIGN §3): without `validAt`, a record
/// that takes effect in the future is not in force yet. "Now" is fixed when the slice is made, so every query of
/// one read bounds valid time by the same instant.
///
/// `latest` is different: everything recorded so far, whatever its valid time. The domain's checks and the
/// projections' own upkeep read that way (a measure may be defined for a goal that takes effect next year).
public struct TimeSlice: Sendable, Hashable {
    public var asOf: Timestamp?
    public var validAt: Timestamp?
    /// What valid time is bounded by when `validAt` is nil: the instant the slice was made, or nothing (`latest`).
    private let defaultValidBound: Int64

    public init(asOf: Timestamp? = nil, validAt: Timestamp? = nil) {
        self.asOf = asOf
        self.validAt = validAt
        defaultValidBound = Timestamp.now().millisecondsSinceEpoch
    }

    private init(recordedBy asOf: Timestamp?) {
        self.asOf = asOf
        validAt = nil
        defaultValidBound = .max
    }

    /// Everything recorded by `asOf` (nil: so far), whatever its valid time.
    public static func recorded(by asOf: Timestamp?) -> TimeSlice { TimeSlice(recordedBy: asOf) }

    /// What is recorded and in force now.
    public static var now: TimeSlice { TimeSlice() }

    /// Everything recorded so far, future-dated records included.
    public static let latest = TimeSlice(recordedBy: nil)

    var recordedBound: Int64 { asOf?.millisecondsSinceEpoch ?? .max }
    var effectiveBound: Int64 { validAt?.millisecondsSinceEpoch ?? defaultValidBound }

    /// The slice's two times, for echoing in responses (absent ones omitted: "now").
    var json: [(String, JSONValue?)] {
        [("asOf", asOf.map { .string($0.rfc3339) }), ("validAt", validAt.map { .string($0.rfc3339) })]
    }
}
