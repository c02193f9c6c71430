#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Output helpers: results to standard output, diagnostics and progress to standard error.
enum Terminal {
    static func print(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Whether standard error is a terminal, so progress lines can be redrawn in place.
    static var showsProgress: Bool { isatty(STDERR_FILENO) == 1 }

    /// Redraws a one-line progress indicator on a terminal; prints nothing when redirected.
    static func progress(_ label: String, _ done: Int, _ total: Int) {
        guard showsProgress else { return }
        let percent = total > 0 ? done * 100 / total : 100
        FileHandle.standardError.write(Data("\r\(label) \(done)/\(total) (\(percent)%)\u{1B}[K".utf8))
        if done >= total { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    /// Reads all of standard input or a file.
    static func readInput(_ path: String) throws(CLIError) -> [UInt8] {
        if path == "-" { return Array(FileHandle.standardInput.readDataToEndOfFile()) }
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError.io("cannot read \(path)") }
        return Array(data)
    }
}
