#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization
import CKernels

/// A fixed set of worker threads that split one piece of work with the calling thread,
/// e.g. the output rows of a matrix-vector product.
///
/// Decode runs dozens of small products per token, so handing out work must cost well
/// under a microsecond: workers spin on an atomic word for a while after each job and only
/// then sleep on a condition variable (waking a sleeper costs the caller one signal).
///
/// A job is cut into more chunks than threads and every thread, the caller included,
/// claims chunks until none is left. On a shared machine a worker may not be scheduled for
/// milliseconds; the caller then simply does the whole job instead of waiting for it.
///
/// `run` must be called from one thread at a time (the owner of the RunState that holds
/// the pool). The function-and-context form allocates nothing; the closure form is
/// borrowed for the call's duration but costs one small allocation to publish.
public final class ThreadPool: @unchecked Sendable {
    /// Threads that work on a job, the caller included.
    public let threads: Int

    private typealias Body = (_ chunk: Int, _ chunks: Int) -> Void
    /// The current job in one atomic word, so a claim can never mix two jobs:
    /// generation (bits 40-63) | chunk count (bits 20-39) | next unclaimed chunk (bits 0-19).
    private let job = Atomic<UInt64>(0)
    /// Chunks of the current job finished.
    private let done = Atomic<Int>(0)
    /// Workers parked on `wakeup`.
    private let sleepers = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let exited = Atomic<Int>(0)
    /// Written by the caller only while no chunk of a job is outstanding; read by a worker
    /// only after it claimed a chunk (acquiring `job`), which keeps the job open.
    nonisolated(unsafe) private var body: Body?
    /// The allocation-free form of a job: a C function and its context (see `run(chunks:context:_:)`).
    nonisolated(unsafe) private var function: ChunkFunction?
    nonisolated(unsafe) private var context: UnsafeRawPointer?
    private let wakeup = NSCondition()
    private var workers: [Thread] = []

    /// How long a worker spins for the next job before it sleeps (iterations of a pause
    /// loop, some tens of microseconds): long enough to span the gaps between the
    /// products of one token, short enough not to burn a core when generation stops.
    private static let spinLimit = 20_000
    private static let chunkBits: UInt64 = 20
    private static let chunkMask: UInt64 = (1 << 20) - 1
    private static let generationMask: UInt64 = (1 << 24) - 1
    /// Largest chunk count of one job.
    public static let maxChunks = 1 << 20 - 1

    public init(threads: Int) {
        self.threads = max(1, threads)
        for index in 1..<self.threads {
            // unowned(unsafe): deinit waits for every worker to leave its loop before the
            // memory goes, and a checked unowned load of a deiniting object would trap.
            let thread = Thread { [unowned(unsafe) self] in self.workerLoop() }
            thread.name = "depthscope-worker-\(index)"
            thread.stackSize = 1 << 20
            workers.append(thread)
            thread.start()
        }
    }

    deinit {
        stopping.store(true, ordering: .sequentiallyConsistent)
        job.add(1 << (2 * Self.chunkBits), ordering: .sequentiallyConsistent)
        wakeup.lock()
        wakeup.broadcast()
        wakeup.unlock()
        while exited.load(ordering: .acquiring) < workers.count { sched_yield() }
    }

    /// A chunk of work as a plain C function of its context: what the per-token products
    /// use, since a closure published to other threads costs a heap allocation.
    public typealias ChunkFunction = @convention(c) (_ context: UnsafeRawPointer, _ chunk: Int, _ chunks: Int) -> Void

    /// Calls `function(context, chunk, chunks)` for every chunk in 0..<chunks, spread over the
    /// pool's threads (the caller's included); returns when all have finished. Allocates
    /// nothing. Chunks run concurrently, so they must write disjoint memory.
    public func run(chunks requested: Int? = nil, context: UnsafeRawPointer, _ function: ChunkFunction) {
        let chunks = min(max(requested ?? 4 * threads, 1), Self.maxChunks)
        guard threads > 1, chunks > 1 else {
            for chunk in 0..<chunks { function(context, chunk, chunks) }
            return
        }
        self.function = function
        self.context = context
        publishAndWork(chunks: chunks)
        self.function = nil
        self.context = nil
    }

    /// Calls `body(chunk, chunks)` once for every chunk in 0..<chunks, spread over the
    /// pool's threads (the caller's included), and returns when all have finished.
    /// Default: four chunks per thread. Chunks run concurrently, so they must write disjoint
    /// memory. (Publishing the closure costs one small allocation; hot paths use the
    /// function-and-context form.)
    public func run(chunks requested: Int? = nil, _ body: (_ chunk: Int, _ chunks: Int) -> Void) {
        let chunks = min(max(requested ?? 4 * threads, 1), Self.maxChunks)
        guard threads > 1, chunks > 1 else {
            for chunk in 0..<chunks { body(chunk, chunks) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            self.body = escapable
            publishAndWork(chunks: chunks)
            self.body = nil
        }
    }

    /// Publishes a job of `chunks` chunks (body or function set), works on it, and waits
    /// until every chunk is done.
    private func publishAndWork(chunks: Int) {
        done.store(0, ordering: .relaxed)
        let generation = ((job.load(ordering: .relaxed) >> (2 * Self.chunkBits)) &+ 1) & Self.generationMask
        let published = (generation << (2 * Self.chunkBits)) | (UInt64(chunks) << Self.chunkBits)
        job.store(published, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            wakeup.lock()
            wakeup.broadcast()
            wakeup.unlock()
        }
        work(generation: generation)
        // A worker that holds a chunk but lost its core to another process would keep
        // us spinning for a whole time slice; after a short spin, yield the core to it.
        var spins = 0
        while done.load(ordering: .acquiring) < chunks {
            spins += 1
            if spins < 4096 { ds_spin_pause() } else { sched_yield() }
        }
    }

    /// Claims and runs chunks of job `generation` until none is left (or a newer job is out).
    private func work(generation: UInt64) {
        var word = job.load(ordering: .acquiring)
        while word >> (2 * Self.chunkBits) == generation {
            let chunks = (word >> Self.chunkBits) & Self.chunkMask
            let next = word & Self.chunkMask
            guard next < chunks else { return }
            let (exchanged, original) = job.compareExchange(
                expected: word, desired: word + 1, ordering: .acquiringAndReleasing)
            if exchanged {
                if let function, let context {
                    function(context, Int(next), Int(chunks))
                } else {
                    body?(Int(next), Int(chunks))
                }
                done.add(1, ordering: .releasing)
                word = job.load(ordering: .acquiring)
            } else {
                word = original
            }
        }
    }

    private func workerLoop() {
        var seen: UInt64 = 0
        while true {
            var spins = 0
            var generation = job.load(ordering: .acquiring) >> (2 * Self.chunkBits)
            while generation == seen {
                if spins < Self.spinLimit {
                    spins += 1
                    ds_spin_pause()
                } else {
                    // A bump after this check always wakes us: the caller reads `sleepers`
                    // after publishing, and we read the job after raising `sleepers`.
                    wakeup.lock()
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    while job.load(ordering: .sequentiallyConsistent) >> (2 * Self.chunkBits) == seen { wakeup.wait() }
                    sleepers.subtract(1, ordering: .sequentiallyConsistent)
                    wakeup.unlock()
                }
                generation = job.load(ordering: .acquiring) >> (2 * Self.chunkBits)
            }
            seen = generation
            if stopping.load(ordering: .acquiring) {
                exited.add(1, ordering: .releasing)
                return
            }
            work(generation: generation)
        }
    }

    /// The part of `0..<count` that `part` of `parts` takes, in multiples of `granule`
    /// (so multi-row kernels keep whole row blocks).
    @inline(__always)
    public static func share(of count: Int, part: Int, parts: Int, granule: Int = 4) -> Range<Int> {
        let blocks = (count + granule - 1) / granule
        let start = min(count, blocks * part / parts * granule)
        let end = min(count, blocks * (part + 1) / parts * granule)
        return start..<end
    }
}
