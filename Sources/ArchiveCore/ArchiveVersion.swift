/// The version of llamacloud-archive: `archive --version`, the User-Agent of
/// its requests, and the name of the packages `scripts/package` makes.
public enum ArchiveVersion {
    public static let current = "0.7.0"
}
