/// The latest version and effective time of every stream `verify` has read, keyed by the stream name's bytes as
/// stored: a row's stream is looked up in place, without making a `String` for every event. Only valid (ASCII)
/// names are entered, for which equal bytes and equal strings are the same thing.
final class StreamVersions {
    struct Entry {
        var version: Int
        var effectiveAt: Int64
    }

    /// A name's bytes: borrowed from the current row for a lookup, or owned by this table once entered.
    private struct Name: Hashable {
        let bytes: UnsafeRawBufferPointer

        func hash(into hasher: inout Hasher) { hasher.combine(bytes: bytes) }
        static func == (lhs: Name, rhs: Name) -> Bool { lhs.bytes.elementsEqual(rhs.bytes) }
    }

    // Unchecked exclusivity: no access to `entries` overlaps another (each method makes one), and this is looked
    // up for every row read, where the runtime's dynamic check showed.
    @exclusivity(unchecked) private var entries: [Name: Entry] = [:]

    init() {}

    deinit { for name in entries.keys { name.bytes.deallocate() } }

    var count: Int { entries.count }

    func entry(for name: UnsafeRawBufferPointer) -> Entry? { entries[Name(bytes: name)] }

    /// Sets the entry of `name`, copying the name if it is new.
    func set(_ entry: Entry, for name: UnsafeRawBufferPointer) {
        if let index = entries.index(forKey: Name(bytes: name)) {
            entries.values[index] = entry
        } else {
            let owned = UnsafeMutableRawBufferPointer.allocate(byteCount: name.count, alignment: 1)
            owned.copyMemory(from: name)
            entries[Name(bytes: UnsafeRawBufferPointer(owned))] = entry
        }
    }

    /// Every entry under its name as a string, for the final comparison with the `streams` table.
    func byName() -> [String: Entry] {
        Dictionary(uniqueKeysWithValues: entries.map { (String(decoding: $0.key.bytes, as: UTF8.self), $0.value) })
    }
}
