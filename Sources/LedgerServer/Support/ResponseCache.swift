import Foundation
import HTTPServer
import Ledger

/// Answers of routes whose response depends only on the committed ledger and the request target (not on the caller),
/// kept while nothing is committed. Every entry belongs to one `CommitWatch` generation; the first request that sees
/// a newer generation empties the cache, so a response is never served after any commit (here or in another
/// process) that might have changed it. An answer "now" also depends on the clock (a future-dated record comes into
/// force): such an entry carries the time it expires at.
///
/// The lock is an `NSLock` (a plain pthread mutex), not `Synchronization.Mutex`: every request of a cached route
/// takes it, and with many more connection threads than cores Mutex's priority-inheritance futex hands the lock
/// from thread to thread in strict order, so one preempted waiter stalls all the others (it cost 12% of the
/// server's CPU under wrk, against well under 1% for the lookup itself).
final class ResponseCache: @unchecked Sendable {
    // @unchecked: `state` is guarded by `lock`.
    private struct State {
        var generation = Int.min
        var responses: [String: (response: HTTPResponse, expiresAt: Timestamp?)] = [:]
        var bytes = 0
    }

    private let lock = NSLock()
    private var state = State()
    /// Body and key bytes, and answers, held at most; once full, further answers are not cached until the next
    /// commit empties it. Targets are the client's to choose, so both are bounded.
    let maximumBytes: Int
    let maximumEntries: Int

    init(maximumBytes: Int = 8 << 20, maximumEntries: Int = 4096) {
        self.maximumBytes = maximumBytes
        self.maximumEntries = maximumEntries
    }

    /// The cached response to `key` if it was cached in `generation` and has not expired by `now`.
    func response(for key: String, generation: Int, now: Timestamp = .now()) -> HTTPResponse? {
        lock.lock()
        defer { lock.unlock() }
        guard state.generation == generation, let entry = state.responses[key] else { return nil }
        if let expiresAt = entry.expiresAt, now >= expiresAt { return nil }
        return entry.response
    }

    /// Caches `response` (a byte body) as the answer to `key`, computed from a read that began after `generation`
    /// was seen, until `expiresAt` (nil: until the next commit). An answer from an older generation than the
    /// cache's is dropped; an entry that expires is replaced by the newer answer.
    func store(_ response: HTTPResponse, for key: String, generation: Int, expiresAt: Timestamp? = nil) {
        guard case .bytes(let body) = response.body else { return }
        lock.lock()
        defer { lock.unlock() }
        if generation > state.generation {
            state = State(generation: generation)
        }
        // An answer from an older generation changes nothing: it must not even replace an entry that expires.
        guard generation == state.generation else { return }
        if let expired = state.responses[key], expired.expiresAt != nil {
            state.responses[key] = nil
            if case .bytes(let old) = expired.response.body { state.bytes -= old.count + key.utf8.count }
        }
        guard state.responses[key] == nil, state.responses.count < maximumEntries,
            state.bytes + body.count + key.utf8.count <= maximumBytes
        else { return }
        state.responses[key] = (response, expiresAt)
        state.bytes += body.count + key.utf8.count
    }
}
