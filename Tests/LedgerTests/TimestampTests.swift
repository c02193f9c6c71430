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

    @Test func roundTripsThroughText() {
        for ms in stride(from: Int64(-5_000_000_000_000), to: 5_000_000_000_000, by: 123_456_789_123) {
            let time = Timestamp(millisecondsSinceEpoch: ms)
            #expect(Timestamp(parsing: time.rfc3339) == time)
        }
    }
}
