import Ledger

/// `evolve`: a stream's state after one of its own events. Fields are the defining event's data, updated as
/// documented per type; the result is what the projections store per version and the API serves as `state`.
extension PlanningDomain {
    public static func evolve(_ state: consuming EntityState?, _ event: RecordedEvent) -> EntityState {
        var next = state ?? EntityState(stream: event.stream, version: 0, status: EntityStatus.active,
                                        createdAt: event.effectiveAt, updatedAt: event.effectiveAt, fields: [:])
        next.version = event.version
        next.updatedAt = event.effectiveAt
        var fields = next.fields.objectValue ?? [:]
        next.fields = .null  // so that `fields` is the only reference and changes in place instead of being copied
        let data = event.data.objectValue ?? [:]
        // Formatted only by the types that record it (not by readings, most of a large ledger).
        var at: JSONValue { .string(event.effectiveAt.rfc3339) }
        func append(_ key: String, _ value: JSONValue) {
            fields[key] = .array((fields[key]?.arrayValue ?? []) + [value])
        }
        func merge() { for (key, value) in data { fields[key] = value } }

        switch event.type {
        case "MeasureReadingRecorded":  // first: most of a large ledger, and a string switch tests cases in order
            // The state keeps the latest reading (by its `at`) and a count, not the series: a measure read monthly
            // for years would otherwise copy a growing list into every version. The series is the stream's events.
            fields["readingCount"] = JSONValue((fields["readingCount"]?.intValue ?? 0) + 1)
            if let latest = fields["latestReading"], let at = Self.time(data["at"]), let latestAt = Self.time(latest["at"]), at < latestAt {
                break
            }
            fields["latestReading"] = event.data
        case "OrganisationRegistered", "GoalDefined", "MeasureDefined", "EvidenceRecorded", "DecisionProposed":
            fields = data
            next.status = event.type == "DecisionProposed" ? EntityStatus.proposed : EntityStatus.active
        case "AssumptionRecorded":
            fields = data
        case "HandoverRecorded":
            fields = data
            next.status = EntityStatus.recorded
        case "OrganisationRenamed":
            if let old = fields["name"] { append("formerNames", old) }
            merge()
        case "OrganisationDissolved":
            fields["dissolution"] = .object(data.merging(["at": at]) { $1 })
            next.status = EntityStatus.dissolved
        case "GoalRevised": merge()
        case "GoalRealigned": fields["parent"] = data["parent"]
        case "GoalContributionAgreed": append("contributions", .object(data.merging(["at": at]) { $1 }))
        case "GoalStatusAssessed": fields["assessment"] = .object(data.merging(["at": at]) { $1 })
        case "GoalClosed":
            fields["closure"] = .object(data.merging(["at": at]) { $1 })
            next.status = EntityStatus.closed
        case "MeasureTargetSet": fields["target"] = event.data
        case "MeasureReadingCorrected":
            fields["correctionCount"] = JSONValue((fields["correctionCount"]?.intValue ?? 0) + 1)
            if var latest = fields["latestReading"]?.objectValue, Self.time(latest["at"]) == Self.time(data["at"]) {
                latest["correctedFrom"] = latest["value"]
                latest["value"] = data["value"]
                fields["latestReading"] = .object(latest)
            }
        case "MeasureRetired", "AssumptionRetired":
            fields["retirement"] = .object(data.merging(["at": at]) { $1 })
            next.status = EntityStatus.retired
        case "AssumptionRevised":
            for (key, value) in data where key != "supports" { fields[key] = value }
            if let added = data["supports"]?.arrayValue {
                var supports = fields["supports"]?.arrayValue ?? []
                for item in added where !supports.contains(item) { supports.append(item) }
                fields["supports"] = .array(supports)
            }
        case "AssumptionChallenged":
            append("challenges", .object(data.merging(["at": at]) { $1 }))
            next.status = EntityStatus.challenged
        case "AssumptionValidated":
            fields["validation"] = .object(data.merging(["at": at]) { $1 })
            next.status = EntityStatus.validated
        case "AssumptionInvalidated":
            fields["invalidation"] = .object(data.merging(["at": at]) { $1 })
            next.status = EntityStatus.invalidated
        case "DecisionTaken":
            merge()
            fields["decidedAt"] = at
            next.status = EntityStatus.taken
        case "DecisionReviewed":
            append("reviews", .object(data.merging(["at": at]) { $1 }))
            fields["lastReviewedAt"] = at
            if let nextReview = data["nextReviewBy"] { fields["reviewBy"] = nextReview }
        case "DecisionSuperseded":
            fields["supersededBy"] = data["by"]
            next.status = EntityStatus.superseded
        case "DecisionRevoked":
            fields["revocation"] = .object(data.merging(["at": at]) { $1 })
            next.status = EntityStatus.revoked
        case "EvidenceLinked":
            var linked = fields["linkedTo"]?.arrayValue ?? []
            for item in data["to"]?.arrayValue ?? [] where !linked.contains(item) { linked.append(item) }
            fields["linkedTo"] = .array(linked)
        case "EvidenceWithdrawn":
            fields["withdrawal"] = .object(data.merging(["at": at]) { $1 })
            next.status = EntityStatus.withdrawn
        default:
            break
        }
        next.fields = .object(fields)
        return next
    }

    static func time(_ value: JSONValue?) -> Timestamp? { value?.stringValue.flatMap(Timestamp.init(parsing:)) }
}
