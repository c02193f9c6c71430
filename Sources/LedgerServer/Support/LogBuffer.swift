import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Lines bound for one file descriptor, written in batches: one `write` for many lines instead of one per line.
/// A batch goes out when 64 KiB are waiting, at least every second (so a log being followed stays current), on
/// `flush()`, and when the process exits normally, so nothing is lost on an orderly shutdown.
final class LogBuffer: @unchecked Sendable {
    // @unchecked: `pending` is guarded by `lock`; `writing` is held while a batch is written, so batches leave in
    // the order their lines arrived.
    let fd: Int32
    let batchBytes: Int
    private let lock = NSLock()
    private var pending: [UInt8] = []
    private let writing = NSLock()

    init(fd: Int32, batchBytes: Int = 64 * 1024) {
        self.fd = fd
        self.batchBytes = batchBytes
    }

    /// Standard error, flushed on a timer and at exit. Created on first use, so a quiet server starts no thread.
    static let standardError: LogBuffer = {
        let buffer = LogBuffer(fd: STDERR_FILENO)
        let flusher = Thread {
            while true {
                Thread.sleep(forTimeInterval: 1)
                buffer.flush()
            }
        }
        flusher.name = "access-log-flush"
        flusher.start()
        atexit { LogBuffer.standardError.flush() }
        return buffer
    }()

    /// Queues `line` (which ends in a newline); writes the batch when it is full.
    func append(_ line: [UInt8]) {
        lock.lock()
        pending.append(contentsOf: line)
        let full = pending.count >= batchBytes
        lock.unlock()
        // The thread that fills the batch writes it: a slow reader of the log slows the server down rather than
        // letting the buffer grow without bound.
        if full { flush() }
    }

    /// Writes everything queued so far.
    func flush() {
        writing.lock()
        defer { writing.unlock() }
        lock.lock()
        var batch: [UInt8] = []
        swap(&batch, &pending)
        lock.unlock()
        var offset = 0
        while offset < batch.count {
            let written = batch.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written > 0 {
                offset += written
            } else if written < 0 && errno == EINTR {
                continue
            } else {
                return  // The log's reader has gone; dropping lines must not take the server down.
            }
        }
    }
}
