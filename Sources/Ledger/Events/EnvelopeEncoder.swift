/// Writes the canonical (RFC 8785) bytes of an envelope without `hash` directly, members in their fixed JCS order,
/// with `data` spliced in as already-canonical bytes. Equal, byte for byte, to `CanonicalJSON.encode` of
/// `RecordedEvent.unhashedEnvelope` (a test holds it to that); used on every append, verify and archive check,
/// where building and sorting a dictionary per event would dominate.
enum EnvelopeEncoder {
    static func encode(_ event: RecordedEvent, canonicalData: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(canonicalData.count + 320)
        func key(_ name: StaticString) {
            out.append(UInt8(ascii: ","))
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        }
        func string(_ value: String) { CanonicalJSON.writeString(value, to: &out) }
        func integer(_ value: Int) { out.append(contentsOf: String(value).utf8) }

        // {"actor":{"id","organisation"?,"role"},"causationId"?,"correlationId"?,"data","effectiveAt","id",
        //  "position","reason"?,"recordedAt","schemaVersion","stream","type","version"}
        out.append(contentsOf: Array(#"{"actor":{"id":"#.utf8))
        string(event.actor.id)
        if let organisation = event.actor.organisation {
            key("organisation")
            string(organisation)
        }
        key("role")
        string(event.actor.role)
        out.append(UInt8(ascii: "}"))
        if let causationId = event.causationId {
            key("causationId")
            string(causationId)
        }
        if let correlationId = event.correlationId {
            key("correlationId")
            string(correlationId)
        }
        key("data")
        out.append(contentsOf: canonicalData)
        key("effectiveAt")
        string(event.effectiveAt.rfc3339)
        key("id")
        string(event.id)
        key("position")
        integer(event.position)
        if let reason = event.reason {
            key("reason")
            string(reason)
        }
        key("recordedAt")
        string(event.recordedAt.rfc3339)
        key("schemaVersion")
        integer(event.schemaVersion)
        key("stream")
        string(event.stream.description)
        key("type")
        string(event.type)
        key("version")
        integer(event.version)
        out.append(UInt8(ascii: "}"))
        return out
    }
}
