import Ledger

/// A realistic story for `planledger demo`: NHS Example CCG's plan for 2021–22 — an ambition, objectives, measures
/// with trajectories and monthly readings, a workforce-ratio assumption, board decisions with options, rationale
/// and a declared conflict, evidence — handed over to NHS Example ICB on 1 July 2022 when the CCG is dissolved;
/// then a decision recorded late (backdated to 15 June 2022), a decision superseded, and in January 2023 the
/// workforce assumption invalidated, so that every view has something to show.
public enum DemoStory {
    public static let ccg = "organisation/QWO-CCG"
    public static let icb = "organisation/QWO"
    public static let trust = "organisation/RXX"

    static let ccgOfficer = Actor(id: "gov-officer-1", role: "governance-officer", organisation: ccg)
    static let ccgAnalyst = Actor(id: "bi-analyst-1", role: "performance-analyst", organisation: ccg)
    static let icbSecretary = Actor(id: "corp-sec-1", role: "corporate-secretary", organisation: icb)
    static let icbAnalyst = Actor(id: "bi-analyst-2", role: "performance-analyst", organisation: icb)

    /// The story's transactions in recording order.
    public static func steps() -> [DemoStep] {
        var builder = Builder()
        builder.registerOrganisations()
        builder.planThe2021Goals()
        builder.recordEvidenceAndAssumptions()
        builder.takeBoardDecisions()
        builder.recordReadings(through: "2022-06")
        builder.handOverToTheICB()
        builder.afterTheHandover()
        // Chapters are written by theme; the ledger records them in time order (a stable sort keeps same-time order).
        return builder.steps.enumerated().sorted { ($0.element.recordedAt, $0.offset) < ($1.element.recordedAt, $1.offset) }
            .map(\.element)
    }

    /// Every stream the CCG owned before the handover (what it hands over).
    public static let ccgItems = [
        "goal/AMB-1", "goal/OBJ-ELECTIVE", "goal/OBJ-MH", "goal/KR-MH-ACCESS", "measure/M-RTT-52WK", "measure/M-MH-SMI",
        "assumption/A-CMHN-RATIO", "assumption/A-IS-CAPACITY", "evidence/EV-WORKFORCE-2021", "evidence/EV-GB-2021-09",
        "decision/GB-2021-017", "decision/GB-2021-022", "decision/GB-2022-004",
    ]

    struct Builder {
        var steps: [DemoStep] = []

        mutating func add(_ recorded: String, _ actor: Actor, _ appends: [StreamAppend]) {
            steps.append(DemoStep(recordedAt: Timestamp(parsing: recorded)!,
                                  transaction: AppendTransaction(streams: appends, actor: actor)))
        }

        func event(_ type: String, _ effective: String, reason: String? = nil, _ data: JSONValue) -> ProposedEvent {
            ProposedEvent(type: type, effectiveAt: Timestamp(parsing: effective)!, reason: reason, data: data)
        }

        func new(_ stream: String, _ events: ProposedEvent...) -> StreamAppend {
            StreamAppend(stream: StreamName(stream)!, expectedVersion: .noStream, events: events)
        }

        func existing(_ stream: String, _ events: ProposedEvent...) -> StreamAppend {
            StreamAppend(stream: StreamName(stream)!, expectedVersion: .exists, events: events)
        }

        mutating func registerOrganisations() {
            add("2021-04-01T09:00:00Z", ccgOfficer, [
                new(ccg, event("OrganisationRegistered", "2021-04-01", [
                    "name": "NHS Example Clinical Commissioning Group", "kind": "ccg", "odsCode": "99X"])),
                new(trust, event("OrganisationRegistered", "2021-04-01", [
                    "name": "Example Community Health NHS Trust", "kind": "trust", "odsCode": "RXX"])),
            ])
        }

        mutating func planThe2021Goals() {
            let owner: JSONValue = ["organisation": .string(ccg), "role": "Director of Strategy"]
            add("2021-04-06T10:00:00Z", ccgOfficer, [
                new("goal/AMB-1", event("GoalDefined", "2021-04-01", [
                    "title": "Healthier lives in Example: close the gap in healthy life expectancy", "level": "ambition",
                    "owner": owner, "horizon": ["from": "2021-04-01", "to": "2026-03-31"]])),
                new("goal/OBJ-ELECTIVE", event("GoalDefined", "2021-04-01", [
                    "title": "Recover elective care after the pandemic", "level": "objective", "parent": "goal/AMB-1",
                    "owner": ["organisation": .string(ccg), "role": "Director of Commissioning"],
                    "horizon": ["from": "2021-04-01", "to": "2023-03-31"]])),
                new("goal/OBJ-MH", event("GoalDefined", "2021-04-01", [
                    "title": "Improve access to community mental health services", "level": "objective",
                    "parent": "goal/AMB-1", "owner": ["organisation": .string(ccg), "role": "Director of Mental Health"]])),
                new("goal/KR-MH-ACCESS", event("GoalDefined", "2021-04-01", [
                    "title": "5,000 adults with severe mental illness supported by community teams", "level": "key_result",
                    "parent": "goal/OBJ-MH", "owner": ["organisation": .string(ccg), "role": "Director of Mental Health"],
                    "horizon": ["from": "2021-04-01", "to": "2024-03-31"]])),
            ])
            add("2021-04-07T10:00:00Z", ccgAnalyst, [
                new("measure/M-RTT-52WK",
                    event("MeasureDefined", "2021-04-01", [
                        "goal": "goal/OBJ-ELECTIVE", "title": "Patients waiting over 52 weeks for treatment",
                        "unit": "patients", "direction": "lower_is_better", "baseline": ["value": 4200, "at": "2021-04-01"]]),
                    event("MeasureTargetSet", "2021-04-01", [
                        "value": 0, "due": "2023-03-31", "tolerance": 250,
                        "trajectory": [["at": "2021-10-01", "value": 3000], ["at": "2022-04-01", "value": 2000],
                                       ["at": "2022-10-01", "value": 1000]]])),
                new("measure/M-MH-SMI",
                    event("MeasureDefined", "2021-04-01", [
                        "goal": "goal/KR-MH-ACCESS", "title": "Adults with SMI supported by community mental health teams",
                        "unit": "people", "direction": "higher_is_better", "baseline": ["value": 3100, "at": "2021-04-01"]]),
                    event("MeasureTargetSet", "2021-04-01", [
                        "value": 5000, "due": "2024-03-31", "tolerance": 150,
                        "trajectory": [["at": "2022-03-31", "value": 3700], ["at": "2023-03-31", "value": 4400]]])),
            ])
            add("2021-05-12T14:00:00Z", ccgOfficer, [
                existing("goal/KR-MH-ACCESS", event("GoalContributionAgreed", "2021-05-12", [
                    "organisation": .string(trust), "commitment": "Host and staff two new community mental health team bases"])),
            ])
        }

        mutating func recordEvidenceAndAssumptions() {
            add("2021-07-05T11:00:00Z", ccgAnalyst, [
                new("evidence/EV-WORKFORCE-2021", event("EvidenceRecorded", "2021-07-05", [
                    "title": "Community mental health workforce census 2021", "kind": "dataset",
                    "source": "QWO-CCG/BI/2021/017", "observedAt": "2021-06-30", "classification": "official",
                    "sha256": "3f8a2c1e9b7d6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f",
                    "summary": "112 WTE community mental health nurses; average caseload 33.",
                    "owner": ["organisation": .string(ccg), "role": "Head of Business Intelligence"]])),
                new("assumption/A-CMHN-RATIO", event("AssumptionRecorded", "2021-07-05", [
                    "statement": "One community mental health nurse can safely support 35 clients on caseload",
                    "basis": "Workforce census 2021 (average caseload 33) and the regional benchmark of 35",
                    "value": 35, "unit": "clients per nurse",
                    "owner": ["organisation": .string(ccg), "role": "Director of Nursing"],
                    "confidence": "medium", "impact": "high",
                    "supports": ["goal/KR-MH-ACCESS", "measure/M-MH-SMI"], "reviewBy": "2022-09-30"])),
                new("assumption/A-IS-CAPACITY", event("AssumptionRecorded", "2021-07-05", [
                    "statement": "Independent-sector providers can deliver 1,200 additional elective procedures a year",
                    "basis": "Market engagement, May 2021", "value": 1200, "unit": "procedures per year",
                    "owner": ["organisation": .string(ccg), "role": "Director of Commissioning"],
                    "confidence": "low", "impact": "medium", "supports": ["goal/OBJ-ELECTIVE"]])),
            ])
            add("2021-09-16T09:00:00Z", ccgOfficer, [
                new("evidence/EV-GB-2021-09", event("EvidenceRecorded", "2021-09-15", [
                    "title": "Governing Body minutes, 15 September 2021", "kind": "minutes",
                    "source": "QWO-CCG/GB/2021-09-15", "classification": "official",
                    "sha256": "a1b2c3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff00",
                    "owner": ["organisation": .string(ccg)]])),
            ])
        }

        mutating func takeBoardDecisions() {
            let governingBody: JSONValue = ["organisation": .string(ccg), "name": "Governing Body"]
            add("2021-09-01T09:00:00Z", ccgOfficer, [
                new("decision/GB-2021-017", event("DecisionProposed", "2021-09-01", [
                    "title": "Expand community mental health teams", "forum": governingBody,
                    "question": "How should the CCG meet the growing demand for community mental health care?",
                    "options": [["key": "A", "summary": "Fund 40 more community mental health nurses (35 clients each)"],
                                ["key": "B", "summary": "Commission the voluntary sector to run peer-support services"],
                                ["key": "C", "summary": "Defer until the national workforce plan is published"]]])),
            ])
            add("2021-09-16T09:30:00Z", ccgOfficer, [
                existing("decision/GB-2021-017", event("DecisionTaken", "2021-09-15", [
                    "forum": governingBody, "decidedBy": ["Chair", "Accountable Officer", "Chief Finance Officer"],
                    "chosenOption": "A", "summary": "Fund 40 additional community mental health nurses from October 2021",
                    "rationale": "At 35 clients per nurse this reaches the 5,000 access target by March 2024 within the mental health investment standard.",
                    "optionsRejected": [["key": "B", "why": "Does not reach people with severe mental illness"],
                                        ["key": "C", "why": "Delays access for at least a year"]],
                    "reliesOn": ["assumptions": ["assumption/A-CMHN-RATIO"],
                                 "evidence": ["evidence/EV-WORKFORCE-2021", "evidence/EV-GB-2021-09"]],
                    "affects": ["goal/KR-MH-ACCESS", "goal/OBJ-MH"],
                    "conflictsDeclared": [["role": "GP member for the North locality",
                                           "interest": "Partner in a practice that would host a team base",
                                           "handling": "Declared at the start of the item; took no part in the vote"]],
                    "reviewBy": "2022-09-30"])),
            ])
            add("2021-11-18T10:00:00Z", ccgOfficer, [
                new("decision/GB-2021-022",
                    event("DecisionProposed", "2021-11-17", [
                        "title": "Weekend theatre lists for elective recovery", "forum": governingBody,
                        "question": "Should the CCG fund weekend theatre lists at the acute trust?",
                        "options": [["key": "A", "summary": "Fund weekend lists until March 2023"],
                                    ["key": "B", "summary": "Use independent-sector capacity only"]]]),
                    event("DecisionTaken", "2021-11-17", [
                        "forum": governingBody, "decidedBy": ["Chair", "Accountable Officer"], "chosenOption": "A",
                        "summary": "Fund weekend theatre lists until March 2023",
                        "rationale": "Independent-sector capacity is uncertain (low-confidence assumption).",
                        "optionsRejected": [["key": "B", "why": "Capacity not assured"]],
                        "reliesOn": ["assumptions": ["assumption/A-IS-CAPACITY"], "evidence": []],
                        "affects": ["goal/OBJ-ELECTIVE", "measure/M-RTT-52WK"], "conflictsDeclared": [],
                        "reviewBy": "2022-11-30"])),
            ])
            add("2022-03-02T10:00:00Z", ccgOfficer, [
                new("decision/GB-2022-004", event("DecisionProposed", "2022-03-02", [
                    "title": "Commission independent-sector elective capacity for 2022/23", "forum": governingBody,
                    "question": "Should the CCG contract for 1,200 procedures with independent-sector providers?",
                    "options": [["key": "A", "summary": "Contract for 1,200 procedures"],
                                ["key": "B", "summary": "Contract for 600 procedures and review"]]])),
            ])
        }

        mutating func recordReadings(through last: String) {
            let rtt: [(String, Double)] = [("2021-07-31", 3900), ("2021-10-31", 3300), ("2022-01-31", 2700),
                                           ("2022-04-30", 2400), ("2022-06-30", 2150)]
            let smi: [(String, Double)] = [("2021-07-31", 3200), ("2021-10-31", 3350), ("2022-01-31", 3500),
                                           ("2022-04-30", 3650), ("2022-06-30", 3700)]
            for ((date, waiting), (_, supported)) in zip(rtt, smi) {
                add(date + "T23:00:00Z", ccgAnalyst, [
                    existing("measure/M-RTT-52WK", event("MeasureReadingRecorded", date, ["value": .number(waiting), "at": .string(date)])),
                    existing("measure/M-MH-SMI", event("MeasureReadingRecorded", date, ["value": .number(supported), "at": .string(date)])),
                ])
            }
            add("2022-06-01T12:00:00Z", ccgOfficer, [
                existing("goal/OBJ-ELECTIVE", event("GoalStatusAssessed", "2022-06-01", [
                    "status": "at_risk", "narrative": "52-week waits are 400 above trajectory; theatre staffing gaps."])),
            ])
        }

        mutating func handOverToTheICB() {
            add("2022-04-01T09:00:00Z", icbSecretary, [
                new(icb, event("OrganisationRegistered", "2022-04-01", [
                    "name": "NHS Example Integrated Care Board", "kind": "icb", "odsCode": "QWO"])),
            ])
            add("2022-07-01T09:00:00Z", ccgOfficer, [
                new("handover/QWO-CCG-TO-QWO", event("HandoverRecorded", "2022-07-01", [
                    "from": .string(ccg), "to": .string(icb),
                    "instrument": "Statutory transfer scheme under the Health and Care Act 2022",
                    "items": JSONValue(ccgItems),
                    "notes": "GB-2022-004 was not decided before abolition; the elective objective is at risk."])),
                existing(ccg, event("OrganisationDissolved", "2022-07-01", reason: "Abolished by the Health and Care Act 2022",
                                    ["successor": .string(icb), "narrative": "Functions transferred to NHS Example ICB."])),
            ])
        }

        mutating func afterTheHandover() {
            // A decision the ICB board (in shadow form) took on 15 June 2022, recorded only in September.
            add("2022-09-20T15:00:00Z", icbSecretary, [
                new("decision/ICB-2022-011", event("DecisionTaken", "2022-06-15", [
                    "title": "Adopt the system-wide elective recovery plan",
                    "forum": ["organisation": .string(icb), "name": "ICB Board (shadow)"],
                    "decidedBy": ["Chair", "Chief Executive"], "summary": "Adopt the system elective recovery plan for 2022/23",
                    "rationale": "One waiting list across the system's providers.", "optionsRejected": [],
                    "reliesOn": ["assumptions": ["assumption/A-IS-CAPACITY"], "evidence": []],
                    "affects": ["goal/OBJ-ELECTIVE"], "conflictsDeclared": [], "reviewBy": "2022-12-31"])),
            ])
            add("2022-09-30T23:00:00Z", icbAnalyst, [
                existing("measure/M-RTT-52WK", event("MeasureReadingRecorded", "2022-09-30", ["value": 1900, "at": "2022-09-30"])),
                existing("measure/M-MH-SMI", event("MeasureReadingRecorded", "2022-09-30", ["value": 3780, "at": "2022-09-30"])),
            ])
            add("2022-10-20T10:00:00Z", icbSecretary, [
                new("decision/ICB-2022-019", event("DecisionTaken", "2022-10-19", [
                    "title": "System elective recovery programme 2022–24",
                    "forum": ["organisation": .string(icb), "name": "ICB Board"], "decidedBy": ["Chair", "Chief Executive"],
                    "summary": "Replace CCG-era weekend lists with a system programme of pooled theatre capacity",
                    "rationale": "Pooling across the system's three trusts is cheaper than weekend premium rates.",
                    "optionsRejected": [], "reliesOn": ["assumptions": [], "evidence": []],
                    "affects": ["goal/OBJ-ELECTIVE", "measure/M-RTT-52WK"], "conflictsDeclared": []])),
                existing("decision/GB-2021-022", event("DecisionSuperseded", "2022-10-19",
                                                       reason: "Replaced by the ICB's system elective recovery programme",
                                                       ["by": "decision/ICB-2022-019"])),
            ])
            add("2022-11-02T11:00:00Z", icbAnalyst, [
                existing("measure/M-RTT-52WK", event("MeasureReadingCorrected", "2022-11-02",
                                                     reason: "Validated figure from the trust's data quality review",
                                                     ["at": "2022-09-30", "value": 1850])),
            ])
            add("2023-01-16T10:00:00Z", icbSecretary, [
                new("evidence/EV-CASELOAD-AUDIT-2022", event("EvidenceRecorded", "2023-01-16", [
                    "title": "Community mental health caseload audit 2022", "kind": "report",
                    "source": "QWO/Quality/2023/003", "observedAt": "2022-12-31", "classification": "official",
                    "summary": "Safe caseloads average 22 clients per nurse; teams at 35 report unsafe staffing.",
                    "owner": ["organisation": .string(icb), "role": "Chief Nursing Officer"]])),
                existing("assumption/A-CMHN-RATIO",
                         event("AssumptionChallenged", "2023-01-16", ["grounds": "The caseload audit finds 22, not 35, is safe.",
                                                                      "evidence": "evidence/EV-CASELOAD-AUDIT-2022"]),
                         event("AssumptionInvalidated", "2023-01-16", reason: "Caseload audit 2022",
                               ["evidence": "evidence/EV-CASELOAD-AUDIT-2022",
                                "narrative": "A safe caseload is about 22 clients per nurse, not 35: 40 nurses cannot reach 5,000 people."])),
                existing("goal/KR-MH-ACCESS", event("GoalStatusAssessed", "2023-01-16", [
                    "status": "off_track", "narrative": "Workforce model invalidated; recovery plan in development."])),
            ])
        }
    }
}
