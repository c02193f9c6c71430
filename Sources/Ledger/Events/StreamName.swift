/// A stream's name, `<kind>/<key>`: e.g. `goal/G-12`, `decision/BOARD-2022-031`, `organisation/QWO`.
///
/// Kinds are lowercase words (`[a-z][a-z_]*`, up to 32 characters); keys are 1–128 characters of
/// `[A-Za-z0-9._:-]`, so that a name is safe in a URL path segment and in a file name without escaping.
public struct StreamName: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// `kind/key`, kept whole: it is what is stored, bound, hashed and compared (on every event of an append or a
    /// rebuild), so it is made once rather than joined from its parts at each use.
    public let description: String
    public let kind: String
    public var key: String { String(decoding: description.utf8.dropFirst(kind.utf8.count + 1), as: UTF8.self) }

    public init?(kind: String, key: String) {
        guard Self.isValidKind(kind), Self.isValidKey(key) else { return nil }
        self.kind = kind
        description = kind + "/" + key
    }

    /// Parses `kind/key`.
    public init?(_ text: String) {
        var text = text
        guard let slash = text.withUTF8({ bytes -> Int? in
            Self.isValid(utf8: UnsafeRawBufferPointer(bytes)) ? bytes.firstIndex(of: UInt8(ascii: "/")) : nil
        }) else { return nil }
        kind = String(decoding: text.utf8.prefix(slash), as: UTF8.self)
        description = text
    }

    /// Parses `kind/key` from its UTF-8 bytes (a column read in place), checked before any string is made: the same
    /// answer as `init?(_:)` on `String(decoding: bytes, as: UTF8.self)` (see `isValid(utf8:)`).
    public init?(utf8 bytes: UnsafeRawBufferPointer) {
        guard Self.isValid(utf8: bytes), let slash = bytes.firstIndex(of: UInt8(ascii: "/")) else { return nil }
        kind = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<slash]), as: UTF8.self)
        description = String(decoding: bytes, as: UTF8.self)
    }

    // The name determines kind and key, so equality and hashing need only the name.
    public static func == (lhs: StreamName, rhs: StreamName) -> Bool { lhs.description == rhs.description }
    public func hash(into hasher: inout Hasher) { hasher.combine(description) }

    public static func < (lhs: StreamName, rhs: StreamName) -> Bool { lhs.description < rhs.description }

    public static func isValidKind(_ kind: String) -> Bool {
        var kind = kind
        return kind.withUTF8 { isValidKind(utf8: UnsafeRawBufferPointer($0)) }
    }

    public static func isValidKey(_ key: String) -> Bool {
        var key = key
        return key.withUTF8 { isValidKey(utf8: UnsafeRawBufferPointer($0)) }
    }

    /// Whether `bytes` are the UTF-8 of a name `init?(_:)` accepts, checked in place (for `verify`, on every row).
    /// The same answer as parsing `String(decoding: bytes, as: UTF8.self)`: a valid name is ASCII only, and
    /// neither invalid UTF-8 (repaired into U+FFFD) nor a `/` fused with a combining mark can make one.
    static func isValid(utf8 bytes: UnsafeRawBufferPointer) -> Bool {
        guard let slash = bytes.firstIndex(of: UInt8(ascii: "/")) else { return false }
        return isValidKind(utf8: UnsafeRawBufferPointer(rebasing: bytes[..<slash]))
            && isValidKey(utf8: UnsafeRawBufferPointer(rebasing: bytes[(slash + 1)...]))
    }

    static func isValidKind(utf8 bytes: UnsafeRawBufferPointer) -> Bool {
        guard let first = bytes.first, (0x61...0x7A).contains(first), bytes.count <= 32 else { return false }
        return bytes.allSatisfy { (0x61...0x7A).contains($0) || $0 == UInt8(ascii: "_") }
    }

    static func isValidKey(utf8 bytes: UnsafeRawBufferPointer) -> Bool {
        guard !bytes.isEmpty, bytes.count <= 128 else { return false }
        return bytes.allSatisfy { byte in
            switch byte {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"),
                UInt8(ascii: "-"):
                true
            default: false
            }
        }
    }
}
