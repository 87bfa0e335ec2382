import ArchiveCore
import LlamaCloudClient

/// The command line's words for what failed. The core's errors say what and
/// where; here, where a flag is the fix, it is named.
enum ErrorWords {
    static func line(_ error: any Error) -> String {
        switch error {
        case let error as TimeWindowError:
            switch error {
            case let .notADate(bound, text): return "--\(bound.rawValue) \"\(text)\" is not a date (\(TimeWindowError.dateForms))"
            case let .startNotBeforeEnd(since, until): return "--since \(since) is not before --until \(until)"
            case .unknownZone: return error.description
            }
        case let error as TokensReport.GroupingError:
            return "--by \"\(error.text)\": \(TokensReport.GroupingError.expected)"
        case let error as ReadOnlySQL.Failure:
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
        case let error as APIError:
            return api(error)
        case SettingsFileError.secret:
            return "\(error) (or pass --api-key-file)"
        default:
            return "\(error)"
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
