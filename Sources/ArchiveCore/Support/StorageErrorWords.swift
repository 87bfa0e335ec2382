import SQLiteCore
import TOML

/// Words for the errors of the modules beneath ArchiveCore that the command
/// line does not import (SQLite, the migrator, TOML), so that its
/// `ErrorWords` can word every error without depending on them.
public enum StorageErrorWords {
    public static func words(_ error: any Error) -> String? {
        switch error {
        case let error as SQLiteError: error.description
        case let error as MigrationError: error.description
        case let error as TOMLError: error.description
        default: nil
        }
    }
}
