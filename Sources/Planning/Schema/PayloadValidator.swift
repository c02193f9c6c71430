import Ledger

/// Checks event data against its declared fields: unknown members, missing required members, wrong JSON types,
/// values outside an enumeration and malformed references or times are all refused, naming the field path
/// (`data.owner.organisation`, `data.options[1].key`).
enum PayloadValidator {
    // Paths are autoclosures: the writer validates every event, and a path string is needed only for an error.
    static func validate(_ value: JSONValue, fields: [Field], atLeastOne: [String] = [],
                         path: @autoclosure () -> String = "data") throws(LedgerError)
    {
        guard case .object(let members) = value else { throw error("wrong_type", path(), "must be an object") }
        let isUnknown = { (key: String) in !fields.contains { $0.name == key } }
        if members.keys.contains(where: isUnknown) {
            // The first unknown member in name order, so the error does not depend on dictionary order.
            let unknown = members.keys.filter(isUnknown).min()!
            throw error("unknown_field", "\(path()).\(unknown)", "is not a field of this event type")
        }
        for field in fields {
            guard let member = members[field.name] else {
                if field.required { throw error("missing_field", "\(path()).\(field.name)", "is required") }
                continue
            }
            try check(member, field.type, path: "\(path()).\(field.name)")
        }
        if !atLeastOne.isEmpty && !atLeastOne.contains(where: { members[$0] != nil }) {
            throw error("missing_field", path(), "needs at least one of \(atLeastOne.joined(separator: ", "))")
        }
    }

    private static func check(_ value: JSONValue, _ type: FieldType, path: @autoclosure () -> String) throws(LedgerError) {
        switch type {
        case .string:
            guard let text = value.stringValue else { throw error("wrong_type", path(), "must be a string") }
            guard !text.isEmpty else { throw error("wrong_type", path(), "must not be empty") }
        case .number:
            guard value.doubleValue != nil else { throw error("wrong_type", path(), "must be a number") }
        case .integer:
            guard value.intValue != nil else { throw error("wrong_type", path(), "must be an integer") }
        case .boolean:
            guard value.boolValue != nil else { throw error("wrong_type", path(), "must be true or false") }
        case .time:
            guard let text = value.stringValue, Timestamp(parsing: text) != nil else {
                throw error("wrong_type", path(), "must be a date (2022-07-01) or an RFC 3339 date-time")
            }
        case .enumeration(let allowed):
            guard let text = value.stringValue, allowed.contains(text) else {
                throw error("invalid_enum", path(), "must be one of \(allowed.joined(separator: ", "))")
            }
        case .stream(let kinds):
            guard let text = value.stringValue, let stream = StreamName(text) else {
                throw error("wrong_type", path(), "must be a stream name kind/key")
            }
            guard kinds.isEmpty || kinds.contains(stream.kind) else {
                let path = path()
                throw LedgerError(.domainRule, code: "wrong_kind",
                                  "\(path): \(stream) is a \(stream.kind); expected \(kinds.joined(separator: " or "))",
                                  details: ["field": .string(path)])
            }
        case .sha256:
            guard let text = value.stringValue, Digest(hex: text) != nil else {
                throw error("wrong_type", path(), "must be a SHA-256 digest in hex (64 digits)")
            }
        case .object(let fields):
            try validate(value, fields: fields, path: path())
        case .array(let element, let minItems):
            guard let items = value.arrayValue else { throw error("wrong_type", path(), "must be an array") }
            guard items.count >= minItems else { throw error("missing_field", path(), "needs at least \(minItems) item(s)") }
            for (index, item) in items.enumerated() { try check(item, element, path: "\(path())[\(index)]") }
        }
    }

    /// Every stream a payload refers to, with its field path: the fields declared `.stream`, at any depth. The
    /// domain checks all of them exist, so a new reference field is covered by declaring its type.
    static func streamReferences(_ value: JSONValue?, fields: [Field], path: String = "data") -> [(path: String, stream: StreamName)] {
        guard case .object(let members)? = value else { return [] }
        return fields.flatMap { field in references(members[field.name], field.type, path: "\(path).\(field.name)") }
    }

    private static func references(_ value: JSONValue?, _ type: FieldType, path: String) -> [(path: String, stream: StreamName)] {
        switch type {
        case .stream: return value?.stringValue.flatMap(StreamName.init).map { [(path, $0)] } ?? []
        case .object(let fields): return streamReferences(value, fields: fields, path: path)
        case .array(let element, _):
            return (value?.arrayValue ?? []).enumerated().flatMap { references($1, element, path: "\(path)[\($0)]") }
        default: return []
        }
    }

    static func error(_ code: String, _ path: String, _ message: String) -> LedgerError {
        LedgerError(.invalidInput, code: code, "\(path) \(message)", details: ["field": .string(path)])
    }
}
