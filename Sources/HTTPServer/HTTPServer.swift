import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP/1.1 server on POSIX sockets: one accept thread, and a few event loops (one per core, at most 4)
/// that serve the connections, up to a bound. Handlers are synchronous and run on a loop's thread, so they should
/// be quick: one that waits (for a group commit) answers `.later` and delivers its response from the thread that
/// finishes it, and a streaming response gets a thread of its own. A handler that does block only delays the
/// other connections of its loop.
public final class HTTPServer: Sendable {
    public typealias Handler = @Sendable (HTTPRequest) -> HTTPResponse

    public let configuration: Configuration
    let handler: Handler
    private let state = Mutex<State>(State())
    private let stopping = Atomic<Bool>(false)

    private struct State {
        var listener: Int32 = -1
        var port = 0
        var open = 0
        var acceptThreadDone = true
    }

    public init(configuration: Configuration, handler: @escaping Handler) {
        self.configuration = configuration
        self.handler = handler
    }

    /// The bound port (useful with port 0).
    public var port: Int { state.withLock { $0.port } }

    /// Connections being served now.
    public var openConnections: Int { state.withLock { $0.open } }

    var isStopping: Bool { stopping.load(ordering: .relaxed) }

    var acceptThreadIsDone: Bool { state.withLock { $0.acceptThreadDone } }

    /// Called once for every admitted connection when it closes.
    func connectionClosed() { state.withLock { $0.open -= 1 } }

    /// Binds and starts accepting; returns once the socket listens.
    public func start() throws {
        SystemCalls.ignoreSIGPIPE()
        let (listener, port) = try SystemCalls.listen(host: configuration.host, port: configuration.port, backlog: 512)
        var made: [EventLoop] = []
        do {
            for _ in 0..<min(4, max(1, ProcessInfo.processInfo.activeProcessorCount)) { made.append(try EventLoop(server: self)) }
        } catch {
            made.forEach { $0.discard() }
            close(listener)
            throw error
        }
        let loops = made
        state.withLock {
            $0.listener = listener
            $0.port = port
            $0.acceptThreadDone = false
        }
        for (index, loop) in loops.enumerated() { loop.start(name: "http-loop-\(index)") }
        let thread = Thread { [self] in acceptLoop(listener, loops: loops) }
        thread.name = "http-accept"
        thread.start()
    }

    private func acceptLoop(_ listener: Int32, loops: [EventLoop]) {
        var next = 0
        defer { state.withLock { $0.acceptThreadDone = true } }
        while !isStopping {
            guard SystemCalls.wait(listener, for: Int16(POLLIN), milliseconds: 200) else { continue }
            guard !isStopping, let (fd, remote) = SystemCalls.accept(listener) else { continue }
            let admitted = state.withLock { state -> Bool in
                guard state.open < configuration.maximumConnections else { return false }
                state.open += 1
                return true
            }
            guard admitted else {
                let busy = HTTPResponse.error(status: 503, code: "server_busy", message: "too many connections; retry shortly",
                                              headers: [("Retry-After", "1")])
                _ = SystemCalls.send(fd, busy.serialized(keepAlive: false), milliseconds: 100)
                SystemCalls.shutdownAndClose(fd)
                configuration.onResponse?(HTTPRequest(method: "-", target: "/"), 503, 0)
                continue
            }
            loops[next].post(.adopt(fd: fd, remoteAddress: remote))
            next = (next + 1) % loops.count
        }
    }

    /// Stops accepting, lets requests in flight finish (up to `shutdownGrace`), closes idle keep-alive connections
    /// and ends streaming responses, then returns.
    public func stop() {
        stopping.store(true, ordering: .relaxed)
        let deadline = Date(timeIntervalSinceNow: configuration.shutdownGrace)
        while Date() < deadline {
            let (open, acceptDone) = state.withLock { ($0.open, $0.acceptThreadDone) }
            if open == 0 && acceptDone { break }
            usleep(10_000)
        }
        state.withLock { state in
            if state.listener >= 0 { close(state.listener) }
            state.listener = -1
        }
    }
}
