import Ledger

/// `planledger import`: loads a full archive into an empty ledger, verifying it on the way. The target is opened only
/// once the manifest shows a full archive, written in one transaction (its tables included) and committed only when
/// the archive has verified to its last byte and the imported ledger has the archive's checkpoint. Otherwise it is
/// left as it was: a target that did not exist is removed, an empty file is emptied again (opening it wrote the
/// header of an empty database), and one with tables of any kind is refused before it is written to.
public struct ArchiveImporter {
    public let hook: any LedgerHook

    public init(hook: any LedgerHook) { self.hook = hook }

    public func importArchive(_ lines: LineReader, into path: String, progress: ((Int, Int) -> Void)? = nil) throws
        -> ArchiveVerifier.Report
    {
        let before = LedgerFileState(path: path)
        var importer: LedgerImporter?
        do {
            let report = try ArchiveVerifier().verify(lines, onManifest: { manifest in
                guard manifest.slice.isFull else {
                    throw ArchiveError(line: 1, code: "not_full",
                                       "only a full archive can be imported; this one is a slice (its events are proven, not complete)")
                }
                importer = try LedgerImporter(path: path, hook: hook)
            }, onEvent: { event in try importer?.add(event) }, progress: progress)
            try importer?.commit(expected: (report.manifest.source.size, report.manifest.source.rootHash))
            return report
        } catch {
            importer?.abort()
            importer = nil  // closes the target before its files are removed
            before.restore(path)
            throw error
        }
    }
}
