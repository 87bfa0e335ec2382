// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "llamacloud-archive",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "archive", targets: ["archive"]),
        .executable(name: "chat-simulator", targets: ["chat-simulator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(
            name: "CCurl",
            providers: [.apt(["libcurl4"])]
        ),
        .systemLibrary(
            name: "CZlib",
            providers: [.apt(["zlib1g"])]
        ),
        .target(name: "SQLiteCore", dependencies: ["CSQLite"]),
        .target(name: "LosslessJSON"),
        .target(name: "TOML", dependencies: ["LosslessJSON"]),
        .target(name: "LlamaCloudClient", dependencies: ["CCurl", "LosslessJSON"]),
        .target(name: "ArchiveCore", dependencies: ["SQLiteCore", "LosslessJSON", "LlamaCloudClient", "TOML", "CZlib"]),
        .target(name: "ChatSimulator", dependencies: ["LosslessJSON"]),
        .executableTarget(name: "archive", dependencies: [
            "ArchiveCore", "ChatSimulator", "LlamaCloudClient", "LosslessJSON",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "chat-simulator", dependencies: [
            "ChatSimulator", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .target(name: "TestSupport", dependencies: ["ArchiveCore", "ChatSimulator", "LlamaCloudClient"], path: "Tests/TestSupport"),
        .testTarget(name: "SQLiteCoreTests", dependencies: ["SQLiteCore", "TestSupport"]),
        .testTarget(name: "LosslessJSONTests", dependencies: ["LosslessJSON"]),
        .testTarget(name: "TOMLTests", dependencies: ["TOML", "LosslessJSON"]),
        .testTarget(name: "ArchiveCoreTests", dependencies: ["ArchiveCore", "SQLiteCore", "TestSupport"]),
        .testTarget(name: "SyncTests", dependencies: ["ArchiveCore", "ChatSimulator", "LlamaCloudClient", "SQLiteCore", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["archive", "ArchiveCore", "ChatSimulator", "LlamaCloudClient", "LosslessJSON", "SQLiteCore", "TOML", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
