/// What a token may do. `admin` ⊇ `auditor` ⊇ `reader`; `contributor` ⊇ `reader` and may append, but only to
/// streams owned by the organisations named on its token.
public enum Role: String, Sendable, CaseIterable, Comparable {
    case reader
    case contributor
    case auditor
    case admin

    /// Whether this role includes everything `required` may do.
    public func satisfies(_ required: Role) -> Bool {
        switch (self, required) {
        case (.admin, _): true
        case (_, .reader): true
        case (.auditor, .auditor), (.contributor, .contributor): true
        default: false
        }
    }

    public static func < (lhs: Role, rhs: Role) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
