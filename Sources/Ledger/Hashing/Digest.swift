import CSHA256

/// A SHA-256 digest (32 bytes). Written as lowercase hex wherever it is served.
public struct Digest: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    /// Parses 64 hex digits (either case).
    public init?(hex: String) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 64 else { return nil }
        var bytes = [UInt8](repeating: 0, count: 32)
        for index in 0..<32 {
            guard let high = Self.nibble(utf8[2 * index]), let low = Self.nibble(utf8[2 * index + 1]) else { return nil }
            bytes[index] = high << 4 | low
        }
        self.bytes = bytes
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x61...0x66: byte - 0x61 + 10
        case 0x41...0x46: byte - 0x41 + 10
        default: nil
        }
    }

    public var hex: String { Self.hex(bytes) }
    public var description: String { hex }

    public static func hex(_ bytes: [UInt8]) -> String {
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
        var digest = [UInt8](repeating: 0, count: 32)
        bytes.withUnsafeBytes { raw in
            digest.withUnsafeMutableBufferPointer { out in pl_sha256(raw.baseAddress, raw.count, out.baseAddress) }
        }
        return Digest(unchecked: digest)
    }

    /// The digest of several byte runs hashed as one message, without concatenating them first.
    public static func hash(parts: [UnsafeRawBufferPointer]) -> Digest {
        var context = pl_sha256_ctx()
        pl_sha256_init(&context)
        for part in parts { pl_sha256_update(&context, part.baseAddress, part.count) }
        var digest = [UInt8](repeating: 0, count: 32)
        digest.withUnsafeMutableBufferPointer { pl_sha256_final(&context, $0.baseAddress) }
        return Digest(unchecked: digest)
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

    public mutating func finalize() -> Digest {
        var digest = [UInt8](repeating: 0, count: 32)
        digest.withUnsafeMutableBufferPointer { pl_sha256_final(&context, $0.baseAddress) }
        return Digest(unchecked: digest)
    }
}
