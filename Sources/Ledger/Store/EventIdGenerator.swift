#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Time-ordered UUIDs (version 7, RFC 9562 §5.7) for events sent without an id, in the lowercase form ids are
/// stored in: 48 bits of Unix time in milliseconds, then 74 random bits.
///
/// Time-ordered because `events.id` is a unique index. With random (version 4) ids every append inserted into a
/// random leaf of that index: on a large ledger a page read from disk and one more page written to the WAL per
/// event, the largest single cost of a small durable append. Ids made in the same millisecond are still unique by
/// their random bits. The time in an id is only its generation time; `recordedAt` is the record's time.
///
/// `Foundation.UUID()` makes a system call per id (4% of the writer's time on 1,000-event transactions); the random
/// bits come from a process-wide pool refilled 4 KiB at a time from /dev/urandom, which is opened once.
enum EventIdGenerator {
    private struct Pool {
        var device: Int32 = -1
        var bytes = [UInt8](repeating: 0, count: 4_096)
        var offset = 4_096
    }

    private static let pool = Mutex(Pool())

    /// A fresh id, stamped with the current time.
    static func next() -> String { next(unixMilliseconds: UInt64(max(0, Timestamp.now().millisecondsSinceEpoch))) }

    /// A fresh id stamped with `unixMilliseconds`.
    static func next(unixMilliseconds: UInt64) -> String {
        var uuid = randomBytes(16)
        for index in 0..<6 { uuid[index] = UInt8(truncatingIfNeeded: unixMilliseconds >> (40 - 8 * index)) }
        uuid[6] = (uuid[6] & 0x0F) | 0x70  // version 7
        uuid[8] = (uuid[8] & 0x3F) | 0x80  // RFC 9562 variant
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

    private static func randomBytes(_ count: Int) -> [UInt8] {
        pool.withLock { pool in
            if pool.offset + count > pool.bytes.count {
                refill(&pool)
            }
            defer { pool.offset += count }
            return Array(pool.bytes[pool.offset..<pool.offset + count])
        }
    }

    private static func refill(_ pool: inout Pool) {
        if pool.device < 0 { pool.device = open("/dev/urandom", O_RDONLY | O_CLOEXEC) }
        var filled = 0
        if pool.device >= 0 {
            while filled < pool.bytes.count {
                let device = pool.device
                let got = pool.bytes.withUnsafeMutableBytes { buffer in read(device, buffer.baseAddress! + filled, buffer.count - filled) }
                if got <= 0 { break }
                filled += got
            }
        }
        // Without /dev/urandom (a bare chroot), Swift's system generator: ids are never predictable.
        var generator = SystemRandomNumberGenerator()
        for index in filled..<pool.bytes.count { pool.bytes[index] = UInt8.random(in: .min ... .max, using: &generator) }
        pool.offset = 0
    }
}
