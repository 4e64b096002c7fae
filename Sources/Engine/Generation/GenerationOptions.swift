import Foundation

/// What to generate and when to stop.
public struct GenerationOptions: Sendable {
    public var maxNewTokens: Int
    public var sampling: SamplingParameters
    /// Generation ends when the text contains one of these; it is not emitted.
    public var stopStrings: [String]
    /// Token ids that end generation (not emitted); usually the tokenizer's and config's EOS.
    public var stopTokens: Set<Int>
    /// A full context is shifted (the newest half kept, `Session.shiftContext`) rather than
    /// ending the generation: the workbench runs on, a script stops.
    public var shiftsContext: Bool

    public init(
        maxNewTokens: Int, sampling: SamplingParameters = SamplingParameters(),
        stopStrings: [String] = [], stopTokens: Set<Int> = [], shiftsContext: Bool = false
    ) {
        self.maxNewTokens = maxNewTokens
        self.sampling = sampling
        self.stopStrings = stopStrings
        self.stopTokens = stopTokens
        self.shiftsContext = shiftsContext
    }
}

public enum StopReason: String, Sendable, Codable {
    /// An end-of-sequence token was sampled.
    case endOfSequence = "eos"
    case stopString = "stop_string"
    case maxTokens = "max_tokens"
    /// The model's context (max_position_embeddings) is full.
    case contextLimit = "context_limit"
}

public struct GenerationResult: Sendable {
    public var promptTokens: Int
    public var generatedTokens: [Int]
    public var text: String
    public var stopReason: StopReason
    public var contextLimit: Int
    public var promptSeconds: Double
    public var generationSeconds: Double

    /// Prompt processing speed (tokens/s); 0 when there was nothing to time.
    public var promptTokensPerSecond: Double { promptSeconds > 0 ? Double(promptTokens) / promptSeconds : 0 }
    public var generationTokensPerSecond: Double {
        generationSeconds > 0 ? Double(generatedTokens.count) / generationSeconds : 0
    }
}

/// The text side of the generation loop (`Session.next`): turns
/// generated tokens into complete UTF-8 pieces, holds back what may start a stop string, and
/// keeps the text shown so far.
struct GeneratedText {
    private var detokenizer: StreamingDetokenizer
    private var filter: StopStringFilter
    private(set) var text = ""

    init(tokenizer: any Tokenizer, stopStrings: [String]) {
        detokenizer = StreamingDetokenizer(tokenizer: tokenizer, skipsUnknownIds: true)
        filter = StopStringFilter(stopStrings: stopStrings)
    }

    /// A prompt token: context for the first generated piece, never shown.
    mutating func context(_ token: Int) throws {
        _ = try detokenizer.append(token)
    }

    /// A generated token; returns true when a stop string has appeared (generation ends).
    mutating func append(_ token: Int, onText: (String) throws -> Void) throws -> Bool {
        try show(filter.push(try detokenizer.append(token)), onText)
        return filter.stopped
    }

    /// Shows what was held back and settles the stop reason.
    mutating func finish(_ reason: inout StopReason, onText: (String) throws -> Void) throws {
        if reason != .stopString {
            // Text the detokenizer held back (e.g. a space it shows only before more text).
            try show(filter.push(try detokenizer.finish()), onText)
            if filter.stopped { reason = .stopString }
        }
        try show(filter.flush(), onText)
    }

    private mutating func show(_ piece: String, _ onText: (String) throws -> Void) throws {
        guard !piece.isEmpty else { return }
        text += piece
        try onText(piece)
    }
}

