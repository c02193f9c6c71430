import Foundation
import Synchronization
import Testing

@testable import Ledger

@Suite struct HandoffTests {
    struct Broken: Error {}

    @Test func deliversInOrderThenTheProducersFailure() throws {
        let handoff = Handoff<Int>(capacity: 2)
        let thread = Thread {
            for n in 0..<100 { _ = handoff.put(n) }
            handoff.close(failure: Broken())
        }
        thread.start()
        var received: [Int] = []
        #expect(throws: Broken.self) {
            while let n = try handoff.take() { received.append(n) }
        }
        #expect(received == Array(0..<100))
    }

    @Test func theProducerWaitsAtCapacityAndLearnsWhenTheConsumerStops() throws {
        let handoff = Handoff<Int>(capacity: 3)
        let queued = Atomic<Int>(0)
        let refused = Atomic<Bool>(false)
        let thread = Thread {
            for n in 0..<1_000 {
                guard handoff.put(n) else {
                    refused.store(true, ordering: .sequentiallyConsistent)
                    break
                }
                queued.add(1, ordering: .sequentiallyConsistent)
            }
            handoff.close()
        }
        thread.start()
        usleep(100_000)
        let queuedBeforeTaking = queued.load(ordering: .sequentiallyConsistent)
        #expect(queuedBeforeTaking == 3)  // capacity reached, nothing taken yet
        #expect(try handoff.take() == 0)
        handoff.stop()  // returns only once the producer has closed
        let wasRefused = refused.load(ordering: .sequentiallyConsistent)
        let queuedInAll = queued.load(ordering: .sequentiallyConsistent)
        #expect(wasRefused)
        #expect(queuedInAll <= 4)
    }
}
