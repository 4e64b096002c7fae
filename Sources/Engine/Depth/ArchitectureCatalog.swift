/// The architectures and their options as users see them (`depthscope archs`, the TUI's
/// architecture list). Ranges and defaults are the ones `Architecture.resolve` enforces
/// (docs/architectures.md section 6); "config" means the checkpoint's config.json value.
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

    private static let recursions = Option(
        name: "recursions", range: ">= 1", defaultValue: "config recursive.num_recursion, else 1",
        help: "R: how many times the shared stack is looped")
    private static let sharing = Option(
        name: "sharing", range: "cycle|sequence|middle_cycle", defaultValue: "config recursive.sharing, else cycle",
        help: "cycle: the stack R times; sequence: each layer R times; middle_cycle: first and last layer unique")

    public static let entries: [Entry] = [
        Entry(name: "vanilla", summary: "the checkpoint's own layers, full depth", needs: nil, options: []),
        Entry(
            name: "recursive", summary: "a shared stack of layers looped R times (Recursive Transformers)", needs: nil,
            options: [recursions, sharing]),
        Entry(
            name: "relaxed", summary: "recursive with a per-loop LoRA delta on chosen projections", needs: "relaxation",
            options: [
                Option(
                    name: "recursions", range: "1..config R", defaultValue: "config recursive.num_recursion",
                    help: "loops to run (each has its own LoRA)")
            ]),
        Entry(
            name: "convert", summary: "turn the checkpoint's layers into a recursive model at load time", needs: nil,
            options: [
                Option(name: "sharing", range: "cycle|sequence|middle_cycle", defaultValue: "cycle", help: sharing.help),
                Option(name: "recursions", range: ">= 1", defaultValue: "2", help: "R loops of the shared layers"),
                Option(
                    name: "layers", range: "1..M", defaultValue: "M / R",
                    help: "K shared layers (M = the layers to share: all, or all but the first and last for middle_cycle)"),
                Option(
                    name: "init", range: "stepwise|average|lower", defaultValue: "stepwise",
                    help: "shared layer k starts as layer k*M/K (stepwise), the mean of the layers it replaces, or layer k"),
                Option(
                    name: "lora_rank", range: "0..min(hidden, intermediate, kv_heads*head_dim)", defaultValue: "0",
                    help: "rank of a per-loop LoRA from the SVD of each replaced layer's difference (0: none)"),
                Option(
                    name: "lora_targets", range: "comma list of q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj",
                    defaultValue: "all seven", help: "projections that get LoRA"),
            ]),
        Entry(
            name: "mor", summary: "Mixture-of-Recursions: routers decide per token how many recursions it runs",
            needs: "mor",
            options: [
                Option(
                    name: "threshold", range: "[0, 1]", defaultValue: "config mor.threshold, else 0.5",
                    help: "expert-choice: a token continues while its router score is >= threshold (0: always)"),
                Option(
                    name: "kv", range: "recursion_wise|recursive_sharing",
                    defaultValue: "config mor.kv_sharing (true: recursive_sharing)",
                    help: "recursion_wise: deeper caches hold only tokens that got there; recursive_sharing: reuse recursion 0's KV"),
            ]),
        Entry(
            name: "early-exit", summary: "stop a token once its prediction is confident (CALM, LayerSkip)", needs: nil,
            options: [
                Option(
                    name: "criterion", range: "softmax_max|top2_margin|cosine|kl|argmax_stable",
                    defaultValue: "config early_exit.criterion, else softmax_max",
                    help: "exit when max prob > t, top-2 margin > t, cos(h_d, h_d-1) > t, KL(p_d||p_d-1) < t, or argmax unchanged for > t steps"),
                Option(
                    name: "threshold", range: "[0, 1]; cosine [-1, 1]; kl >= 0; argmax_stable whole >= 1",
                    defaultValue: "0.9, 0.8, 0.99, 0.01, 2 by criterion (or config)", help: "the criterion's threshold"),
                Option(name: "min_depth", range: "1..full", defaultValue: "1", help: "never exit before this many steps"),
                Option(name: "max_depth", range: "min_depth..full", defaultValue: "full", help: "always stop here"),
                Option(
                    name: "kv", range: "propagate|recursion_wise", defaultValue: "propagate",
                    help: "propagate: skipped steps get K/V from the exit state; recursion_wise: they stay empty"),
                Option(
                    name: "recursions", range: ">= 1 (relaxed: <= config R)",
                    defaultValue: "config (act.max_steps for a UT checkpoint)", help: recursions.help),
                sharing,
            ]),
        Entry(
            name: "ut", summary: "Universal Transformer with ACT halting (cumulative sigmoid, remainder weighting)",
            needs: "act",
            options: [
                Option(name: "max_steps", range: ">= 1", defaultValue: "config act.max_steps", help: "most ACT steps (loops)"),
                Option(
                    name: "epsilon", range: "(0, 1)", defaultValue: "config act.epsilon, else 0.01",
                    help: "halt when the cumulative halting probability reaches 1 - epsilon"),
            ]),
        Entry(
            name: "recurrent", summary: "recurrent depth: prelude, core looped r times with input injection, coda",
            needs: "recurrent_depth",
            options: [
                Option(
                    name: "steps", range: "1..config max_recurrence", defaultValue: "config mean_recurrence",
                    help: "r: loops of the core"),
                Option(
                    name: "criterion", range: "none|kl|entropy_diff|latent_diff|argmax_stable",
                    defaultValue: "config exit_criterion, else none",
                    help: "exit once KL < t, |entropy change| < t, relative state change < t, or argmax unchanged > t loops"),
                Option(
                    name: "threshold", range: ">= 0; argmax_stable whole >= 1",
                    defaultValue: "config exit_threshold, else 5e-4, 1e-3, 0.03, 2 by criterion", help: "the criterion's threshold"),
                Option(name: "min_steps", range: "1..steps", defaultValue: "1", help: "never exit before this many loops"),
                Option(
                    name: "seed", range: "0..2^64-1", defaultValue: "config state_init_seed",
                    help: "seed of the random initial state"),
            ]),
    ]
}
