import Ledger

/// `evolve`: a stream's state after one of its own events. Fields are the defining event's data, updated as
/// documented per type; the result is what the projections store per version and the API serves as `state`.
extension PlanningDomain {
    public static func evolve(_ state: EntityState?, _ event: RecordedEvent) -> EntityState {
        var next = state ?? EntityState(stream: event.stream, version: 0, status: EntityStatus.active,
                                        createdAt: event.effectiveAt, updatedAt: event.effectiveAt, fields: [:])
        next.version = event.version
        next.updatedAt = event.effectiveAt
        var fields = next.fields.objectValue ?? [:]
        let data = event.data.objectValue ?? [:]
        let at = JSONValue.string(event.effectiveAt.rfc3339)
        func append(_ key: String, _ value: JSONValue) {
            fields[key] = .array((fields[key]?.arrayValue ?? []) + [value])
        }
        func merge() { for (key, value) in data { fields[key] = value } }

        switch event.type {
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
        case "MeasureReadingRecorded": append("readings", event.data)
        case "MeasureReadingCorrected":
            let target = data["at"]?.stringValue.flatMap(Timestamp.init(parsing:))
            fields["readings"] = .array((fields["readings"]?.arrayValue ?? []).map { reading in
                guard reading["at"]?.stringValue.flatMap(Timestamp.init(parsing:)) == target,
                    var corrected = reading.objectValue
                else { return reading }
                corrected["correctedFrom"] = reading["value"]
                corrected["value"] = data["value"]
                return .object(corrected)
            })
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
}
