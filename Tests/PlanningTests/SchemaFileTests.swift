import Foundation
import Ledger
import Testing

@testable import Planning

/// `Schemas/events/*.schema.json` are written from the Swift declarations in `EventCatalog`; these tests keep the
/// two from drifting. After changing an event type, regenerate them with
/// `PLANLEDGER_WRITE_SCHEMAS=1 swift test --filter SchemaFileTests`.
struct SchemaFileTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Schemas/events")

    @Test func everyEventTypeHasItsSchemaFileAndNoOtherFileExists() throws {
        let write = ProcessInfo.processInfo.environment["PLANLEDGER_WRITE_SCHEMAS"] == "1"
        for type in EventCatalog.all {
            let url = Self.directory.appendingPathComponent("\(type.name).schema.json")
            let generated = JSONSchemaWriter.schema(for: type)
            if write {
                try Data((PrettyJSONForSchemas.string(generated) + "\n").utf8).write(to: url)
            }
            let onDisk = try JSONParser.parse(Array(try Data(contentsOf: url)))
            #expect(onDisk == generated, "\(type.name).schema.json differs from the Swift declaration")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path).filter { $0.hasSuffix(".json") }
        #expect(Set(files) == Set(EventCatalog.all.map { "\($0.name).schema.json" }))
    }

    @Test func schemaFilesStateRequiredFieldsAndEnumsOfTheSwiftTypes() throws {
        for type in EventCatalog.all {
            let url = Self.directory.appendingPathComponent("\(type.name).schema.json")
            let schema = try JSONParser.parse(Array(try Data(contentsOf: url)))
            #expect(schema["additionalProperties"] == false)
            #expect(Set(schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
                == Set(type.fields.filter(\.required).map(\.name)), "\(type.name)")
            #expect(Set(schema["properties"]?.objectValue?.keys.map { $0 } ?? []) == Set(type.fields.map(\.name)))
            for field in type.fields {
                if case .enumeration(let values) = field.type {
                    #expect(schema["properties"]?[field.name]?["enum"] == JSONValue(values), "\(type.name).\(field.name)")
                }
            }
        }
    }

    @Test func everyExampleIsValidAndEveryTypeHasOne() throws {
        for type in EventCatalog.all {
            #expect(!type.examples.isEmpty, "\(type.name) has no example")
            for example in type.examples {
                try PayloadValidator.validate(example, fields: type.fields, atLeastOne: type.atLeastOne)
            }
        }
    }

    @Test func envelopeSchemaNamesEveryEnvelopeField() throws {
        let url = Self.directory.deletingLastPathComponent().appendingPathComponent("envelope.schema.json")
        let schema = try JSONParser.parse(Array(try Data(contentsOf: url)))
        #expect(Set(schema["properties"]?.objectValue?.keys.map { $0 } ?? []) == [
            "position", "id", "stream", "version", "type", "schemaVersion", "recordedAt", "effectiveAt", "actor",
            "reason", "correlationId", "causationId", "data", "hash",
        ])
        for example in schema["examples"]?.arrayValue ?? [] {
            let record = try RecordedEvent(json: example)
            #expect(record.computedHash == record.hash, "the envelope example's hash is its real leaf hash")
        }
    }
}

/// Two-space indented JSON in canonical member order, for the generated schema files.
enum PrettyJSONForSchemas {
    static func string(_ value: JSONValue, indent: Int = 0) -> String {
        let pad = String(repeating: "  ", count: indent + 1)
        let closing = String(repeating: "  ", count: indent)
        switch value {
        case .array(let items) where !items.isEmpty:
            return "[\n" + items.map { pad + string($0, indent: indent + 1) }.joined(separator: ",\n") + "\n\(closing)]"
        case .object(let members) where !members.isEmpty:
            let keys = members.keys.sorted { $0.utf16.lexicographicallyPrecedes($1.utf16) }
            return "{\n" + keys.map { pad + CanonicalJSON.string(.string($0)) + ": " + string(members[$0]!, indent: indent + 1) }
                .joined(separator: ",\n") + "\n\(closing)}"
        default:
            return CanonicalJSON.string(value)
        }
    }
}
