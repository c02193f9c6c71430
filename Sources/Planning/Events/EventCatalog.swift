import Ledger

/// Every event type of the planning domain (DESIGN §2), declared once. Organisations are referenced by stream
/// name (`organisation/QWO`) everywhere in data; the CLI accepts bare keys and expands them before appending.
public enum EventCatalog {
    public static let all: [EventType] = organisation + goal + measure + assumption + decision + evidence + handover

    public static func type(named name: String) -> EventType? { byName[name] }

    private static let byName = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    public static let kinds = ["organisation", "goal", "measure", "assumption", "decision", "evidence", "handover"]

    // Shared shapes.
    static let organisationRef = FieldType.stream(["organisation"])
    static let owner = FieldType.object([
        Field("organisation", organisationRef, "The owning organisation's stream name."),
        Field("role", .string, "The accountable role within it, e.g. Director of Strategy."),
    ])
    static let forum = FieldType.object([
        Field("organisation", organisationRef, "The organisation whose forum decides."),
        Field("name", .string, "The forum, e.g. Governing Body, ICB Board, Finance Committee."),
    ])
    static let level = FieldType.enumeration(["high", "medium", "low"])
    static let plannable = ["goal", "measure", "assumption", "decision", "evidence"]

    static let organisation: [EventType] = [
        EventType("OrganisationRegistered", kind: "organisation", "An organisation enters the ledger.", role: .defining,
                  fields: [
                    Field("name", .string, "Its name."),
                    Field("kind", .enumeration(["icb", "ccg", "trust", "local_authority", "place_partnership",
                                                "provider_collaborative", "other"]), "What kind of body it is."),
                    .optional("odsCode", .string, "Its ODS code."),
                    .optional("parent", organisationRef, "The organisation it is part of."),
                  ],
                  examples: [["name": "NHS Example Integrated Care Board", "kind": "icb", "odsCode": "QWO"]]),
        EventType("OrganisationRenamed", kind: "organisation", "The organisation's name changes.", reason: true,
                  fields: [Field("name", .string, "The new name.")],
                  examples: [["name": "NHS Example and District Integrated Care Board"]]),
        EventType("OrganisationDissolved", kind: "organisation",
                  "The organisation ceases to exist; it can own nothing new afterwards.", reason: true,
                  fields: [
                    .optional("successor", organisationRef, "The organisation that takes over its functions."),
                    .optional("narrative", .string, "How and why."),
                  ],
                  examples: [["successor": "organisation/QWO", "narrative": "Abolished by the Health and Care Act 2022."]]),
    ]

    static let goal: [EventType] = [
        EventType("GoalDefined", kind: "goal", "A goal at some level of the plan.", role: .defining,
                  fields: [
                    Field("title", .string, "Short title."),
                    .optional("description", .string, "What it means in practice."),
                    Field("level", .enumeration(["ambition", "objective", "breakthrough", "annual", "key_result"]),
                          "Its level in the goal tree."),
                    .optional("parent", .stream(["goal"]), "The goal it contributes to."),
                    Field("owner", owner, "Who owns it."),
                    .optional("horizon", .object([Field("from", .time, "Start."), Field("to", .time, "End.")]),
                              "The period it covers."),
                  ],
                  examples: [[
                    "title": "Improve access to community mental health services", "level": "objective",
                    "parent": "goal/AMB-1", "owner": ["organisation": "organisation/QWO", "role": "Director of Strategy"],
                    "horizon": ["from": "2022-04-01", "to": "2025-03-31"],
                  ]]),
        EventType("GoalRevised", kind: "goal", "Title, description or horizon revised.", reason: true,
                  atLeastOne: ["title", "description", "horizon"],
                  fields: [
                    .optional("title", .string, "New title."), .optional("description", .string, "New description."),
                    .optional("horizon", .object([Field("from", .time, "Start."), Field("to", .time, "End.")]), "New horizon."),
                  ],
                  examples: [["horizon": ["from": "2022-04-01", "to": "2026-03-31"]]]),
        EventType("GoalRealigned", kind: "goal", "The goal moves under another parent.", reason: true,
                  fields: [Field("parent", .stream(["goal"]), "The new parent goal.")],
                  examples: [["parent": "goal/AMB-2"]]),
        EventType("GoalContributionAgreed", kind: "goal", "Another organisation commits to contribute.",
                  fields: [Field("organisation", organisationRef, "The contributor."),
                           Field("commitment", .string, "What it commits to.")],
                  examples: [["organisation": "organisation/RXX", "commitment": "Host two community MH team bases"]]),
        EventType("GoalStatusAssessed", kind: "goal", "A periodic assessment of progress.",
                  fields: [Field("status", .enumeration(["on_track", "at_risk", "off_track"]), "The assessment."),
                           Field("narrative", .string, "Why.")],
                  examples: [["status": "at_risk", "narrative": "Recruitment is three months behind plan."]]),
        EventType("GoalClosed", kind: "goal", "The goal is closed; nothing is revised afterwards.",
                  fields: [Field("outcome", .enumeration(["achieved", "abandoned", "merged"]), "How it ended."),
                           Field("narrative", .string, "Account of the outcome."),
                           .optional("mergedInto", .stream(["goal"]), "Where a merged goal went.")],
                  examples: [["outcome": "achieved", "narrative": "Target met in March 2024."]]),
    ]

    static let measure: [EventType] = [
        EventType("MeasureDefined", kind: "measure", "A measure of a goal, with its baseline.", role: .defining,
                  fields: [
                    Field("goal", .stream(["goal"]), "The goal it measures."),
                    Field("title", .string, "What is measured."), Field("unit", .string, "Unit of the values."),
                    Field("direction", .enumeration(["higher_is_better", "lower_is_better"]), "Which way is better."),
                    Field("baseline", .object([Field("value", .number, "Baseline value."), Field("at", .time, "When.")]),
                          "The starting point."),
                  ],
                  examples: [[
                    "goal": "goal/OBJ-ELECTIVE", "title": "Patients waiting over 52 weeks", "unit": "patients",
                    "direction": "lower_is_better", "baseline": ["value": 4200, "at": "2021-04-01"],
                  ]]),
        EventType("MeasureTargetSet", kind: "measure",
                  "The target (replacing any earlier one, which then needs a reason: see rules).",
                  fields: [
                    Field("value", .number, "Target value."), Field("due", .time, "When it is due."),
                    .optional("trajectory", .array(.object([Field("at", .time, "Date."), Field("value", .number, "Expected value.")]), minItems: 1),
                              "Expected values on the way."),
                    .optional("tolerance", .number, "How far off the trajectory (in the unit) still counts as amber, not red."),
                  ],
                  examples: [["value": 0, "due": "2023-03-31", "trajectory": [["at": "2022-04-01", "value": 2000]], "tolerance": 250]]),
        EventType("MeasureReadingRecorded", kind: "measure", "A reading of the measure.",
                  fields: [Field("value", .number, "The value read."), Field("at", .time, "The date it describes."),
                           .optional("evidence", .stream(["evidence"]), "Where it comes from.")],
                  examples: [["value": 2400, "at": "2022-04-30", "evidence": "evidence/EV-RTT-2022-04"]]),
        EventType("MeasureReadingCorrected", kind: "measure", "Corrects the value of an earlier reading.", reason: true,
                  fields: [Field("at", .time, "The date of the reading corrected."), Field("value", .number, "The right value.")],
                  examples: [["at": "2022-04-30", "value": 2350]]),
        EventType("MeasureRetired", kind: "measure", "The measure is no longer used.", reason: true,
                  fields: [.optional("narrative", .string, "Why.")], examples: [["narrative": "Replaced by a national metric."]]),
    ]

    static let assumption: [EventType] = [
        EventType("AssumptionRecorded", kind: "assumption", "An assumption the plan rests on.", role: .defining,
                  fields: [
                    Field("statement", .string, "The assumption."), Field("basis", .string, "What it is based on."),
                    .optional("value", .number, "A quantity, when it has one."), .optional("unit", .string, "Its unit."),
                    Field("owner", owner, "Who owns it."), Field("confidence", level, "How sure we are."),
                    Field("impact", level, "How much rests on it."),
                    Field("supports", .array(.stream(plannable), minItems: 0), "Goals, measures or decisions that rest on it."),
                    .optional("reviewBy", .time, "When it must be reviewed."),
                  ],
                  examples: [[
                    "statement": "One community mental health nurse can support 35 clients", "basis": "Workforce census 2021",
                    "value": 35, "unit": "clients per nurse",
                    "owner": ["organisation": "organisation/QWO", "role": "Director of Nursing"],
                    "confidence": "medium", "impact": "high", "supports": ["goal/KR-MH-ACCESS"], "reviewBy": "2022-09-30",
                  ]]),
        EventType("AssumptionRevised", kind: "assumption", "Parts of the assumption revised.", reason: true,
                  atLeastOne: ["statement", "basis", "value", "unit", "confidence", "impact", "supports", "reviewBy"],
                  fields: [
                    .optional("statement", .string, "New statement."), .optional("basis", .string, "New basis."),
                    .optional("value", .number, "New value."), .optional("unit", .string, "New unit."),
                    .optional("confidence", level, "New confidence."), .optional("impact", level, "New impact."),
                    .optional("supports", .array(.stream(plannable), minItems: 1), "Further things that rest on it (added)."),
                    .optional("reviewBy", .time, "New review date."),
                  ],
                  examples: [["confidence": "low", "reviewBy": "2022-12-31"]]),
        EventType("AssumptionChallenged", kind: "assumption", "Someone challenges the assumption.",
                  fields: [Field("grounds", .string, "Why it may not hold."),
                           .optional("evidence", .stream(["evidence"]), "Evidence for the challenge.")],
                  examples: [["grounds": "Caseloads in the North team average 24."]]),
        EventType("AssumptionValidated", kind: "assumption", "The assumption is confirmed by evidence.",
                  fields: [Field("evidence", .stream(["evidence"]), "The confirming evidence."),
                           .optional("narrative", .string, "How.")],
                  examples: [["evidence": "evidence/EV-AUDIT-2022"]]),
        EventType("AssumptionInvalidated", kind: "assumption",
                  "The assumption no longer holds: whatever rests on it needs review.", reason: true,
                  fields: [.optional("evidence", .stream(["evidence"]), "The evidence that it does not hold."),
                           Field("narrative", .string, "What was found.")],
                  examples: [["evidence": "evidence/EV-CASELOAD-AUDIT-2022", "narrative": "The sustainable ratio is 1 to 22."]]),
        EventType("AssumptionRetired", kind: "assumption", "The assumption is no longer relied on.", reason: true,
                  fields: [.optional("narrative", .string, "Why.")], examples: [["narrative": "The programme closed."]]),
    ]

    static let option = FieldType.object([Field("key", .string, "Short key, e.g. A."), Field("summary", .string, "What it is.")])

    static let decision: [EventType] = [
        EventType("DecisionProposed", kind: "decision", "A decision put to a forum, with its options.", role: .defining,
                  fields: [
                    Field("title", .string, "Short title."), Field("forum", forum, "The forum asked to decide."),
                    Field("question", .string, "The question put."), Field("options", .array(option, minItems: 1), "The options."),
                  ],
                  examples: [[
                    "title": "Expand community mental health teams",
                    "forum": ["organisation": "organisation/QWO-CCG", "name": "Governing Body"],
                    "question": "How should we meet demand for community mental health care?",
                    "options": [["key": "A", "summary": "Recruit 40 nurses"], ["key": "B", "summary": "Commission the voluntary sector"]],
                  ]]),
        EventType("DecisionTaken", kind: "decision",
                  "The forum decides. May open its stream when a decision is recorded after the fact (then `title` is required).",
                  role: .definingOrFollowing,
                  fields: [
                    .optional("title", .string, "Short title; required when no proposal was recorded."),
                    Field("forum", forum, "The forum that decided."),
                    Field("decidedBy", .array(.string, minItems: 1), "The roles that decided (no personal names)."),
                    .optional("chosenOption", .string, "The key of the option chosen."),
                    Field("summary", .string, "What was decided."), Field("rationale", .string, "Why."),
                    Field("optionsRejected", .array(.object([Field("key", .string, "Option key."), Field("why", .string, "Why not.")]), minItems: 0),
                          "Options not chosen and why."),
                    Field("reliesOn", .object([
                        Field("assumptions", .array(.stream(["assumption"]), minItems: 0), "Assumptions it rests on."),
                        Field("evidence", .array(.stream(["evidence"]), minItems: 0), "Evidence it rests on."),
                    ]), "What it rests on."),
                    Field("affects", .array(.stream(plannable), minItems: 0), "Goals, measures and other items it affects."),
                    Field("conflictsDeclared", .array(.object([
                        Field("role", .string, "Who declared."), Field("interest", .string, "The interest."),
                        Field("handling", .string, "How it was managed."),
                    ]), minItems: 0), "Conflicts of interest declared."),
                    .optional("reviewBy", .time, "When the decision must be reviewed."),
                  ],
                  examples: [[
                    "forum": ["organisation": "organisation/QWO-CCG", "name": "Governing Body"],
                    "decidedBy": ["Chair", "Accountable Officer"], "chosenOption": "A",
                    "summary": "Recruit 40 community mental health nurses", "rationale": "Fastest route to the access target",
                    "optionsRejected": [["key": "B", "why": "No provider capacity this year"]],
                    "reliesOn": ["assumptions": ["assumption/A-CMHN-RATIO"], "evidence": ["evidence/EV-WORKFORCE-2021"]],
                    "affects": ["goal/KR-MH-ACCESS"],
                    "conflictsDeclared": [["role": "GP member", "interest": "Practice hosts a team base", "handling": "Did not vote"]],
                    "reviewBy": "2022-09-30",
                  ]]),
        EventType("DecisionReviewed", kind: "decision", "A taken decision is reviewed.",
                  fields: [Field("outcome", .enumeration(["confirmed", "amend", "supersede"]), "The review's outcome."),
                           Field("narrative", .string, "What the review found."),
                           .optional("nextReviewBy", .time, "The next review date.")],
                  examples: [["outcome": "confirmed", "narrative": "On track.", "nextReviewBy": "2023-09-30"]]),
        EventType("DecisionSuperseded", kind: "decision", "A taken decision is replaced by another taken decision.",
                  reason: true, fields: [Field("by", .stream(["decision"]), "The taken decision that replaces it.")],
                  examples: [["by": "decision/ICB-2022-019"]]),
        EventType("DecisionRevoked", kind: "decision", "A taken decision is withdrawn.", reason: true,
                  fields: [.optional("narrative", .string, "Why.")], examples: [["narrative": "Funding withdrawn."]]),
    ]

    static let evidence: [EventType] = [
        EventType("EvidenceRecorded", kind: "evidence", "A document, dataset, minutes or observation.", role: .defining,
                  fields: [
                    Field("title", .string, "Title."),
                    Field("kind", .enumeration(["document", "dataset", "minutes", "report", "observation", "external"]), "What it is."),
                    Field("source", .string, "Where it is held (reference or URL)."),
                    .optional("sha256", .sha256, "SHA-256 of the document, so the copy relied on can be proven later."),
                    .optional("observedAt", .time, "When what it describes was observed."),
                    .optional("summary", .string, "What it shows."),
                    Field("classification", .enumeration(["official", "official_sensitive"]), "Government security classification."),
                    .optional("owner", .object([Field("organisation", organisationRef, "Owning organisation."),
                                                .optional("role", .string, "Accountable role.")]),
                              "Who owns it (so it can be handed over); unowned when absent."),
                  ],
                  examples: [[
                    "title": "Community mental health workforce census 2021", "kind": "dataset",
                    "source": "QWO-CCG/BI/2021/017", "observedAt": "2021-06-30", "classification": "official",
                    "owner": ["organisation": "organisation/QWO-CCG"],
                  ]]),
        EventType("EvidenceLinked", kind: "evidence", "The evidence is linked to further items.",
                  fields: [Field("to", .array(.stream(plannable), minItems: 1), "Items it bears on.")],
                  examples: [["to": ["goal/KR-MH-ACCESS"]]]),
        EventType("EvidenceWithdrawn", kind: "evidence", "The evidence is withdrawn (superseded, wrong, or not to be relied on).",
                  reason: true, fields: [.optional("narrative", .string, "Why.")],
                  examples: [["narrative": "The dataset contained duplicate records."]]),
    ]

    static let handover: [EventType] = [
        EventType("HandoverRecorded", kind: "handover",
                  "Ownership of every listed item passes from `from` to `to` at the event's effectiveAt.", role: .defining,
                  fields: [
                    Field("from", organisationRef, "The organisation handing over."),
                    Field("to", organisationRef, "The organisation receiving."),
                    Field("instrument", .string, "The legal or governance instrument."),
                    Field("items", .array(.stream(plannable), minItems: 1), "The items handed over."),
                    .optional("notes", .string, "Notes for the successor."),
                  ],
                  examples: [[
                    "from": "organisation/QWO-CCG", "to": "organisation/QWO",
                    "instrument": "Statutory transfer scheme under the Health and Care Act 2022",
                    "items": ["goal/AMB-1", "decision/GB-2022-004"],
                  ]]),
    ]
}
