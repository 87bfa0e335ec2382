import ArchiveCore
import Foundation
import LlamaCloudClient
import LosslessJSON

/// The command line's words for what failed. The core's errors say what and
/// where, in words without flags; here, where a flag is the fix, it is named.
/// Every error type this program can throw has its case (a test walks them
/// all): none reaches a user as a raw description.
enum ErrorWords {
    static func line(_ error: any Error) -> String {
        words(error) ?? "an unexpected error (\(String(reflecting: type(of: error)))); please report it"
    }

    /// The words for `error`, or nil for a type this program does not know.
    static func words(_ error: any Error) -> String? {
        switch error {
        case let error as ExitError: return error.message ?? "exit status \(error.exitCode)"
        case let error as TimeWindowError:
            switch error {
            case let .notADate(bound, text): return "--\(bound.rawValue) \"\(text)\" is not a date (\(TimeWindowError.dateForms))"
            case let .startNotBeforeEnd(since, until): return "--since \(since) is not before --until \(until)"
            case .unknownZone: return error.description
            }
        case let error as TokensReport.GroupingError:
            return "--by \"\(error.text)\": \(TokensReport.GroupingError.expected)"
        case let error as ReadOnlySQL.QueryError:
            if case let .parameterCount(expected, given) = error { return "the statement has \(expected) parameters; \(given) given with --param" }
            return error.description
        case let error as SyncError:
            switch error.reason {
            case .listingNotFound: return error.description + ": is --base-url right?"
            case .api(let cause): return api(cause)
            case let .unreachable(url, cause): return "cannot reach \(url): \(api(cause))"
            case .key(.none): return error.description + "; set it or pass --api-key-file"
            case .archive, .key, .invalidBaseURL: return error.description
            }
        case let error as APIError: return api(error)
        case let error as APIKeyError:
            return error == .none ? error.description + "; set it or pass --api-key-file" : error.description
        case let error as SettingsFileError:
            if case .secret = error { return "\(error) (or pass --api-key-file)" }
            return error.description
        case let error as ArchiveError: return error.description
        case let error as ReadingLimitError:
            if case .time = error.limit { return error.description + " (--max-seconds)" }
            return error.description
        case let error as ArchiveLock.LockError: return error.description
        case let error as SelectionError: return error.description
        case let error as SearchQuery.SearchError: return error.description
        case let error as Importer.ImportError: return error.description
        case let error as DatasetExport.ExportError:
            switch error {
            case .otherArchive, .archiveBehind: return error.description + " with --full"
            default: return error.description
            }
        case let error as BackupCheckError: return error.description
        case let error as PrivateFiles.FileError: return error.description
        case let error as GzipError: return error.description
        case let error as NormalizationError: return error.description
        case let error as TransportError: return error.description
        case let error as JSONParseError: return error.description
        case let error as ToolError: return error.description
        case let error as MCPError: return error.message
        case let error as CocoaError: return error.localizedDescription
        case let error as POSIXError: return String(cString: strerror(error.code.rawValue))
        default: return StorageErrorWords.words(error)
        }
    }

    private static func api(_ error: APIError) -> String {
        guard case let .transport(_, failure) = error else { return error.description }
        switch failure {
        case .timedOut: return error.description + " (--timeout)"
        case .tooLarge: return error.description + " (--max-response-mb)"
        default: return error.description
        }
    }
}
