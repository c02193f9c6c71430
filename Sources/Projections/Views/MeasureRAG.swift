import Ledger

/// Red / amber / green status of a measure's latest reading against what its target's trajectory expects by then.
///
/// Expected value at the reading's date: linear between the trajectory's points (the baseline is the first point,
/// the target value at its due date the last). A reading on the right side of expected is green; one on the wrong
/// side by at most `tolerance` (in the measure's unit; default 0) is amber; further off is red. With no target or
/// no reading the status is `unknown`.
public enum MeasureRAG {
    public struct Point: Sendable, Equatable {
        public let at: Timestamp
        public let value: Double
        public init(at: Timestamp, value: Double) {
            self.at = at
            self.value = value
        }
    }

    public static func expected(at time: Timestamp, points: [Point]) -> Double? {
        let points = points.sorted { $0.at < $1.at }
        guard let first = points.first, let last = points.last else { return nil }
        if time <= first.at { return first.value }
        if time >= last.at { return last.value }
        for (a, b) in zip(points, points.dropFirst()) where time >= a.at && time <= b.at {
            let span = Double(b.at.millisecondsSinceEpoch - a.at.millisecondsSinceEpoch)
            guard span > 0 else { return b.value }
            let fraction = Double(time.millisecondsSinceEpoch - a.at.millisecondsSinceEpoch) / span
            return a.value + (b.value - a.value) * fraction
        }
        return last.value
    }

    /// `green`, `amber`, `red` or `unknown`.
    public static func status(reading: Point?, points: [Point], higherIsBetter: Bool, tolerance: Double) -> String {
        guard let reading, let expected = expected(at: reading.at, points: points) else { return "unknown" }
        let shortfall = higherIsBetter ? expected - reading.value : reading.value - expected
        if shortfall <= 0 { return "green" }
        return shortfall <= tolerance ? "amber" : "red"
    }

    /// The RAG of a measure from its state fields (`direction`, `baseline`, `target` {value, due, trajectory?,
    /// tolerance?}, `latestReading` {at, value}).
    static func evaluate(fields: JSONValue) -> (rag: String, latest: JSONValue?, expected: Double?) {
        func point(_ json: JSONValue?) -> Point? {
            guard let json, let text = json["at"]?.stringValue ?? json["due"]?.stringValue,
                let at = Timestamp(parsing: text), let value = json["value"]?.doubleValue
            else { return nil }
            return Point(at: at, value: value)
        }
        let latestJSON = fields["latestReading"]
        guard let target = fields["target"] else { return ("unknown", latestJSON, nil) }
        var points: [Point] = []
        if let baseline = point(fields["baseline"]) { points.append(baseline) }
        points += (target["trajectory"]?.arrayValue ?? []).compactMap(point)
        if let due = point(target) { points.append(due) }
        let latest = point(latestJSON)
        let higher = fields["direction"]?.stringValue != "lower_is_better"
        let rag = status(reading: latest, points: points, higherIsBetter: higher,
                         tolerance: target["tolerance"]?.doubleValue ?? 0)
        return (rag, latestJSON, latest.flatMap { expected(at: $0.at, points: points) })
    }
}
