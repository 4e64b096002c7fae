/// depthscope's engine: checkpoints, tokenizers, kernels, architectures, sessions and traces.
/// It knows nothing about terminals.
public enum EngineInfo {
    public static let version = "0.1.0"
}
