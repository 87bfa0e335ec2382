import Foundation

/// `$XDG_CONFIG_HOME/llamacloud-archive/config.toml` (`~/.config/...` when
/// unset): defaults saved once. Flags override environment variables, which
/// override this file.
///
///     db = "/srv/archive/chats.db"
///     tz = "Europe/Berlin"
///
///     [sync]
///     base_url = "https://api.cloud.eu.llamaindex.ai"
///     projects = ["proj-research", "proj-legal"]
///     organization_id = "org-1"
///
///     [[rates]]
///     input = 3.0
///     output = 15.0
public struct ArchiveConfig: Sendable, Equatable {
    public var db: String?
    public var tz: String?
    public var pricing: Pricing?
    public var sync = SyncDefaults()

    public struct SyncDefaults: Sendable, Equatable {
        public var baseURL: String?
        public var projects: [String] = []
        public var organizationID: String?
    }

    public struct Failure: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    public init() {}

    /// Where the file is looked for.
    public static func path(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        ArchiveLocation.xdgPath("config.toml", home: "XDG_CONFIG_HOME", orUnderHome: ".config", environment: environment)
    }

    /// The file's settings; none when there is no file. A file that cannot be
    /// read or holds anything else fails naming the file and line.
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws(Failure) -> ArchiveConfig {
        let path = path(environment: environment)
        guard FileManager.default.fileExists(atPath: path) else { return ArchiveConfig() }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure(description: "\(path): cannot read the config file")
        }
        guard let text = String(validating: data, as: UTF8.self) else { throw Failure(description: "\(path): the config file is not UTF-8") }
        return try parse(text, path: path)
    }

    static func parse(_ text: String, path: String) throws(Failure) -> ArchiveConfig {
        let document: TOMLSubset
        do { document = try TOMLSubset(text) } catch { throw Failure(description: "\(path):\(error.line): \(error.message)") }
        var config = ArchiveConfig()
        func nonEmptyString(_ entry: TOMLSubset.Entry) throws(Failure) -> String {
            guard case .text(let value) = entry.value, !value.isEmpty else {
                throw Failure(description: "\(path):\(entry.line): \(entry.key) must be a non-empty string")
            }
            return value
        }
        for table in document.tables {
            switch (table.name, table.isArrayElement) {
            case ("", false):
                for entry in table.entries {
                    switch entry.key {
                    case "db": config.db = try nonEmptyString(entry)
                    case "tz":
                        let zone = try nonEmptyString(entry)
                        guard TimeZone(identifier: zone) != nil else {
                            throw Failure(description: "\(path):\(entry.line): unknown time zone \"\(zone)\"")
                        }
                        config.tz = zone
                    default: throw Failure(description: "\(path):\(entry.line): unknown key \(entry.key) (expected db, tz, [sync], [[rates]])")
                    }
                }
            case ("sync", false):
                for entry in table.entries {
                    switch entry.key {
                    case "base_url": config.sync.baseURL = try nonEmptyString(entry)
                    case "organization_id": config.sync.organizationID = try nonEmptyString(entry)
                    case "projects":
                        guard case .array(let items) = entry.value,
                              let projects = Optional(items.compactMap { if case .text(let id) = $0, !id.isEmpty { id } else { nil } }),
                              projects.count == items.count else {
                            throw Failure(description: "\(path):\(entry.line): projects must be an array of project ids")
                        }
                        config.sync.projects = projects
                    default:
                        throw Failure(description: "\(path):\(entry.line): unknown key \(entry.key) in [sync] (expected base_url, projects, organization_id)")
                    }
                }
            case ("rates", true):
                continue
            default:
                throw Failure(description: "\(path):\(table.line): unknown table [\(table.isArrayElement ? "[" : "")\(table.name)\(table.isArrayElement ? "]" : "")]")
            }
        }
        do { config.pricing = try Pricing.fromTOML(document, path: path) } catch { throw Failure(description: error.description) }
        return config
    }
}
