#if canImport(Glibc)
import Glibc
#endif

/// Splits a byte source into lines (without the newline), reading in chunks so an archive of any size is read in
/// bounded memory. A line longer than `maximumLineLength` is an error rather than an unbounded allocation.
public final class LineReader {
    private let read: () throws -> [UInt8]
    private var buffer: [UInt8] = []
    private var start = 0
    private var exhausted = false
    public let maximumLineLength: Int
    /// Whether the line `next()` last returned ended with a newline: false only for a final line the file ends in
    /// the middle of (an archive's trailer must end with its newline, the file's last byte).
    public private(set) var lastLineWasTerminated = true

    /// - Parameter read: returns the next chunk of bytes, or an empty array at the end.
    public init(maximumLineLength: Int = 64 << 20, read: @escaping () throws -> [UInt8]) {
        self.read = read
        self.maximumLineLength = maximumLineLength
    }

    /// Reads a file in 1 MiB chunks. The file is opened here, so a missing file or a directory fails before anything
    /// else is done (before `import` creates its target).
    /// - Throws: `ArchiveFileError` (`.io`): the file cannot be opened or is a directory; reading it later throws
    ///   the same on a read error.
    public convenience init(path: String) throws(ArchiveFileError) {
        let file = OpenFile(fd: try SystemCalls.openForReading(path))
        self.init { try SystemCalls.read(file.fd, count: 1 << 20, path: path) }
    }

    /// Reads standard input in 1 MiB chunks (`verify-archive -`, `import -`).
    public static func standardInput() -> LineReader {
        LineReader { try SystemCalls.read(STDIN_FILENO, count: 1 << 20, path: "standard input") }
    }

    /// Lines of an in-memory archive.
    public convenience init(bytes: [UInt8]) {
        var delivered = false
        self.init {
            defer { delivered = true }
            return delivered ? [] : bytes
        }
    }

    /// The next line, or nil at the end. A final line without a newline is still returned.
    public func next() throws -> ArraySlice<UInt8>? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                let line = buffer[start..<newline]
                start = newline + 1
                lastLineWasTerminated = true
                return line
            }
            if buffer.count - start > maximumLineLength {
                throw ArchiveError(line: 0, code: "line_too_long", "a line is longer than \(maximumLineLength) bytes")
            }
            if exhausted {
                guard start < buffer.count else { return nil }
                let line = buffer[start...]
                start = buffer.count
                lastLineWasTerminated = false
                return line
            }
            let chunk = try read()
            if chunk.isEmpty {
                exhausted = true
            } else {
                if start > 0 {
                    buffer.removeFirst(start)
                    start = 0
                }
                buffer += chunk
            }
        }
    }
}

/// Closes its descriptor when the last reader lets go of it.
private final class OpenFile {
    let fd: Int32
    init(fd: Int32) { self.fd = fd }
    deinit { close(fd) }
}
