#if canImport(Glibc)
import Glibc
#endif

/// Random (version 4) UUIDs for events sent without an id, in the lowercase form ids are stored in. Reads the
/// randomness for a whole transaction at once from /dev/urandom: `Foundation.UUID()` makes a system call per id, which
/// showed as 4% of the writer's time on 1,000-event transactions.
struct EventIdGenerator {
    private var bytes: [UInt8]
    private var offset = 0

    /// Ready to make `count` ids.
    init(count: Int) {
        bytes = [UInt8](repeating: 0, count: 16 * count)
        guard count > 0 else { return }
        var filled = 0
        let device = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        if device >= 0 {
            defer { close(device) }
            while filled < bytes.count {
                let got = bytes.withUnsafeMutableBytes { buffer in read(device, buffer.baseAddress! + filled, buffer.count - filled) }
                if got <= 0 { break }
                filled += got
            }
        }
        // Without /dev/urandom (a bare chroot), Swift's own system generator: never predictable ids.
        var generator = SystemRandomNumberGenerator()
        for index in filled..<bytes.count { bytes[index] = UInt8.random(in: .min ... .max, using: &generator) }
    }

    mutating func next() -> String {
        precondition(offset + 16 <= bytes.count, "EventIdGenerator asked for more ids than it was made for")
        var uuid = Array(bytes[offset..<offset + 16])
        offset += 16
        uuid[6] = (uuid[6] & 0x0F) | 0x40  // version 4
        uuid[8] = (uuid[8] & 0x3F) | 0x80  // RFC 4122 variant
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(36)
        for (index, byte) in uuid.enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 { text.append(UInt8(ascii: "-")) }
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
