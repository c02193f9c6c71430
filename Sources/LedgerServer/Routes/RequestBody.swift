import Ledger

/// A JSON object request body, read member by member. A member of the wrong type is refused with 400 naming it, never
/// read as absent: a client that sent `"label": 5` made a mistake, and storing the defaults would hide it.
struct RequestBody {
    let members: JSONObject

    /// - Parameter fields: the members the route knows; any other is refused, so a misspelt field is not ignored.
    /// - Throws: `APIError` 400 when `value` is not an object or has a member not in `fields`.
    init(_ value: JSONValue, fields: [String]) throws {
        guard let members = value.objectValue else {
            throw APIError.badRequest("the body must be an object", field: "body")
        }
        if let unknown = members.keys.sorted().first(where: { !fields.contains($0) }) {
            throw APIError.badRequest("unknown field \(unknown)", field: unknown)
        }
        self.members = members
    }

    /// The string member `name`; nil when absent.
    /// - Throws: `APIError` 400 naming `name` when it is present and not a string (`null` included).
    func string(_ name: String) throws -> String? {
        guard let value = members[name] else { return nil }
        guard let string = value.stringValue else { throw Self.wrongType(name, value, expected: "a string") }
        return string
    }

    /// The member `name` as an array of strings; nil when absent.
    /// - Throws: `APIError` 400 naming `name` when it is present and not an array of strings.
    func strings(_ name: String) throws -> [String]? {
        guard let value = members[name] else { return nil }
        guard let array = value.arrayValue else { throw Self.wrongType(name, value, expected: "an array of strings") }
        return try array.map { element in
            guard let string = element.stringValue else {
                throw APIError.badRequest("\(name) must hold only strings, not \(element.typeName)", field: name)
            }
            return string
        }
    }

    private static func wrongType(_ name: String, _ value: JSONValue, expected: String) -> APIError {
        APIError.badRequest("\(name) must be \(expected), not \(value.typeName)", field: name)
    }
}
