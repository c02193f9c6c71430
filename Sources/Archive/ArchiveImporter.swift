import Foundation
import Ledger

/// `planledger import`: loads a full archive into an empty ledger, verifying it on the way. The target is written in
/// one transaction and committed only when the archive has verified to its last byte and the imported ledger has
/// the archive's checkpoint; otherwise it is left untouched (a target file that did not exist is removed).
public struct ArchiveImporter {
    public let hook: any LedgerHook

    public init(hook: any LedgerHook) { self.hook = hook }

    public func importArchive(_ lines: LineReader, into path: String, progress: ((Int, Int) -> Void)? = nil) throws
        -> ArchiveVerifier.Report
    {
        let existed = FileManager.default.fileExists(atPath: path)
        do {
            let importer = try LedgerImporter(path: path, hook: hook)
            let report = try ArchiveVerifier().verify(lines, onManifest: { manifest in
                guard manifest.slice.isFull else {
                    throw ArchiveError(line: 1, code: "not_full",
                                       "only a full archive can be imported; this one is a slice (its events are proven, not complete)")
                }
            }, onEvent: { event in try importer.add(event) }, progress: progress)
            try importer.commit(expected: (report.manifest.source.size, report.manifest.source.rootHash))
            return report
        } catch {
            if !existed {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            }
            throw error
        }
    }
}
