/// An instant with millisecond precision, written as RFC 3339 UTC (`2022-07-01T00:00:00.000Z`).
///
/// Both of the ledger's times use it: `recordedAt` (transaction time) and `effectiveAt` (valid time). Stored as
/// milliseconds since the Unix epoch so that comparisons and indexes are plain integers.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let millisecondsSinceEpoch: Int64

    public init(millisecondsSinceEpoch: Int64) { self.millisecondsSinceEpoch = millisecondsSinceEpoch }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    /// The current time from the system's real-time clock.
    public static func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(millisecondsSinceEpoch: Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000)
    }

    public var description: String { rfc3339 }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    public var rfc3339: String {
        String(unsafeUninitializedCapacity: Self.rfc3339Length) { buffer in
            write(rfc3339: UnsafeMutableRawBufferPointer(buffer))
            return Self.rfc3339Length
        }
    }

    static let rfc3339Length = 24

    /// Writes the `rfc3339` bytes into the first `rfc3339Length` bytes of `bytes`, with no intermediate string:
    /// this runs twice for every envelope hashed or served.
    func write(rfc3339 bytes: UnsafeMutableRawBufferPointer) {
        let (days, msOfDay) = millisecondsSinceEpoch.quotientAndRemainderFloored(dividingBy: 86_400_000)
        let (year, month, day) = Self.civil(fromDays: days)
        // Each field right-aligned in its width, zero-padded.
        func put(_ value: Int64, at offset: Int, width: Int) {
            var value = value
            for index in stride(from: offset + width - 1, through: offset, by: -1) {
                bytes[index] = UInt8(48 + value % 10)
                value /= 10
            }
        }
        // A value in 0..<100 as two digits, from a table: dividing digit by digit was most of this function's time.
        func putPair(_ value: Int64, at offset: Int) {
            let pair = Self.digitPairs.utf8Start + 2 * Int(value)
            bytes[offset] = pair[0]
            bytes[offset + 1] = pair[1]
        }
        func mark(_ character: Unicode.Scalar, at offset: Int) { bytes[offset] = UInt8(ascii: character) }
        if (0...9999).contains(year) {
            putPair(year / 100, at: 0)
            putPair(year % 100, at: 2)
        } else {
            put(year, at: 0, width: 4)  // a stored value no writer makes, laid out as it always was
        }
        mark("-", at: 4)
        putPair(month, at: 5)
        mark("-", at: 7)
        putPair(day, at: 8)
        mark("T", at: 10)
        putPair(msOfDay / 3_600_000, at: 11)
        mark(":", at: 13)
        putPair(msOfDay / 60_000 % 60, at: 14)
        mark(":", at: 16)
        putPair(msOfDay / 1000 % 60, at: 17)
        mark(".", at: 19)
        bytes[20] = UInt8(48 + msOfDay % 1000 / 100)
        putPair(msOfDay % 100, at: 21)
        mark("Z", at: 23)
    }

    /// "00", "01", … "99".
    private static let digitPairs: StaticString = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

    /// The date part, `YYYY-MM-DD`.
    public var date: String { String(rfc3339.prefix(10)) }

    /// Parses an RFC 3339 date-time (any offset, converted to UTC; fractions beyond milliseconds are truncated) or a
    /// bare date `YYYY-MM-DD`, which means midnight UTC. Years 0001–9999.
    public init?(parsing text: String) {
        // Read in place: evolve parses reading times for every reading a rebuild folds, and copying the bytes out
        // into an array was an allocation each.
        var text = text
        guard let milliseconds = text.withUTF8(Self.milliseconds(parsing:)) else { return nil }
        self.millisecondsSinceEpoch = milliseconds
    }

    private static func milliseconds(parsing bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        func number(_ range: Range<Int>) -> Int64? {
            guard range.upperBound <= bytes.count else { return nil }
            var value: Int64 = 0
            for index in range {
                guard (0x30...0x39).contains(bytes[index]) else { return nil }
                value = value * 10 + Int64(bytes[index] - 0x30)
            }
            return value
        }
        guard bytes.count >= 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            year >= 1, (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month)
        else { return nil }
        var milliseconds = days(fromCivil: year, month, day) * 86_400_000
        if bytes.count == 10 { return milliseconds }
        guard bytes.count >= 20, bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t"),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            hour < 24, minute < 60, second < 60  // leap seconds are not representable in the ledger's clock
        else { return nil }
        milliseconds += ((hour * 60 + minute) * 60 + second) * 1000
        var index = 19
        if bytes[index] == UInt8(ascii: ".") {
            index += 1
            var scale: Int64 = 100
            let start = index
            while index < bytes.count, (0x30...0x39).contains(bytes[index]) {
                milliseconds += Int64(bytes[index] - 0x30) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        guard index < bytes.count else { return nil }
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard index + 1 == bytes.count else { return nil }
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard index + 6 == bytes.count, bytes[index + 3] == UInt8(ascii: ":"),
                let offsetHours = number(index + 1..<index + 3), let offsetMinutes = number(index + 4..<index + 6),
                offsetHours < 24, offsetMinutes < 60
            else { return nil }
            let offset = (offsetHours * 60 + offsetMinutes) * 60_000
            milliseconds += bytes[index] == UInt8(ascii: "+") ? -offset : offset
        default:
            return nil
        }
        return milliseconds
    }

    private static func isLeap(_ year: Int64) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    private static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian calendar).
    static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension Int64 {
    fileprivate func quotientAndRemainderFloored(dividingBy divisor: Int64) -> (Int64, Int64) {
        var (q, r) = quotientAndRemainder(dividingBy: divisor)
        if r < 0 {
            q -= 1
            r += divisor
        }
        return (q, r)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
