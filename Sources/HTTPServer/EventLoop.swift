import CEventPoll
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One thread that serves many connections: it waits on all of them at once (epoll), reads and parses what
/// arrives, runs the handler, and writes responses as the sockets take them. A response that is not ready at once
/// (`HTTPResponse.Body.later`, an append waiting for its group commit) comes back through `post` from whatever
/// thread finishes it, so no thread is held waiting per request. Streaming responses leave the loop for a thread
/// of their own (see `Connection`).
///
/// Connections are owned by the loop's thread: only `post` is called from other threads.
final class EventLoop: @unchecked Sendable {
    // @unchecked: `connections`, `nextToken` and `scratch` are touched only on the loop's thread; `inbox` is
    // guarded by `inboxLock`.
    enum Message {
        /// A connection the accept thread admitted.
        case adopt(fd: Int32, remoteAddress: String)
        /// The response to a request answered with `.later`, made on the loop's thread.
        case respond(connection: UInt64, serial: UInt64, request: HTTPRequest, make: @Sendable () -> HTTPResponse,
                     started: Double)
    }

    /// `pl_epoll_control`'s operations.
    private enum Control: Int32 { case add = 0, modify = 1, remove = 2 }

    /// Strong: a loop runs until the server has stopped, even if its owner lets go of it first.
    let server: HTTPServer
    private let epoll: Int32
    private let wakeup: Int32
    private let inboxLock = NSLock()
    private var inbox: [Message] = []
    /// Set, under `inboxLock`, when the loop has ended: a `.later` response for a connection that closed early
    /// may still be posted, and must not signal the wake-up descriptor after it is closed (its number may by then
    /// belong to another file, the ledger's among them).
    private var finished = false
    private var connections: [UInt64: Connection] = [:]
    /// Token 0 is the wake-up eventfd; connections count up from 1 and never reuse a token, so a late message for
    /// a closed connection cannot reach a new one that got the same file descriptor.
    private var nextToken: UInt64 = 1
    /// Receive buffer shared by the loop's connections (one `recv` at a time).
    var scratch = [UInt8](repeating: 0, count: 64 * 1024)
    /// How often deadlines are checked while nothing happens.
    private static let tick = 0.1

    init(server: HTTPServer) throws {
        self.server = server
        epoll = pl_epoll_create()
        guard epoll >= 0 else { throw SystemCalls.Failure(call: "epoll_create1", errno: errno) }
        wakeup = pl_eventfd_create()
        guard wakeup >= 0 else {
            let error = errno
            close(epoll)
            throw SystemCalls.Failure(call: "eventfd", errno: error)
        }
        guard pl_epoll_control(epoll, Control.add.rawValue, wakeup, pl_poll_in, 0) == 0 else {
            let error = errno
            close(wakeup)
            close(epoll)
            throw SystemCalls.Failure(call: "epoll_ctl", errno: error)
        }
    }

    /// Closes the loop's descriptors: when it has ended, or will never run (the server failed to start).
    func discard() {
        close(wakeup)
        close(epoll)
    }

    /// Starts the loop's thread. It runs until the server is stopping, the accept thread is done and every
    /// connection the loop owned is closed or handed to a streaming thread.
    func start(name: String) {
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    /// Queues `message` for the loop's thread and wakes it. Callable from any thread.
    func post(_ message: Message) {
        inboxLock.lock()
        defer { inboxLock.unlock() }
        guard !finished else { return }
        let wasEmpty = inbox.isEmpty
        inbox.append(message)
        // One wake-up per batch: while the inbox is non-empty the loop has been woken and has not drained it yet.
        if wasEmpty { pl_eventfd_signal(wakeup) }
    }

    // MARK: The loop's thread

    private func run() {
        var tokens = [UInt64](repeating: 0, count: 128)
        var events = [UInt32](repeating: 0, count: 128)
        var lastTick = Connection.now()
        while true {
            let count = pl_epoll_wait(epoll, &tokens, &events, Int32(tokens.count), Int32(Self.tick * 1000))
            for index in 0..<max(0, Int(count)) {
                if tokens[index] == 0 {
                    pl_eventfd_drain(wakeup)
                } else {
                    connections[tokens[index]]?.handle(events: events[index])
                }
            }
            drainInbox()
            let now = Connection.now()
            if now - lastTick >= Self.tick {
                lastTick = now
                for connection in Array(connections.values) { connection.checkDeadlines(now: now) }
                if server.isStopping && connections.isEmpty && server.acceptThreadIsDone {
                    // Anything the accept thread handed over before it finished is in the inbox by now.
                    drainInbox()
                    if connections.isEmpty { break }
                }
            }
        }
        inboxLock.withLock { finished = true }
        discard()
    }

    private func drainInbox() {
        inboxLock.lock()
        let messages = inbox
        inbox.removeAll(keepingCapacity: true)
        inboxLock.unlock()
        for message in messages {
            switch message {
            case .adopt(let fd, let remoteAddress):
                adopt(fd: fd, remoteAddress: remoteAddress)
            case .respond(let token, let serial, let request, let make, let started):
                // Made even when the client has gone: the work was done, and making the response records it.
                let response = make()
                connections[token]?.respond(to: request, serial: serial, with: response, started: started)
            }
        }
    }

    private func adopt(fd: Int32, remoteAddress: String) {
        let token = nextToken
        nextToken += 1
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        let connection = Connection(token: token, fd: fd, remoteAddress: remoteAddress, loop: self)
        guard pl_epoll_control(epoll, Control.add.rawValue, fd, connection.interest, token) == 0 else {
            SystemCalls.shutdownAndClose(fd)
            server.connectionClosed()
            return
        }
        connections[token] = connection
    }

    /// Changes what the loop waits for on `connection`'s socket.
    func watch(_ connection: Connection, for events: UInt32) {
        _ = pl_epoll_control(epoll, Control.modify.rawValue, connection.fd, events, connection.token)
    }

    /// Stops watching `connection` and forgets it; the caller closes its socket or hands it on.
    func release(_ connection: Connection) {
        _ = pl_epoll_control(epoll, Control.remove.rawValue, connection.fd, 0, connection.token)
        connections[connection.token] = nil
    }
}
