import Testing

@testable import Ledger

struct TimestampTests {
    @Test func formatsRFC3339WithMilliseconds() {
        #expect(Timestamp(millisecondsSinceEpoch: 0).rfc3339 == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp(millisecondsSinceEpoch: 1_656_633_600_000).rfc3339 == "2022-07-01T00:00:00.000Z")
        #expect(Timestamp(millisecondsSinceEpoch: -1).rfc3339 == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp(millisecondsSinceEpoch: 951_782_400_123).rfc3339 == "2000-02-29T00:00:00.123Z")
    }

    @Test func parsesDatesAndDateTimes() {
        #expect(Timestamp(parsing: "2022-07-01")?.millisecondsSinceEpoch == 1_656_633_600_000)
        #expect(Timestamp(parsing: "2022-07-01T00:00:00Z")?.millisecondsSinceEpoch == 1_656_633_600_000)
        #expect(Timestamp(parsing: "2022-07-01T01:00:00.5+01:00")?.millisecondsSinceEpoch == 1_656_633_600_500)
        #expect(Timestamp(parsing: "2022-06-30T23:30:00.123456-00:30")?.rfc3339 == "2022-07-01T00:00:00.123Z")
    }

    @Test(arguments: ["2022-02-29", "2022-13-01", "2022-07-01T24:00:00Z", "2022-07-01T00:00:00", "22-07-01",
                      "2022-07-01T00:00Z", "2022-07-01T00:00:00.Z", "2022-07-01 00:00:00Z", "2022-07-01T00:00:00+1:00"])
    func rejectsInvalidTimes(text: String) {
        #expect(Timestamp(parsing: text) == nil)
    }

    /// `rfc3339` as it was written before it was written in place (commit 6806e31): a verifier hashes whatever
    /// instant an edited row holds, years beyond 9999 and before 1 included, so the bytes must not have changed.
    static func referenceRFC3339(_ time: Timestamp) -> String {
        var (days, msOfDay) = time.millisecondsSinceEpoch.quotientAndRemainder(dividingBy: 86_400_000)
        if msOfDay < 0 {
            days -= 1
            msOfDay += 86_400_000
        }
        let (year, month, day) = Timestamp.civil(fromDays: days)
        var bytes: [UInt8] = Array("0000-00-00T00:00:00.000Z".utf8)
        func put(_ value: Int64, at offset: Int, width: Int) {
            var value = value
            for index in stride(from: offset + width - 1, through: offset, by: -1) {
                bytes[index] = UInt8(48 + value % 10)
                value /= 10
            }
        }
        put(year, at: 0, width: 4)
        put(month, at: 5, width: 2)
        put(day, at: 8, width: 2)
        put(msOfDay / 3_600_000, at: 11, width: 2)
        put(msOfDay / 60_000 % 60, at: 14, width: 2)
        put(msOfDay / 1000 % 60, at: 17, width: 2)
        put(msOfDay % 1000, at: 20, width: 3)
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func writesEveryInstantAsBefore() {
        var instants: [Int64] = [.min, .min + 1, .max, .max - 1, 0, -1, 1, 253_402_300_799_999, 253_402_300_800_000,
                                 -62_135_596_800_000, -62_135_596_800_001]
        var state: UInt64 = 17
        for _ in 0..<5_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            instants.append(Int64(bitPattern: state) >> (state % 50))
        }
        for ms in instants {
            let time = Timestamp(millisecondsSinceEpoch: ms)
            #expect(time.rfc3339 == Self.referenceRFC3339(time), "\(ms)")
        }
    }

    @Test func roundTripsThroughText() {
        for ms in stride(from: Int64(-5_000_000_000_000), to: 5_000_000_000_000, by: 123_456_789_123) {
            let time = Timestamp(millisecondsSinceEpoch: ms)
            #expect(Timestamp(parsing: time.rfc3339) == time)
        }
    }
}
