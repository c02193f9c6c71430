/// A JSON object's members, kept in canonical order: sorted by name as RFC 8785 (JCS) sorts them, by the names'
/// UTF-16 code units. Names are unique.
///
/// Why not a `Dictionary`: objects in the ledger are small (a handful of members), and read far more often than
/// changed. A sorted array is one allocation instead of a hash table, finds a member with a few byte comparisons
/// instead of hashing its name, and is already in the order canonical JSON writes (no sort per encoding). Data read
/// back from the log was stored canonical, so the parser builds its objects without sorting.
public struct JSONObject: Sendable, Hashable {
    public typealias Element = (key: String, value: JSONValue)

    /// A member as stored; the parser builds these directly, so canonical input goes into the object as it is.
    struct Member: Sendable, Hashable {
        var key: String
        var value: JSONValue
    }

    private var members: [Member]

    public init() { members = [] }

    /// From members in any order; on a repeated name the later value wins.
    public init<S: Sequence>(_ elements: S) where S.Element == Element {
        let elements = Array(elements)
        members = []
        members.reserveCapacity(elements.count)
        for index in Self.order(of: elements, name: \.key) {
            let (key, value) = elements[index]
            if let last = members.last, Self.compare(last.key, key) == 0 {
                members[members.count - 1].value = value
            } else {
                members.append(Member(key: key, value: value))
            }
        }
    }

    /// The positions of `elements` in JCS order of their names, and by position among equal names: one sort, not an
    /// insertion per member. Also the parser's, for members that came out of order.
    static func order<Elements: RandomAccessCollection>(of elements: Elements, name: (Elements.Element) -> String)
        -> [Int] where Elements.Index == Int
    {
        elements.indices.sorted {
            let names = compare(name(elements[$0]), name(elements[$1]))
            return names != 0 ? names < 0 : $0 < $1
        }
    }

    /// From members already sorted (strictly ascending, so also unique): the parser's path. Taken as they are, so
    /// an object parsed from canonical input costs one allocation (up to four members; see the parser).
    init(sortedUniqueMembers members: [Member]) {
        self.members = members
    }

    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }
    public var keys: [String] { members.map(\.key) }

    public subscript(key: String) -> JSONValue? {
        get {
            let (index, found) = position(of: key)
            return found ? members[index].value : nil
        }
        set {
            let (index, found) = position(of: key)
            switch (found, newValue) {
            case (true, let value?): members[index].value = value
            case (true, nil): members.remove(at: index)
            case (false, let value?): members.insert(Member(key: key, value: value), at: index)
            case (false, nil): break
            }
        }
    }

    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        let (index, found) = position(of: key)
        return found ? members.remove(at: index).value : nil
    }

    /// `self` with `other`'s members added; where both have a name, `combine` picks the value.
    public func merging(_ other: JSONObject, uniquingKeysWith combine: (JSONValue, JSONValue) -> JSONValue) -> JSONObject {
        var result = self
        for (key, value) in other { result[key] = result[key].map { combine($0, value) } ?? value }
        return result
    }

    /// The members whose value `transform` maps to a non-nil one, as a dictionary.
    public func compactMapValues<T>(_ transform: (JSONValue) throws -> T?) rethrows -> [String: T] {
        var result: [String: T] = [:]
        for member in members { if let value = try transform(member.value) { result[member.key] = value } }
        return result
    }

    /// Where `key` is, or would be inserted, by binary search.
    private func position(of key: String) -> (index: Int, found: Bool) {
        var low = 0
        var high = members.count
        while low < high {
            let middle = (low + high) / 2
            let order = Self.compare(members[middle].key, key)
            if order == 0 { return (middle, true) }
            if order < 0 { low = middle + 1 } else { high = middle }
        }
        return (low, false)
    }

    /// Negative, zero or positive as `a` sorts before, with or after `b` in JCS order (UTF-16 code units).
    ///
    /// UTF-8 bytes sort as code points do, and UTF-16 differs from code point order in one place only: characters
    /// above U+FFFF (4-byte UTF-8, lead bytes F0–F4; surrogate pairs in UTF-16) sort before U+E000–U+FFFF (lead bytes
    /// EE–EF) in UTF-16 and after them in code points. At the first byte where two names differ both are at the start
    /// of a character (the bytes before are equal), so that pair of lead bytes is the only case to turn round.
    public static func compare(_ a: String, _ b: String) -> Int {
        // In place: native and small strings have contiguous UTF-8 (only bridged ones, not on Linux, need a copy).
        let inPlace = a.utf8.withContiguousStorageIfAvailable { a in
            b.utf8.withContiguousStorageIfAvailable { b in compare(utf8: a, b) }
        }
        if let order = inPlace ?? nil { return order }
        return Array(a.utf8).withUnsafeBufferPointer { a in
            Array(b.utf8).withUnsafeBufferPointer { b in compare(utf8: a, b) }
        }
    }

    /// Not generic, and without bounds checks (every index is below both counts): names are compared on every
    /// member lookup, and the generic version's index arithmetic was most of a fold's time in `compare`.
    private static func compare(utf8 a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
        let common = Swift.min(a.count, b.count)
        guard common > 0, let x = a.baseAddress, let y = b.baseAddress else { return a.count - b.count }
        var index = 0
        while index < common, x[index] == y[index] { index += 1 }
        guard index < common else { return a.count - b.count }
        let (p, q) = (x[index], y[index])
        if p >= 0xF0, q == 0xEE || q == 0xEF { return -1 }
        if q >= 0xF0, p == 0xEE || p == 0xEF { return 1 }
        return Int(p) - Int(q)
    }
}

extension JSONObject: Sequence {
    public struct Iterator: IteratorProtocol {
        fileprivate var base: IndexingIterator<[Member]>
        public mutating func next() -> Element? { base.next().map { ($0.key, $0.value) } }
    }

    public func makeIterator() -> Iterator { Iterator(base: members.makeIterator()) }
    public var underestimatedCount: Int { members.count }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements.lazy.map { (key: $0.0, value: $0.1) })
        precondition(count == elements.count, "a JSON object literal repeats a member name")
    }
}
