/// A run of recorded events that a hook folds in order (a page of `rebuild`, or the part of one a router hands on),
/// read in place.
///
/// Why not an `ArraySlice`: passing an element of an array, a buffer or a span to a function that is not inlined
/// copies it (the optimizer cannot prove the memory unchanged across the call), and copying a `RecordedEvent`
/// retains and releases a dozen references: a twentieth of the projecting thread of a rebuild. `forEach` moves each
/// event out of the buffer for the call and back after it, so the callee borrows the only copy.
///
/// Valid only inside the `with(_:_:)` call that made it; it must not be stored.
public struct EventRun {
    private let events: UnsafeMutableBufferPointer<RecordedEvent>

    private init(_ events: UnsafeMutableBufferPointer<RecordedEvent>) { self.events = events }

    /// Calls `body` with a run over all of `records`. `records` is mutable only so that its storage is not shared
    /// (and so not copied): its events are the same ones when `with` returns.
    public static func with<Result>(_ records: inout [RecordedEvent], _ body: (EventRun) throws -> Result) rethrows -> Result {
        try records.withUnsafeMutableBufferPointer { try body(EventRun($0)) }
    }

    public var count: Int { events.count }

    /// The events at `offsets` (counted from this run's first event).
    public subscript(offsets: Range<Int>) -> EventRun { EventRun(UnsafeMutableBufferPointer(rebasing: events[offsets])) }

    /// The stream of the event at `offset`, read in place.
    public func stream(at offset: Int) -> StreamName { events[offset].stream }

    /// Calls `body` with each event in order. Each is moved out for the call and put back after it, also when
    /// `body` throws, so the buffer always holds every event.
    public func forEach(_ body: (borrowing RecordedEvent) throws -> Void) rethrows {
        for offset in events.indices {
            let event = events.moveElement(from: offset)
            defer { events.initializeElement(at: offset, to: event) }
            try body(event)
        }
    }
}
