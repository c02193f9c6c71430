import HTTPServer
import Ledger
import Testing

@testable import LedgerServer

/// The cache answers only within the generation an answer was stored in, and stays within its bounds.
@Suite struct ResponseCacheTests {
    static func response(_ text: String) -> HTTPResponse { .json(status: 200, Array(text.utf8)) }

    static func body(_ response: HTTPResponse?) -> String? {
        guard case .bytes(let bytes)? = response?.body else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func answersOnlyInTheGenerationItWasStoredIn() {
        let cache = ResponseCache()
        cache.store(Self.response("one"), for: "/a", generation: 5)
        #expect(Self.body(cache.response(for: "/a", generation: 5)) == "one")
        #expect(cache.response(for: "/a", generation: 6) == nil)
        #expect(cache.response(for: "/b", generation: 5) == nil)
        // An answer computed under an older generation than the cache's is dropped; a newer one empties it.
        cache.store(Self.response("stale"), for: "/b", generation: 4)
        #expect(cache.response(for: "/b", generation: 4) == nil && cache.response(for: "/b", generation: 5) == nil)
        cache.store(Self.response("two"), for: "/b", generation: 7)
        #expect(Self.body(cache.response(for: "/b", generation: 7)) == "two")
        #expect(cache.response(for: "/a", generation: 5) == nil && cache.response(for: "/a", generation: 7) == nil)
    }

    /// An answer that expires (a view "now" with a future-dated record) is replaced by a newer answer of its own
    /// generation, but a late answer from an older generation, computed before the last commit, leaves it alone.
    @Test func aLateAnswerFromAnOlderGenerationLeavesAnEntryThatExpiresInPlace() {
        let cache = ResponseCache()
        let later = Timestamp(millisecondsSinceEpoch: Timestamp.now().millisecondsSinceEpoch + 3_600_000)
        cache.store(Self.response("current"), for: "/plan", generation: 8, expiresAt: later)
        cache.store(Self.response("stale"), for: "/plan", generation: 7, expiresAt: later)
        #expect(Self.body(cache.response(for: "/plan", generation: 8)) == "current")
        cache.store(Self.response("newer"), for: "/plan", generation: 8, expiresAt: later)
        #expect(Self.body(cache.response(for: "/plan", generation: 8)) == "newer")
    }

    @Test func staysWithinItsBounds() {
        let bytes = ResponseCache(maximumBytes: 100, maximumEntries: 10)
        bytes.store(Self.response(String(repeating: "x", count: 60)), for: "/a", generation: 1)
        bytes.store(Self.response(String(repeating: "y", count: 60)), for: "/b", generation: 1)
        #expect(bytes.response(for: "/a", generation: 1) != nil && bytes.response(for: "/b", generation: 1) == nil)

        let entries = ResponseCache(maximumBytes: 1 << 20, maximumEntries: 3)
        for index in 0..<5 { entries.store(Self.response("\(index)"), for: "/\(index)", generation: 1) }
        #expect((0..<5).filter { entries.response(for: "/\($0)", generation: 1) != nil }.count == 3)
    }
}
