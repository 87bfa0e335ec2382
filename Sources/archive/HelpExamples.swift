/// A subcommand's discussion, ended by the examples its help shows. Every
/// example runs in DocumentedExamplesTests against a demo archive (those that
/// sync, against the chat simulator), and must exit 0 or the code written
/// beside it (`# exit 64`): a renamed flag fails a test, not a reader.
func helpText(_ discussion: String = "", examples: String...) -> String {
    let lines = examples.map { "  " + $0 }.joined(separator: "\n")
    return (discussion.isEmpty ? "" : discussion + "\n\n") + "Examples:\n" + lines
}
