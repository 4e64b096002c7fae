/// The architectures and their options as users see them (`depthscope archs`, `--help`,
/// the workbench's architecture list), from each architecture's own entry. Ranges and
/// defaults are the ones its `resolve` enforces (docs/architectures.md section 6);
/// "config" means the checkpoint's config.json value.
public enum ArchitectureCatalog {
    public struct Option: Sendable, Equatable {
        public var name: String
        /// Allowed values, e.g. "1..", "[0, 1]", "cycle|sequence|middle_cycle".
        public var range: String
        /// Default, in words where it depends on the checkpoint.
        public var defaultValue: String
        public var help: String
    }

    public struct Entry: Sendable, Equatable {
        public var name: String
        public var summary: String
        /// The config.json object a checkpoint needs for this architecture.
        public var needs: String?
        public var options: [Option]
    }

    public static var entries: [Entry] { Architectures.all.map { $0.catalog } }

    static let recursions = Option(
        name: "recursions", range: ">= 1", defaultValue: "config recursive.num_recursion, else 1",
        help: "R: how many times the shared stack is looped")
    static let sharing = Option(
        name: "sharing", range: "cycle|sequence|middle_cycle", defaultValue: "config recursive.sharing, else cycle",
        help: "cycle: the stack R times; sequence: each layer R times; middle_cycle: first and last layer unique")
}
