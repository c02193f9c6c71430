import Foundation

/// A table keyed by a stream name's bytes as stored, for `verify`: a row's stream is looked up in place, without
/// making a `String` for every event. Only valid (ASCII) names are entered, for which equal bytes and equal strings
/// are the same thing.
///
/// Open addressing with its own hash of the bytes, eight at a time: `Dictionary`'s SipHash over a `Hasher` was a
/// tenth of verifying a ledger. The hash is seeded per table, so a file crafted to collide cannot be prepared in
/// advance.
final class StreamTable<Value> {
    // Unchecked exclusivity: no access to these overlaps another (each method makes its own), and the table is
    // looked up for every row read, where the runtime's dynamic checks showed.
    @exclusivity(unchecked) private var names: [UInt8] = []
    /// Each entry's name, as a range of `names`, and its value, in the order entered.
    @exclusivity(unchecked) private var spans: [Range<Int>] = []
    @exclusivity(unchecked) private(set) var values: [Value] = []
    /// Per slot: the entry's hash (0 for an empty slot) and its index in `spans`.
    @exclusivity(unchecked) private var slotHashes: [UInt64]
    @exclusivity(unchecked) private var slotEntries: [Int32]
    private let seed: UInt64

    init(capacity: Int = 64) {
        var slots = 16
        while slots < capacity * 2 { slots *= 2 }
        slotHashes = Array(repeating: 0, count: slots)
        slotEntries = Array(repeating: 0, count: slots)
        seed = UInt64.random(in: 1 ... .max)
    }

    var count: Int { spans.count }

    /// The index of the entry for `name`, for `values` and `update`.
    func index(of name: UnsafeRawBufferPointer) -> Int? {
        let hash = hash(name)
        let mask = slotHashes.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slotHashes[slot] != 0 {
            if slotHashes[slot] == hash {
                let entry = Int(slotEntries[slot])
                if equal(entry, name) { return entry }
            }
            slot = (slot + 1) & mask
        }
        return nil
    }

    func update(_ index: Int, to value: Value) { values[index] = value }

    /// Enters `name` (not yet in the table) with `value`, copying the name.
    func insert(_ name: UnsafeRawBufferPointer, _ value: Value) {
        if (spans.count + 1) * 2 > slotHashes.count { grow() }
        let start = names.count
        names.append(contentsOf: name)
        spans.append(start..<names.count)
        values.append(value)
        place(entry: spans.count - 1, hash: hash(name))
    }

    /// Sets the value of `name`, entering it if it is new.
    func set(_ name: UnsafeRawBufferPointer, _ value: Value) {
        if let index = index(of: name) { values[index] = value } else { insert(name, value) }
    }

    /// Calls `body` with each entry's name and value, in the order entered.
    func forEach(_ body: (UnsafeRawBufferPointer, Value) throws -> Void) rethrows {
        try names.withUnsafeBytes { names in
            for (span, value) in zip(spans, values) { try body(UnsafeRawBufferPointer(rebasing: names[span]), value) }
        }
    }

    /// Every entry under its name as a string, for the final comparison with the `streams` table.
    func byName() -> [String: Value] {
        var result: [String: Value] = [:]
        result.reserveCapacity(count)
        forEach { name, value in result[String(decoding: name, as: UTF8.self)] = value }
        return result
    }

    private func equal(_ entry: Int, _ name: UnsafeRawBufferPointer) -> Bool {
        let span = spans[entry]
        guard span.count == name.count else { return false }
        return names.withUnsafeBytes { names in
            guard let stored = names.baseAddress, let other = name.baseAddress else { return true }
            return memcmp(stored + span.lowerBound, other, span.count) == 0
        }
    }

    private func place(entry: Int, hash: UInt64) {
        let mask = slotHashes.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slotHashes[slot] != 0 { slot = (slot + 1) & mask }
        slotHashes[slot] = hash
        slotEntries[slot] = Int32(entry)
    }

    private func grow() {
        slotHashes = Array(repeating: 0, count: slotHashes.count * 2)
        slotEntries = Array(repeating: 0, count: slotHashes.count)
        names.withUnsafeBytes { names in
            for (entry, span) in spans.enumerated() {
                place(entry: entry, hash: hash(UnsafeRawBufferPointer(rebasing: names[span])))
            }
        }
    }

    /// A multiply-and-rotate hash of the bytes, eight at a time, finished with a 64-bit mixer; never 0 (the mark
    /// of an empty slot).
    private func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash = seed ^ UInt64(bytes.count)
        var offset = 0
        while offset + 8 <= bytes.count {
            let word = bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            hash = (hash ^ word).multipliedFullWidth(by: 0x9E37_79B9_7F4A_7C15).low.rotated(left: 29)
            offset += 8
        }
        if offset < bytes.count {
            var word: UInt64 = 0
            for index in offset..<bytes.count { word = word << 8 | UInt64(bytes[index]) }
            hash = (hash ^ word).multipliedFullWidth(by: 0x9E37_79B9_7F4A_7C15).low.rotated(left: 29)
        }
        hash ^= hash >> 33
        hash &*= 0xFF51_AFD7_ED55_8CCD
        hash ^= hash >> 33
        return hash == 0 ? 1 : hash
    }
}

extension UInt64 {
    fileprivate func rotated(left count: UInt64) -> UInt64 { self << count | self >> (64 - count) }
}
