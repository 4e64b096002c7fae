/// What later tokens read at a depth step a token did not run (docs/architectures.md 5).
/// The runner applies it when a policy stops a token (`DepthRunner.stop`).
public enum KVPolicy: String, Sendable, CaseIterable {
    /// Every token runs every step: every cache is complete.
    case full
    /// MoR recursion-wise caching: a step's cache holds only the tokens that ran it.
    case recursionWise = "recursion_wise"
    /// MoR recursive KV sharing: K/V come from recursion 0 only; deeper recursions store
    /// nothing and read recursion 0's cache of the same shared layer.
    case recursiveSharing = "recursive_sharing"
    /// CALM state propagation: skipped steps get K/V computed from the exit state.
    case propagate
    /// Huginn "latest": an earlier token is read at its latest loop not after this one.
    case latest
}
