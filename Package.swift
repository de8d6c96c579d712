// swift-tools-version: 6.0
// Ocorrências: a support-ticket platform. See README.md and docs/ARCHITECTURE.md.
//
// No SwiftPM package dependencies: C libraries from Debian are reached through system-library
// targets (C*), and every other module is ours.
import PackageDescription

let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "Ocorrencias",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "intake", targets: ["intake"]),
        .executable(name: "workflow", targets: ["workflow"]),
        .executable(name: "notification", targets: ["notification"]),
        .executable(name: "knowledge", targets: ["knowledge"]),
        .executable(name: "gateway", targets: ["gateway"]),
        .executable(name: "ocorre", targets: ["ocorre"]),
        .executable(name: "rpc-bench-server", targets: ["RPCBenchServer"]),
        .executable(name: "rpc-bench-client", targets: ["RPCBenchClient"]),
        .executable(name: "codec-bench", targets: ["CodecBench"]),
        .executable(name: "codec-fuzz", targets: ["CodecFuzz"]),
        .executable(name: "workflow-bench", targets: ["WorkflowBench"]),
        .executable(name: "notification-bench", targets: ["NotificationBench"]),
        .executable(name: "knowledge-bench", targets: ["KnowledgeBench"]),
        .executable(name: "knowledge-eval", targets: ["KnowledgeEval"]),
        .executable(name: "intake-bench", targets: ["IntakeBench"]),
        .executable(name: "workflow-time-bench", targets: ["WorkflowTimeBench"]),
        .executable(name: "workflow-open-bench", targets: ["WorkflowOpenBench"]),
        .executable(name: "load-driver", targets: ["LoadDriver"]),
        .executable(name: "outbox-scrape-bench", targets: ["OutboxScrapeBench"]),
    ],
    targets: [
        // MARK: C libraries and generated C code
        .target(
            name: "CMessages", path: "Shared/CMessages", sources: ["src"], publicHeadersPath: "include",
            cSettings: [.unsafeFlags(["-Wno-everything"])],
            linkerSettings: [.linkedLibrary("protobuf-c")]),
        .target(name: "CSystem", path: "Shared/CSystem"),
        .systemLibrary(name: "CSQLite", path: "Shared/CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        // A VFS over SQLite's default one that writes a connection's WAL appends once per commit.
        .target(name: "CSQLiteWAL", path: "Shared/CSQLiteWAL", linkerSettings: [.linkedLibrary("sqlite3")]),
        .systemLibrary(name: "CPostgres", path: "Shared/CPostgres", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CSodium", path: "Shared/CSodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "CCrypto", path: "Shared/CCrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CCurl", path: "Shared/CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CMicroHTTPD", path: "Shared/CMicroHTTPD", providers: [.apt(["libmicrohttpd-dev"])]),
        .systemLibrary(name: "CGMime", path: "Shared/CGMime", pkgConfig: "gmime-3.0", providers: [.apt(["libgmime-3.0-dev"])]),
        .systemLibrary(name: "CStemmer", path: "Shared/CStemmer", providers: [.apt(["libstemmer-dev"])]),

        // MARK: Shared building blocks
        .target(name: "Messages", dependencies: ["CMessages"], path: "Shared/Messages", swiftSettings: strict),
        .target(name: "RPC", dependencies: ["Messages"], path: "Shared/RPC", swiftSettings: strict),
        .target(name: "Observability", path: "Shared/Observability", swiftSettings: strict),
        .target(name: "RPCTransport", dependencies: ["RPC", "Messages", "Observability", "CSystem", "CSodium", "CCrypto"],
                path: "Shared/RPCTransport", swiftSettings: strict),
        .target(name: "Storage", dependencies: ["CSQLite", "CSQLiteWAL", "CPostgres", "Observability"], path: "Shared/Storage", swiftSettings: strict),
        .target(name: "MailKit", dependencies: ["CCurl"], path: "Shared/MailKit", swiftSettings: strict),
        .target(name: "ServiceKit", dependencies: ["RPCTransport", "Storage", "Messages", "RPC", "Observability", "CSodium"],
                path: "Shared/ServiceKit", swiftSettings: strict),

        // MARK: Services (a testable core library and a thin executable each)
        .target(name: "IntakeCore", dependencies: ["ServiceKit", "RPCTransport", "Storage", "Messages", "RPC", "CSodium", "CGMime", "CCurl", "Observability", "MailKit"],
                path: "Services/Intake/IntakeCore", swiftSettings: strict),
        .executableTarget(name: "intake", dependencies: ["IntakeCore", "ServiceKit"], path: "Services/Intake/Executable", swiftSettings: strict),
        .target(name: "WorkflowCore", dependencies: ["ServiceKit", "RPCTransport", "Storage", "Messages", "RPC", "Observability"],
                path: "Services/Workflow/WorkflowCore", swiftSettings: strict),
        .executableTarget(name: "workflow", dependencies: ["WorkflowCore", "ServiceKit"], path: "Services/Workflow/Executable", swiftSettings: strict),
        .target(name: "NotificationCore", dependencies: ["ServiceKit", "RPCTransport", "Storage", "Messages", "RPC", "Observability", "CCurl", "CSodium", "MailKit"],
                path: "Services/Notification/NotificationCore", swiftSettings: strict),
        .executableTarget(name: "notification", dependencies: ["NotificationCore", "ServiceKit"], path: "Services/Notification/Executable", swiftSettings: strict),
        .target(name: "KnowledgeCore", dependencies: ["ServiceKit", "RPCTransport", "Storage", "Messages", "RPC", "CStemmer"],
                path: "Services/Knowledge/KnowledgeCore", swiftSettings: strict),
        .executableTarget(name: "knowledge", dependencies: ["KnowledgeCore", "ServiceKit"], path: "Services/Knowledge/Executable", swiftSettings: strict),
        .target(name: "GatewayCore", dependencies: ["ServiceKit", "RPCTransport", "Storage", "Messages", "RPC", "Observability",
                                                    "CMicroHTTPD", "CSodium", "CMessages"],
                path: "Services/Gateway/GatewayCore", swiftSettings: strict),
        .executableTarget(name: "gateway", dependencies: ["GatewayCore", "ServiceKit"], path: "Services/Gateway/Executable", swiftSettings: strict),
        .executableTarget(name: "ocorre", dependencies: ["GatewayCore", "RPCTransport", "Messages", "RPC", "CMessages"], path: "Services/Gateway/CLI",
                          swiftSettings: strict,
                          // Reflection gives message names; the CLI finds protobuf-c descriptors by symbol.
                          linkerSettings: [.unsafeFlags(["-Xlinker", "--export-dynamic"])]),

        // MARK: Benchmarks and fuzzing (run by hand; see docs/BENCHMARKS.md)
        .executableTarget(name: "CodecBench", dependencies: ["Messages"], path: "Tests/Benchmarks/CodecBench", swiftSettings: strict),
        .executableTarget(name: "RPCBenchServer", dependencies: ["RPCTransport", "Observability", "RPC"], path: "Tests/Benchmarks/RPCBenchServer", swiftSettings: strict),
        .executableTarget(name: "RPCBenchClient", dependencies: ["RPCTransport", "Messages", "RPC"], path: "Tests/Benchmarks/RPCBenchClient", swiftSettings: strict),
        .executableTarget(name: "WorkflowBench", dependencies: ["WorkflowCore", "Storage", "Messages", "TestSupport"],
                          path: "Tests/Benchmarks/WorkflowBench", swiftSettings: strict),
        .executableTarget(name: "NotificationBench", dependencies: ["NotificationCore", "ServiceKit", "RPCTransport", "Storage", "Messages", "RPC", "Observability", "TestSupport"],
                          path: "Tests/Benchmarks/NotificationBench", swiftSettings: strict),
        .executableTarget(name: "IntakeBench", dependencies: ["IntakeCore", "ServiceKit", "TestSupport", "Messages", "RPC", "RPCTransport", "Storage", "CSQLite", "CSQLiteWAL"],
                          path: "Tests/Benchmarks/IntakeBench", swiftSettings: strict),
        .executableTarget(name: "KnowledgeBench", dependencies: ["KnowledgeCore", "Storage", "Messages", "TestSupport"],
                          path: "Tests/Benchmarks/KnowledgeBench", swiftSettings: strict),
        .executableTarget(name: "KnowledgeEval", dependencies: ["KnowledgeCore", "Storage", "Messages", "TestSupport"],
                          path: "Tests/Benchmarks/KnowledgeEval", swiftSettings: strict),
        .executableTarget(name: "WorkflowTimeBench", dependencies: ["WorkflowCore", "Storage", "TestSupport"],
                          path: "Tests/Benchmarks/WorkflowTimeBench", swiftSettings: strict),
        .executableTarget(name: "WorkflowOpenBench", dependencies: ["WorkflowCore", "ServiceKit", "RPCTransport", "RPC", "Messages", "Storage", "Observability", "TestSupport"],
                          path: "Tests/Benchmarks/WorkflowOpenBench", swiftSettings: strict),
        .target(name: "LoadDriverKit", dependencies: ["ServiceKit", "RPCTransport", "Messages", "RPC", "Storage"],
                path: "Tests/Benchmarks/LoadDriver/Kit", swiftSettings: strict),
        .executableTarget(name: "LoadDriver", dependencies: ["LoadDriverKit"], path: "Tests/Benchmarks/LoadDriver/Main", swiftSettings: strict),
        .executableTarget(name: "OutboxScrapeBench", dependencies: ["Storage", "TestSupport", "CSQLite"],
                          path: "Tests/Benchmarks/OutboxScrapeBench", swiftSettings: strict),
        .executableTarget(name: "CodecFuzz", dependencies: ["Messages", "RPC", "TestSupport"], path: "Tests/Benchmarks/CodecFuzz", swiftSettings: strict),

        // MARK: Tests
        .target(name: "TestSupport", dependencies: ["Storage", "Messages", "CSystem", "RPC", "RPCTransport", "ServiceKit", "Observability"], path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(name: "MessagesTests", dependencies: ["Messages", "TestSupport"], path: "Tests/MessagesTests", swiftSettings: strict),
        .testTarget(name: "RPCTests", dependencies: ["RPC", "Messages", "RPCTransport", "Observability", "CSystem", "TestSupport"], path: "Tests/RPCTests", swiftSettings: strict),
        .testTarget(name: "ServiceKitTests", dependencies: ["ServiceKit", "TestSupport", "Messages", "RPC", "RPCTransport", "Storage", "Observability"],
                    path: "Tests/ServiceKitTests", swiftSettings: strict),
        .testTarget(name: "KnowledgeTests", dependencies: ["KnowledgeCore", "GatewayCore", "ServiceKit", "TestSupport", "Messages", "RPC", "RPCTransport", "Storage"],
                    path: "Tests/KnowledgeTests", exclude: ["Evaluation"], swiftSettings: strict),
        .testTarget(name: "GatewayTests", dependencies: ["GatewayCore", "TestSupport", "Messages", "Observability", "RPC", "RPCTransport", "ServiceKit", "Storage"],
                    path: "Tests/GatewayTests", exclude: ["Browser"], swiftSettings: strict),
        .testTarget(name: "IntakeTests", dependencies: ["IntakeCore", "ServiceKit", "TestSupport", "Messages", "RPC", "RPCTransport", "Storage", "Observability", "MailKit"],
                    path: "Tests/IntakeTests", exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(name: "WorkflowTimeTests", dependencies: ["WorkflowCore", "ServiceKit", "TestSupport", "Messages", "RPC", "RPCTransport", "Storage"],
                    path: "Tests/WorkflowTimeTests", swiftSettings: strict),
        .testTarget(name: "NotificationTests", dependencies: ["NotificationCore", "ServiceKit", "TestSupport", "Messages", "RPC", "RPCTransport", "Storage", "Observability", "MailKit"],
                    path: "Tests/NotificationTests", exclude: ["Support/smtp_sink.py", "Support/webhook_receiver.py", "Support/mail_to_json.py"],
                    swiftSettings: strict),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "TestSupport"], path: "Tests/StorageTests", swiftSettings: strict),
        .testTarget(name: "ProductionTests", dependencies: ["LoadDriverKit", "ServiceKit", "TestSupport", "Messages", "RPC", "RPCTransport", "Storage"],
                    path: "Tests/ProductionTests", exclude: ["Support/cluster.py"], swiftSettings: strict),
        .testTarget(name: "WorkflowTests", dependencies: ["WorkflowCore", "ServiceKit", "TestSupport", "Messages", "RPC", "RPCTransport", "Storage", "Observability"],
                    path: "Tests/WorkflowTests", swiftSettings: strict),
    ]
)
