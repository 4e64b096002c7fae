import Foundation

/// Measures main-memory read bandwidth the way decode reads weights: one streaming pass of
/// SIMD loads over a buffer much larger than the L3 cache (256 MiB, 2 MiB aligned with
/// huge-page advice, like the weights), split over the pool's threads. `depthscope bench`
/// divides weight bytes per token by it to get the bandwidth bound on tokens/s.
public enum MemoryBandwidth {
    /// Bytes per second: the median of `passes` timed passes after one warm-up pass.
    public static func measure(pool: ThreadPool, byteCount: Int = 256 << 20, passes: Int = 5) throws -> Double {
        let buffer = try AlignedBuffer(byteCount: byteCount)
        let floats = buffer.floats()
        for i in stride(from: 0, to: byteCount / 4, by: 1024) { floats[i] = Float(i & 7) }  // touch every page
        let count = byteCount / 4
        var sink: Float = 0
        var times: [Double] = []
        for pass in 0...passes {
            let start = DispatchTime.now()
            let chunks = 4 * pool.threads
            withUnsafeTemporaryAllocation(of: Float.self, capacity: chunks) { partials in
                pool.run(chunks: chunks) { part, parts in
                    let range = ThreadPool.share(of: count, part: part, parts: parts, granule: 1024)
                    partials[part] = readSum(floats + range.lowerBound, count: range.count)
                }
                for p in partials { sink += p }
            }
            if pass > 0 { times.append(seconds(since: start)) }
        }
        // Keeps the reads from being optimised away (the sum itself is meaningless).
        if sink.isNaN { FileHandle.standardError.write(Data()) }
        times.sort()
        return Double(byteCount) / times[times.count / 2]
    }

    /// Sum of `count` floats with four independent SIMD accumulators (load-bound).
    private static func readSum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        let raw = UnsafeRawPointer(x)
        var a0 = Vector16(), a1 = Vector16(), a2 = Vector16(), a3 = Vector16()
        var i = 0
        while i + 64 <= count {
            a0 += raw.loadUnaligned(fromByteOffset: i * 4, as: Vector16.self)
            a1 += raw.loadUnaligned(fromByteOffset: (i + 16) * 4, as: Vector16.self)
            a2 += raw.loadUnaligned(fromByteOffset: (i + 32) * 4, as: Vector16.self)
            a3 += raw.loadUnaligned(fromByteOffset: (i + 48) * 4, as: Vector16.self)
            i += 64
        }
        var sum = horizontalSum((a0 + a1) + (a2 + a3))
        while i < count {
            sum += x[i]
            i += 1
        }
        return sum
    }
}
