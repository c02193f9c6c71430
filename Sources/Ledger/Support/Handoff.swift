import Foundation

/// A bounded queue from one producing thread to one consuming thread: the producer runs at most `capacity` items
/// ahead, and either side can end it. Used where reading SQLite on a second thread and connection lets the work
/// of `rebuild` and `verify` use both cores.
///
/// The producer calls `put` (false once the consumer has stopped: stop producing) and finally `close`. The consumer
/// calls `take` until it returns nil, and `stop` when done (also early, after a failure of its own), which waits
/// until the producer has closed, so nothing it holds (a database connection) outlives the consumer's use.
///
/// The consumer may `giveBack` items it is done with, and the producer releases them when it next calls
/// `collectReturned`: freeing a page of decoded events was a sixth of `rebuild`'s projecting thread, which the
/// reading thread has time for.
final class Handoff<Item>: @unchecked Sendable {
    // @unchecked: all state is guarded by `condition`; an item belongs to one side at a time, handed over under it.
    private let condition = NSCondition()
    private let capacity: Int
    private var items: [Item] = []
    private var closed = false
    private var failure: (any Error)?
    private var stopping = false
    private var returned: [Item] = []

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    // MARK: Producer

    /// Queues `item`, waiting while `capacity` are queued; false (and `item` dropped) once the consumer stopped.
    func put(_ item: Item) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity && !stopping { condition.wait() }
        guard !stopping else { return false }
        items.append(item)
        condition.broadcast()
        return true
    }

    /// No more items; `failure` is rethrown by `take` once the queued items are taken.
    func close(failure: (any Error)? = nil) {
        condition.lock()
        self.failure = failure
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// The items the consumer gave back since the last call; dropping them releases them on the caller's thread.
    func collectReturned() -> [Item] {
        condition.lock()
        defer { condition.unlock() }
        var collected: [Item] = []
        swap(&collected, &returned)
        return collected
    }

    // MARK: Consumer

    /// The next item in order; nil once the producer closed and everything was taken. Throws the producer's failure.
    func take() throws -> Item? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !closed { condition.wait() }
        if !items.isEmpty {
            condition.broadcast()
            return items.removeFirst()
        }
        if let failure { throw failure }
        return nil
    }

    /// Hands `item` back for the producer to release (see `collectReturned`). Items given back after the producer
    /// closed are released with the handoff.
    func giveBack(_ item: consuming Item) {
        condition.lock()
        returned.append(item)
        condition.unlock()
    }

    /// Asks the producer to stop and waits until it has closed.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !closed { condition.wait() }
        condition.unlock()
    }
}
