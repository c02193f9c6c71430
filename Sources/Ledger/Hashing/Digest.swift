import CSHA256

/// A SHA-256 digest (32 bytes). Written as lowercase hex wherever it is served.
public struct Digest: Sendable, Hashable, CustomStringConvertible, ContiguousBytes {
    /// The bytes, in order, held inline: a digest is made for every leaf and Merkle node, and verifying a ledger
    /// makes millions of them, where an array each would cost a heap allocation and reference counting.
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.init(unchecked: bytes)
    }

    /// The first 32 bytes of `bytes`, or nil when there are not exactly 32 (a stored hash of the wrong length).
    public init?(bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 32 else { return nil }
        Swift.withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: bytes) }
    }

    init(unchecked bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in Swift.withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: raw) } }
    }

    /// A digest written in place by `body` (a C hash function's 32-byte output).
    init(writing body: (UnsafeMutablePointer<UInt8>) -> Void) {
        Swift.withUnsafeMutableBytes(of: &words) { body($0.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
    }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: words, body)
    }

    public static func == (lhs: Digest, rhs: Digest) -> Bool {
        lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1 && lhs.words.2 == rhs.words.2
            && lhs.words.3 == rhs.words.3
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }

    /// Whether `other` holds exactly these 32 bytes (false for any other length).
    public func equals(_ other: UnsafeRawBufferPointer) -> Bool {
        guard other.count == 32 else { return false }
        return words.0 == other.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
            && words.1 == other.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            && words.2 == other.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
            && words.3 == other.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
    }

    /// Parses 64 hex digits (either case).
    public init?(hex: String) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 64 else { return nil }
        var bytes = [UInt8](repeating: 0, count: 32)
        for index in 0..<32 {
            guard let high = Self.nibble(utf8[2 * index]), let low = Self.nibble(utf8[2 * index + 1]) else { return nil }
            bytes[index] = high << 4 | low
        }
        self.init(unchecked: bytes)
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x61...0x66: byte - 0x61 + 10
        case 0x41...0x46: byte - 0x41 + 10
        default: nil
        }
    }

    public var hex: String { withUnsafeBytes { Self.hex($0) } }
    public var description: String { hex }

    public static func hex(_ bytes: some Collection<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// SHA-256 (FIPS 180-4), computed by the package's C target (SHA-NI where the CPU has it).
public enum SHA256 {
    public static func hash(_ bytes: some ContiguousBytes) -> Digest {
        bytes.withUnsafeBytes { raw in Digest { pl_sha256(raw.baseAddress, raw.count, $0) } }
    }

    /// The digest of several byte runs hashed as one message, without concatenating them first.
    public static func hash(parts: [UnsafeRawBufferPointer]) -> Digest {
        var context = pl_sha256_ctx()
        pl_sha256_init(&context)
        for part in parts { pl_sha256_update(&context, part.baseAddress, part.count) }
        return Digest { pl_sha256_final(&context, $0) }
    }

    public static var isAccelerated: Bool { pl_sha256_accelerated() != 0 }
}

/// Byte containers SHA-256 can read in place.
public protocol ContiguousBytes {
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}
extension Array: ContiguousBytes where Element == UInt8 {}
extension ArraySlice: ContiguousBytes where Element == UInt8 {}

/// Incremental SHA-256 over data that arrives in pieces (an archive being written or read).
public struct SHA256Hasher {
    private var context = pl_sha256_ctx()

    public init() { pl_sha256_init(&context) }

    public mutating func update(_ bytes: some ContiguousBytes) {
        bytes.withUnsafeBytes { raw in pl_sha256_update(&context, raw.baseAddress, raw.count) }
    }

    public mutating func finalize() -> Digest { Digest { pl_sha256_final(&context, $0) } }
}
