import Foundation
import SQLite
import Synchronization
import Testing

@testable import Ledger

/// Checkpoints leave the writer's thread: the writer's connection stops checkpointing itself, and the checkpointer
/// copies the WAL back once it crosses its threshold.
@Suite struct WALCheckpointerTests {
    let directory = TemporaryDirectory()

    @Test func theCommitHookReplacesSQLitesAutomaticCheckpoints() throws {
        defer { directory.remove() }
        let writer = try Database(path: directory.file("wal.sqlite"), options: .init(walAutocheckpointPages: 100))
        try writer.execute("CREATE TABLE t (x BLOB)")
        let largest = Mutex(0)
        writer.setWALCommitHook { frames in largest.withLock { $0 = max($0, frames) } }
        for _ in 0..<150 { try writer.run("INSERT INTO t VALUES (?1)", [.blob([UInt8](repeating: 7, count: 5_000))]) }
        // With automatic checkpoints still on, the WAL would have been copied back and restarted below 100 frames.
        #expect(largest.withLock { $0 } > 300)
    }

    @Test func checkpointsOnItsOwnThreadOnceTheWALCrossesTheThreshold() throws {
        defer { directory.remove() }
        let path = directory.file("wal.sqlite")
        let writer = try Database(path: path, options: .writer)
        try writer.execute("CREATE TABLE t (x BLOB)")
        let checkpointer = WALCheckpointer(path: path, threshold: 50)
        defer { checkpointer.stop() }
        checkpointer.watch(writer)
        for _ in 0..<10 { try writer.run("INSERT INTO t VALUES (?1)", [.blob([UInt8](repeating: 1, count: 100))]) }
        #expect(checkpointer.completed == 0)  // a few frames: below the threshold
        for _ in 0..<60 { try writer.run("INSERT INTO t VALUES (?1)", [.blob([UInt8](repeating: 2, count: 5_000))]) }
        let deadline = Date().addingTimeInterval(10)
        while checkpointer.completed == 0 && Date() < deadline { usleep(10_000) }
        #expect(checkpointer.completed > 0)
        #expect(try writer.scalarInt("SELECT COUNT(*) FROM t") == 70)
    }

    @Test func pastTheLimitTheWriterCompletesTheCheckpointSoTheWALRestarts() throws {
        defer { directory.remove() }
        let path = directory.file("wal.sqlite")
        let writer = try Database(path: path, options: .writer)
        try writer.execute("CREATE TABLE t (x BLOB)")
        let checkpointer = WALCheckpointer(path: path, threshold: 50, limit: 150)
        // No background thread: only the writer's own checkpoints can keep the WAL bounded. (Under sustained
        // appends the background thread never completes one either: frames are added while each pass runs.)
        checkpointer.stop()
        checkpointer.watch(writer)
        var largest = 0
        for _ in 0..<400 {
            try writer.run("INSERT INTO t VALUES (?1)", [.blob([UInt8](repeating: 3, count: 5_000))])
            largest = max(largest, try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as! Int)
        }
        #expect(checkpointer.writerCheckpoints > 0)
        // The WAL file is reused from its start after each complete checkpoint: it never holds much more than
        // `limit` frames (each a 24-byte header and a 4 KiB page), where 400 commits without would need 1,200.
        #expect(largest <= 32 + (150 + 10) * (4_096 + 24))
        #expect(try writer.scalarInt("SELECT COUNT(*) FROM t") == 400)
    }
}
