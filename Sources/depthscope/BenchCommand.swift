import ArgumentParser
import Engine
import Foundation

/// `depthscope bench --model DIR|NAME | --random 288x6x6x768 [--arch NAME ...] [--threads 1,2]
/// [--dtype f32,f16,bf16,q8_0] [--json]`: decode tokens/s at batch 1 (median of several
/// runs), prompt processing tokens/s, and a memory-bandwidth probe in the same run, from
/// which it prints the fraction of the bandwidth bound (weight bytes per token /
/// bandwidth). With `--arch` tokens run through a Session (depth traces on): it reports the
/// mean depth, and `--capture` adds attention rows and logit lens to every trace.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure decode and prompt speed against the memory-bandwidth bound.")

    @Option(name: .long, help: ArgumentHelp(modelHelp))
    var model: String?

    @Option(name: .long, help: "Benchmark a random Llama model of this shape instead: DIMxLAYERSxHEADSxFFN, e.g. 288x6x6x768.")
    var random: String?

    @Option(name: .long, help: "Vocabulary size of a --random model (tied embeddings).")
    var vocab: Int = 32000

    @OptionGroup var architecture: ArchitectureArguments

    @Option(name: .long, help: "Comma-separated thread counts to measure, e.g. 1,2.")
    var threads: String = "1"

    @Option(name: .long, help: ArgumentHelp("Comma-separated weight formats to convert to at load: \(weightFormatNames) (default: as stored)."))
    var dtype: String?

    @OptionGroup var quantize: QuantizeOption

    @Option(name: .long, help: "Tokens decoded per timed run.")
    var tokens: Int = 64

    @Option(name: .long, help: "Timed runs of decode and of prompt processing; the medians are reported.")
    var runs: Int = 5

    @Option(name: .long, help: "Prompt length for the prompt-processing measurement.")
    var promptTokens: Int = 128

    @Flag(name: .long, help: "With --arch: capture attention rows and logit lens in every trace, and compare with capture off.")
    var capture = false

    @Flag(name: .long, help: "Time the matrix-vector kernels alone (every format, in and out of cache) and exit.")
    var kernels = false

    @Flag(name: .long, help: "Print one JSON object per measurement (JSON Lines) instead of a table.")
    var json = false

    struct Result: Encodable {
        var model: String
        var shape: String
        var architecture: String?
        var dtype: String
        var threads: Int
        var bandwidthGbPerSecond: Double
        var weightBytesPerToken: Int
        var promptTokens: Int
        var promptTokensPerSecond: Double
        var decodeTokens: Int
        var decodeTokensPerSecond: Double
        var decodeRunsTokensPerSecond: [Double]
        var boundTokensPerSecond: Double
        var boundFraction: Double
        var meanDepth: Double?
        var maxDepth: Int?
        var capture: Bool
        var q8Kernel: String
    }

    func validate() throws {
        guard kernels || (model == nil) != (random == nil) else { throw ValidationError("give exactly one of --model and --random") }
        guard tokens >= 1, runs >= 1, promptTokens >= 1 else {
            throw ValidationError("--tokens, --runs and --prompt-tokens must be at least 1")
        }
        if random != nil, architecture.arch != nil {
            throw ValidationError("--arch needs a checkpoint (--model); a --random model is plain Llama")
        }
        if quantize.quantize != nil, dtype != nil { throw ValidationError("give --quantize or --dtype, not both") }
        if capture, architecture.arch == nil {
            throw ValidationError("--capture needs --arch (it compares traces with and without capture)")
        }
    }

    func run() throws {
        let threadCounts = try Self.list(threads, option: "--threads") { Int($0).flatMap { $0 >= 1 ? $0 : nil } }
        let parsed: [WeightFormat]? = try dtype.map { text in
            try Self.list(text, option: "--dtype") { (name: String) -> WeightFormat? in WeightFormat(name: name) }
        }
        let formats: [WeightFormat?] = try quantize.format.map { [$0] } ?? parsed.map { $0.map { Optional($0) } } ?? [nil]
        if kernels { return try Self.timeKernels(threads: threadCounts, formats: formats.compactMap { $0 }) }
        let source = try loadSource()
        let context = promptTokens + tokens + 1
        guard context <= source.model.config.maxPositionEmbeddings else {
            throw EngineError(
                "\(source.model.folder): --prompt-tokens + --tokens (\(context)) exceed the model's context of \(source.model.config.maxPositionEmbeddings)")
        }
        var printedHeader = false
        for format in formats {
            let model = try format.map { try source.model.model.converted(to: $0) } ?? source.model.model
            for threadCount in threadCounts {
                let captures = architecture.arch != nil && capture ? [false, true] : [false]
                for captureOn in captures {
                    let result = try measure(
                        source: source, model: model, threads: threadCount, capture: captureOn)
                    if json {
                        let encoder = JSONEncoder()
                        encoder.keyEncodingStrategy = .convertToSnakeCase
                        encoder.outputFormatting = [.sortedKeys]
                        try StandardStreams.write(String(decoding: encoder.encode(result), as: UTF8.self) + "\n")
                    } else {
                        if !printedHeader {
                            try StandardStreams.write(Self.header(result))
                            printedHeader = true
                        }
                        try StandardStreams.write(Self.line(result))
                    }
                }
            }
        }
    }

    /// The checkpoint (or random model) and its tokenizer (ids only where it has none).
    private func loadSource() throws -> (model: DepthModel, tokenizer: any Tokenizer, name: String) {
        if let random {
            let parts = random.lowercased().split(separator: "x").compactMap { Int($0) }
            guard parts.count == 4 else {
                throw EngineError("--random: '\(random)' is not DIMxLAYERSxHEADSxFFN (e.g. 288x6x6x768)")
            }
            let model = try Model.random(hidden: parts[0], layers: parts[1], heads: parts[2], ffn: parts[3], vocab: vocab)
            return (try DepthModel(plain: model), IdTokenizer(vocabularySize: vocab), "random \(random)")
        }
        let folder = try ModelLocator.resolve(model ?? "")
        let depth = try DepthModel(folder: folder)
        let tokenizer = (try? loadTokenizer(folder: folder)) ?? IdTokenizer(vocabularySize: depth.config.vocabSize)
        return (depth, tokenizer, folder)
    }

    /// Prompt and decode speed through a `Session`, the path `generate`, `eval` and the
    /// workbench take: the prompt fed as one (batched) feed, then tokens one at a time.
    /// With --arch the session builds every token's trace, as the workbench does.
    private func measure(
        source: (model: DepthModel, tokenizer: any Tokenizer, name: String), model: Model, threads: Int, capture: Bool
    ) throws -> Result {
        let pool = ThreadPool(threads: threads)
        let bandwidth = try MemoryBandwidth.measure(pool: pool)
        var random = SeededRandom(seed: 42)
        let vocabulary = model.config.vocabSize
        let prompt = (0..<promptTokens).map { _ in Int(random.next() % UInt64(vocabulary)) }
        let decodeIds = (0..<tokens).map { _ in Int(random.next() % UInt64(vocabulary)) }
        let capacity = promptTokens + tokens + 1

        let converted = DepthModel(model: model, depth: source.model.depth, weights: source.model.weights)
        let chosen = try architecture.resolve(for: converted)
        let traced = architecture.arch != nil
        let session = try Session(
            model: converted, tokenizer: source.tokenizer, architecture: chosen, capture: capture ? .all : [],
            tracing: traced, capacity: capacity, threads: threads)
        try session.feed(prompt.prefix(8), isPrompt: true)  // warm-up
        var promptRates: [Double] = []
        for _ in 0..<runs {
            session.reset()
            let start = DispatchTime.now()
            try session.feed(prompt, isPrompt: true)
            promptRates.append(Double(promptTokens) / Self.seconds(since: start))
        }
        var runRates: [Double] = []
        var depth = DepthStatistics()
        for _ in 0..<runs {
            session.reset()
            let start = DispatchTime.now()
            for t in decodeIds {
                try session.feed(t)
                if traced { depth.add(session.lastRecord) }
            }
            runRates.append(Double(tokens) / Self.seconds(since: start))
        }
        let median = runRates.sorted()[runRates.count / 2]
        let bytes = model.decodeBytesPerToken
        let bound = bandwidth / Double(bytes)
        let c = model.config
        return Result(
            model: source.name,
            shape: "\(c.hiddenSize)x\(c.numHiddenLayers)x\(c.numAttentionHeads)x\(c.intermediateSize) vocab \(c.vocabSize)",
            architecture: traced ? chosen.spec : nil, dtype: model.matrixDTypes.joined(separator: "+"), threads: threads,
            bandwidthGbPerSecond: bandwidth / 1e9, weightBytesPerToken: bytes, promptTokens: promptTokens,
            promptTokensPerSecond: promptRates.sorted()[promptRates.count / 2], decodeTokens: tokens,
            decodeTokensPerSecond: median, decodeRunsTokensPerSecond: runRates, boundTokensPerSecond: bound,
            boundFraction: median / bound, meanDepth: traced ? depth.meanDepth : nil, maxDepth: traced ? chosen.maxDepth : nil,
            capture: capture, q8Kernel: WeightFormat.q8Implementation)
    }

    /// GB/s of weight bytes streamed by y = W x, per format and thread count, for a matrix
    /// far larger than L3 and one that fits in L2.
    private static func timeKernels(threads: [Int], formats: [WeightFormat]) throws {
        let shapes = [(8192, 4096), (2048, 768), (768, 2048), (32000, 768)]
        for (rows, columns) in shapes {
            var random = SeededRandom(seed: 1)
            let values = (0..<(rows * columns)).map { _ in random.nextUnitFloat() - 0.5 }
            let base = try WeightMatrix.float32(name: "matrix", rows: rows, columns: columns, values: values)
            let x = try FloatVector(count: columns)
            for i in 0..<columns { x[i] = random.nextUnitFloat() - 0.5 }
            let y = try FloatVector(count: rows)
            for format in formats.isEmpty ? WeightFormat.allCases : formats {
                let matrix = try base.converted(to: format)
                for count in threads {
                    let pool = ThreadPool(threads: count)
                    let repeats = max(3, (1 << 30) / matrix.byteCount)
                    var times: [Double] = []
                    for _ in 0..<5 {
                        let start = DispatchTime.now()
                        for _ in 0..<repeats { matrix.multiply(x.pointer, into: y.pointer, pool: pool) }
                        times.append(seconds(since: start) / Double(repeats))
                    }
                    let median = times.sorted()[2]
                    try StandardStreams.write(
                        String(
                            format: "%5dx%-5d %-5@ %d thread(s): %8.2f us  %7.1f GB/s  %7.1f GFLOP/s\n", rows, columns,
                            format.rawValue as NSString, count, median * 1e6, Double(matrix.byteCount) / median / 1e9,
                            2 * Double(rows * columns) / median / 1e9))
                }
            }
        }
    }

    private static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }

    private static func list<T>(_ text: String, option: String, _ parse: (String) -> T?) throws -> [T] {
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !items.isEmpty else { throw EngineError("\(option): empty list") }
        return try items.map { item in
            guard let value = parse(item) else { throw EngineError("\(option): '\(item)' is not valid") }
            return value
        }
    }

    private static func header(_ r: Result) -> String {
        var text = "\(r.model) (\(r.shape))\(r.architecture.map { ", arch \($0)" } ?? "")\n"
        text += "dtype   threads  bandwidth  MB/token  prompt \(r.promptTokens) tok/s  decode tok/s (median of runs)  bound tok/s  of bound"
        text += r.meanDepth != nil ? "  mean depth  capture\n" : "\n"
        return text
    }

    private static func line(_ r: Result) -> String {
        var text = String(
            format: "%-7@ %7d  %6.1f GB/s %8.1f  %16.1f  %30.1f  %11.1f  %7.0f%%",
            r.dtype as NSString, r.threads, r.bandwidthGbPerSecond, Double(r.weightBytesPerToken) / 1e6, r.promptTokensPerSecond,
            r.decodeTokensPerSecond, r.boundTokensPerSecond, 100 * r.boundFraction)
        if let depth = r.meanDepth {
            text += String(format: "  %5.2f of %d  %@", depth, r.maxDepth ?? 0, r.capture ? "on" : "off")
        }
        return text + "\n"
    }
}
