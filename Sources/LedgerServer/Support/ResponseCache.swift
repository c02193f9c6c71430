import HTTPServer
import Synchronization

/// Answers of routes whose response depends only on the committed ledger and the request target (not on the caller,
/// not on the clock), kept while nothing is committed. Every entry belongs to one `CommitWatch` generation; the
/// first request that sees a newer generation empties the cache, so a response is never served after any commit
/// (here or in another process) that might have changed it.
final class ResponseCache: Sendable {
    private struct State {
        var generation = Int.min
        var responses: [String: HTTPResponse] = [:]
        var bytes = 0
    }

    private let state = Mutex(State())
    /// Body bytes held at most; once full, further answers are not cached until the next commit empties it.
    let maximumBytes: Int

    init(maximumBytes: Int = 8 << 20) { self.maximumBytes = maximumBytes }

    /// The cached response to `key` if it was cached in `generation`.
    func response(for key: String, generation: Int) -> HTTPResponse? {
        state.withLock { state in state.generation == generation ? state.responses[key] : nil }
    }

    /// Caches `response` (a byte body) as the answer to `key`, computed from a read that began after `generation`
    /// was seen. An answer from an older generation than the cache's is dropped.
    func store(_ response: HTTPResponse, for key: String, generation: Int) {
        guard case .bytes(let body) = response.body else { return }
        state.withLock { state in
            if generation > state.generation {
                state = State(generation: generation)
            }
            guard generation == state.generation, state.responses[key] == nil,
                state.bytes + body.count + key.utf8.count <= maximumBytes
            else { return }
            state.responses[key] = response
            state.bytes += body.count + key.utf8.count
        }
    }
}
