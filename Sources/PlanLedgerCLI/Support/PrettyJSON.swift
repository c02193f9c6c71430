import Ledger

/// Indented JSON for people: members in canonical (sorted) order, two-space indent.
enum PrettyJSON {
    static func string(_ value: JSONValue) -> String {
        var output = ""
        write(value, indent: 0, to: &output)
        return output
    }

    private static func write(_ value: JSONValue, indent: Int, to output: inout String) {
        let pad = String(repeating: "  ", count: indent + 1)
        let closing = String(repeating: "  ", count: indent)
        switch value {
        case .array(let elements) where !elements.isEmpty:
            output += "[\n"
            for (offset, element) in elements.enumerated() {
                output += pad
                write(element, indent: indent + 1, to: &output)
                output += offset < elements.count - 1 ? ",\n" : "\n"
            }
            output += closing + "]"
        case .object(let members) where !members.isEmpty:
            output += "{\n"
            // In the object's own order, which is canonical JSON's.
            for (offset, member) in members.enumerated() {
                output += pad + CanonicalJSON.string(.string(member.key)) + ": "
                write(member.value, indent: indent + 1, to: &output)
                output += offset < members.count - 1 ? ",\n" : "\n"
            }
            output += closing + "}"
        default:
            output += CanonicalJSON.string(value)
        }
    }
}
