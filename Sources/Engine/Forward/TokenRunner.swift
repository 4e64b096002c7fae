/// Runs one token at a time through a model and returns the next-token logits. The
/// generation loop (`Generator`) drives any runner; an architecture is a runner with its
/// own schedule, depth policy and KV policy over the same building blocks.
public protocol TokenRunner: AnyObject {
    var model: Model { get }
    /// Most positions this runner can hold (its KV capacity).
    var capacity: Int { get }
    /// Runs `token` at `position` (0, 1, 2, ... in order) and returns the logits for the
    /// next position; valid until the next call.
    func run(token: Int, position: Int) throws -> FloatVector
    /// Forgets the sequence so position 0 can start again.
    func reset()
}

/// The checkpoint's own layers at full depth: stored layer i runs at depth step i with
/// cache i.
public final class VanillaRunner: TokenRunner {
    public let model: Model
    public let capacity: Int
    public let state: RunState
    public let caches: [KVCache]

    /// `threads`: how many threads split each large matrix product.
    public init(model: Model, capacity: Int, threads: Int = 1) throws {
        self.model = model
        self.capacity = capacity
        state = try RunState(config: model.config, contextLength: capacity, threads: threads)
        caches = try model.makeCaches(capacity: capacity)
    }

    public func run(token: Int, position: Int) throws -> FloatVector {
        try model.forward(token: token, position: position, caches: caches, state: state)
    }

    public func reset() {
        for cache in caches { cache.reset() }
    }

    /// Bytes held by all caches.
    public var kvCacheBytes: Int { caches.reduce(0) { $0 + $1.byteCount } }
}
