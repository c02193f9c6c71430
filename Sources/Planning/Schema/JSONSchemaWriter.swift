import Ledger

/// Writes the JSON Schema (2020-12) of an event type from its Swift declaration: the files in `Schemas/events/`
/// are this function's output, and a test keeps them equal.
public enum JSONSchemaWriter {
    public static func schema(for type: EventType) -> JSONValue {
        var schema = objectSchema(type.fields)
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = .string("https://planledger.example/schemas/events/\(type.name).schema.json")
        schema["title"] = .string(type.name)
        schema["description"] = .string(
            "\(type.summary) Stream kind: \(type.kind). Schema version \(type.schemaVersion)."
                + (type.requiresReason ? " The event's envelope must carry a reason." : ""))
        if !type.atLeastOne.isEmpty {
            schema["anyOf"] = .array(type.atLeastOne.map { ["required": [.string($0)]] })
        }
        schema["examples"] = .array(type.examples)
        return .object(schema)
    }

    static func objectSchema(_ fields: [Field]) -> JSONObject {
        var properties: JSONObject = [:]
        for field in fields {
            guard case .object(var property) = typeSchema(field.type) else { continue }
            property["description"] = .string(field.description)
            properties[field.name] = .object(property)
        }
        return [
            "type": "object", "additionalProperties": false, "properties": .object(properties),
            "required": JSONValue(fields.filter(\.required).map(\.name)),
        ]
    }

    static func typeSchema(_ type: FieldType) -> JSONValue {
        switch type {
        case .string: return ["type": "string", "minLength": 1]
        case .number: return ["type": "number"]
        case .integer: return ["type": "integer"]
        case .boolean: return ["type": "boolean"]
        case .time:
            return ["type": "string", "pattern": #"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?$"#,
                    "$comment": "RFC 3339 date-time, or a date meaning midnight UTC"]
        case .enumeration(let values): return ["type": "string", "enum": JSONValue(values)]
        case .stream(let kinds):
            let kindPattern = kinds.isEmpty ? "[a-z][a-z_]{0,31}" : "(" + kinds.joined(separator: "|") + ")"
            return ["type": "string", "pattern": .string("^\(kindPattern)/[A-Za-z0-9._:-]{1,128}$")]
        case .sha256: return ["type": "string", "pattern": "^[0-9a-fA-F]{64}$"]
        case .object(let fields): return .object(objectSchema(fields))
        case .array(let element, let minItems):
            return ["type": "array", "items": typeSchema(element), "minItems": JSONValue(minItems)]
        }
    }
}
