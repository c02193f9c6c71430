/// The type of one payload field, declared once in Swift and used three ways: to validate event data, to write
/// the JSON Schema files in `Schemas/events/`, and (by a test) to check those files still agree with the code.
public indirect enum FieldType: Sendable, Equatable {
    case string
    /// A JSON number.
    case number
    case integer
    case boolean
    /// An RFC 3339 date-time, or a date `YYYY-MM-DD` (midnight UTC).
    case time
    /// One of a fixed set of strings.
    case enumeration([String])
    /// A stream name (`kind/key`) of one of `kinds` (any kind when empty).
    case stream([String])
    /// 64 lowercase or uppercase hex digits.
    case sha256
    case object([Field])
    case array(FieldType, minItems: Int)
}

/// One member of an event payload (or of a nested object).
public struct Field: Sendable, Equatable {
    public let name: String
    public let type: FieldType
    public let required: Bool
    public let description: String

    public init(_ name: String, _ type: FieldType, required: Bool = true, _ description: String) {
        self.name = name
        self.type = type
        self.required = required
        self.description = description
    }

    public static func optional(_ name: String, _ type: FieldType, _ description: String) -> Field {
        Field(name, type, required: false, description)
    }
}
