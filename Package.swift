// swift-tools-version:6.0
// PlanLedger: an event-sourced, hash-linked planning ledger. Toolchain and system SQLite only; no package dependencies.
import PackageDescription

let package = Package(
    name: "PlanLedger",
    products: [
        .executable(name: "planledger", targets: ["planledger"])
    ],
    targets: [
        // C: the system SQLite library and our own SHA-256 (portable, with SHA-NI where the CPU has it).
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .target(name: "CSHA256", cSettings: [.unsafeFlags(["-O3"])]),
        // C: epoll and eventfd for the HTTP server's event loops (not in Swift's Glibc module).
        .target(name: "CEventPoll"),

        // Layers, each depending only downward.
        .target(name: "SQLite", dependencies: ["CSQLite"]),
        .target(name: "Ledger", dependencies: ["SQLite", "CSHA256"]),
        .target(name: "Planning", dependencies: ["Ledger"]),
        .target(name: "Projections", dependencies: ["Ledger", "Planning"]),
        .target(name: "Archive", dependencies: ["Ledger"]),
        .target(name: "Access", dependencies: ["Ledger"]),
        .target(name: "HTTPServer", dependencies: ["CEventPoll"]),
        .target(
            name: "LedgerServer",
            dependencies: ["Ledger", "Planning", "Projections", "Access", "Archive", "HTTPServer"],
            resources: [.embedInCode("Resources/openapi.json")]
        ),
        .target(name: "PlanLedgerCLI", dependencies: ["Ledger", "Planning", "Projections", "Access", "Archive", "LedgerServer"]),
        .executableTarget(name: "planledger", dependencies: ["PlanLedgerCLI"]),

        // The reliability harness shared by the tools under Tools/ and the quick versions in the test suite.
        .target(name: "Harness", dependencies: ["Ledger", "SQLite", "HTTPServer"], path: "Tools/Harness"),
        .executableTarget(
            name: "planledger-bench",
            dependencies: ["Harness", "Ledger", "LedgerServer", "Projections", "Planning", "HTTPServer"],
            path: "Tools/Bench"
        ),

        .testTarget(name: "SQLiteTests", dependencies: ["SQLite"]),
        .testTarget(name: "LedgerTests", dependencies: ["Ledger", "Harness"]),
        .testTarget(name: "ArchiveTests", dependencies: ["Archive"]),
        .testTarget(name: "PlanningTests", dependencies: ["Planning"]),
        .testTarget(name: "ProjectionsTests", dependencies: ["Projections", "Planning", "Ledger", "Harness"]),
        .testTarget(name: "AccessTests", dependencies: ["Access"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer"]),
        .testTarget(name: "ReliabilityTests", dependencies: ["Harness", "LedgerServer", "HTTPServer", "Planning", "Ledger", "SQLite"]),
        .testTarget(name: "PlanLedgerCLITests", dependencies: ["PlanLedgerCLI", "Ledger", "Projections", "SQLite"]),
        .testTarget(
            name: "LedgerServerTests",
            dependencies: ["LedgerServer", "HTTPServer", "Access", "Archive", "Planning", "Ledger", "SQLite", "planledger"]
        ),
    ]
)
