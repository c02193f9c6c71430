/// Writes the canonical (RFC 8785) bytes of an envelope without `hash` directly, members in their fixed JCS order,
/// with `data` spliced in as already-canonical bytes. Equal, byte for byte, to `CanonicalJSON.encode` of
/// `RecordedEvent.unhashedEnvelope` (a test holds it to that); used on every append, verify and archive check,
/// where building and sorting a dictionary per event would dominate.
///
/// The layout is written once, over `EnvelopeFields`: from a `RecordedEvent`, or (in `verify`) straight from the
/// column bytes of a stored row, so that the bytes a row is checked against are laid out by the same code that
/// laid out the bytes it was hashed from.
enum EnvelopeEncoder {
    static func encode(_ event: RecordedEvent, canonicalData: some Collection<UInt8>) -> [UInt8] {
        var out = ByteBuffer(capacity: canonicalData.count + 320)
        write(RecordedEnvelopeFields(event: event, canonicalData: canonicalData), to: &out)
        return out.array
    }

    /// Appends the canonical envelope of `fields` to `out`.
    static func write<Fields: EnvelopeFields>(_ fields: Fields, to out: inout ByteBuffer) {
        func optional(_ field: EnvelopeTextField, _ key: StaticString) {
            guard fields.isPresent(field) else { return }
            out.append(key)
            fields.write(field, to: &out)
        }

        // {"actor":{"id","organisation"?,"role"},"causationId"?,"correlationId"?,"data","effectiveAt","id",
        //  "position","reason"?,"recordedAt","schemaVersion","stream","type","version"}
        out.append(#"{"actor":{"id":"#)
        fields.write(.actorId, to: &out)
        optional(.actorOrganisation, #","organisation":"#)
        out.append(#","role":"#)
        fields.write(.actorRole, to: &out)
        out.append(UInt8(ascii: "}"))
        optional(.causationId, #","causationId":"#)
        optional(.correlationId, #","correlationId":"#)
        out.append(#","data":"#)
        fields.writeData(to: &out)
        out.append(#","effectiveAt":"#)
        write(fields.effectiveAt, to: &out)
        out.append(#","id":"#)
        fields.write(.id, to: &out)
        out.append(#","position":"#)
        write(fields.position, to: &out)
        optional(.reason, #","reason":"#)
        out.append(#","recordedAt":"#)
        write(fields.recordedAt, to: &out)
        out.append(#","schemaVersion":"#)
        write(fields.schemaVersion, to: &out)
        out.append(#","stream":"#)
        fields.write(.stream, to: &out)
        out.append(#","type":"#)
        fields.write(.type, to: &out)
        out.append(#","version":"#)
        write(fields.version, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    private static func write(_ timestamp: Timestamp, to out: inout ByteBuffer) {
        out.append(byteCount: Timestamp.rfc3339Length + 2) { bytes in
            bytes[0] = UInt8(ascii: "\"")
            timestamp.write(rfc3339: UnsafeMutableRawBufferPointer(rebasing: bytes[1...]))
            bytes[Timestamp.rfc3339Length + 1] = UInt8(ascii: "\"")
        }
    }

    /// The decimal digits of `value`, as `String(value)` writes them (a stored row may hold any integer).
    static func write(_ value: Int, to out: inout ByteBuffer) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digitCount = 1
        while magnitude >= 10 {
            magnitude /= 10
            digitCount += 1
        }
        magnitude = value.magnitude
        out.append(byteCount: digitCount) { digits in
            for index in (0..<digitCount).reversed() {
                digits[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            }
        }
    }

    /// A string member's value from UTF-8 bytes, as `CanonicalJSON.writeString` writes the string they decode to.
    /// Printable ASCII (every envelope string the ledger itself writes) is copied as it is; anything else goes
    /// through `String(decoding:)` first, so that invalid UTF-8 in an edited row is repaired exactly as when it is
    /// read, and then through `writeString` itself.
    static func writeString(utf8 bytes: UnsafeRawBufferPointer, to out: inout ByteBuffer) {
        guard isPlain(bytes) else { return writeString(String(decoding: bytes, as: UTF8.self), to: &out) }
        out.append(UInt8(ascii: "\""))
        out.append(bytes)
        out.append(UInt8(ascii: "\""))
    }

    /// Whether every byte is printable ASCII other than `"` and `\` (0x20–0x7F), which a JSON string holds as
    /// it is. Eight bytes at a time: byte by byte, this test was a twentieth of verifying a ledger.
    static func isPlain(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        // Whether any byte of `word` is zero: exact, whatever the other bytes (the classic "haszero" test).
        func hasZeroByte(_ word: UInt64) -> Bool { (word &- ones) & ~word & highBits != 0 }
        var offset = 0
        while offset + 8 <= bytes.count {
            let word = bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            // A byte ≥ 0x80; a byte < 0x20 ("hasless", exact when no byte is ≥ 0x80); a `"`; a `\`.
            if word & highBits != 0 || (word &- ones &* 0x20) & ~word & highBits != 0
                || hasZeroByte(word ^ (ones &* 0x22)) || hasZeroByte(word ^ (ones &* 0x5C))
            {
                return false
            }
            offset += 8
        }
        while offset < bytes.count {
            let byte = bytes[offset]
            guard byte >= 0x20 && byte < 0x80 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") else { return false }
            offset += 1
        }
        return true
    }

    static func writeString(_ string: String, to out: inout ByteBuffer) {
        var escaped: [UInt8] = []
        CanonicalJSON.writeString(string, to: &escaped)
        out.append(escaped)
    }
}

/// The string members of an envelope, for `EnvelopeFields`; the optional ones may be absent.
enum EnvelopeTextField: Int, CaseIterable {
    case actorId, actorOrganisation, actorRole, causationId, correlationId, id, reason, stream, type

    var isOptional: Bool {
        switch self {
        case .actorOrganisation, .causationId, .correlationId, .reason: true
        case .actorId, .actorRole, .id, .stream, .type: false
        }
    }
}

/// Where `EnvelopeEncoder` takes an envelope's members from.
protocol EnvelopeFields {
    /// Whether an optional member is present (absent ones are omitted, never `null`).
    func isPresent(_ field: EnvelopeTextField) -> Bool
    /// Appends a present string member as a canonical JSON string.
    func write(_ field: EnvelopeTextField, to out: inout ByteBuffer)
    /// Appends `data`, already canonical.
    func writeData(to out: inout ByteBuffer)
    var effectiveAt: Timestamp { get }
    var position: Int { get }
    var recordedAt: Timestamp { get }
    var schemaVersion: Int { get }
    var version: Int { get }
}

/// An event's members, with its `data` given as canonical bytes (stored or freshly encoded).
struct RecordedEnvelopeFields<Data: Collection<UInt8>>: EnvelopeFields {
    let event: RecordedEvent
    let canonicalData: Data

    private func text(_ field: EnvelopeTextField) -> String? {
        switch field {
        case .actorId: event.actor.id
        case .actorOrganisation: event.actor.organisation
        case .actorRole: event.actor.role
        case .causationId: event.causationId
        case .correlationId: event.correlationId
        case .id: event.id
        case .reason: event.reason
        case .stream: event.stream.description
        case .type: event.type
        }
    }

    func isPresent(_ field: EnvelopeTextField) -> Bool { text(field) != nil }
    func write(_ field: EnvelopeTextField, to out: inout ByteBuffer) {
        // Through the byte path, like a stored row: plain ASCII is copied without a temporary escaped copy.
        var string = text(field)!
        string.withUTF8 { EnvelopeEncoder.writeString(utf8: UnsafeRawBufferPointer($0), to: &out) }
    }
    func writeData(to out: inout ByteBuffer) { out.append(canonicalData) }
    var effectiveAt: Timestamp { event.effectiveAt }
    var position: Int { event.position }
    var recordedAt: Timestamp { event.recordedAt }
    var schemaVersion: Int { event.schemaVersion }
    var version: Int { event.version }
}
