/// Everything the engine knows about one way of holding a weight matrix: its name, what it
/// loads from, its byte layout, how it is packed in memory, dequantised and quantised, and
/// its products. `WeightMatrix` asks these and never switches on a format.
///
/// A format is a caseless enum conforming to this in Numerics/Formats/, plus its line in
/// `WeightFormat.allCases` (docs/adding-a-weight-format.md). Two layouts matter:
/// - the row layout: rows one after another, each `columns / blockSize` blocks of
///   `blockBytes`, as checkpoint files hold them (GGUF blocks, safetensors elements).
///   Loading, `quantise` and `byteCount` speak it.
/// - the stored layout: what the product kernels read, `storageBytes` long. `store`
///   writes it from the row layout; it may regroup rows (q8_0: 16 rows side by side).
protocol WeightFormatTraits: Sendable {
    /// What users and listings see ("F32", "Q8_0"); `--dtype` takes it in any case.
    static var name: String { get }
    /// The safetensors dtype held in this format as stored, if any.
    static var safetensorsDType: TensorDType? { get }
    /// The GGUF tensor types held in this format, and how each is read.
    static var ggufLoads: [GGUFLoad] { get }

    /// Weights per block along a row (1 for plain elements): columns must be a multiple.
    static var blockSize: Int { get }
    /// Bytes of one block in the row layout.
    static var blockBytes: Int { get }

    /// Rows the stored layout keeps together (1: rows one after another). `store` is given
    /// whole groups, and `storageBytes(rows: r)` for r a multiple of it is where row r's
    /// group starts.
    static var rowGroup: Int { get }
    /// Bytes of the stored layout of a rows x columns matrix (padding included).
    static func storageBytes(rows: Int, columns: Int) -> Int
    /// Writes `rows` rows given in the row layout into the stored layout at `storage`
    /// (zeroed memory of `storageBytes(rows:columns:)`).
    static func store(_ source: UnsafeRawPointer, rows: Int, columns: Int, into storage: UnsafeMutableRawPointer)
    /// Writes row `row` of a stored matrix as `columns` f32 values (embedding lookups).
    static func dequantise(row: Int, of storage: UnsafeRawPointer, columns: Int, into y: UnsafeMutablePointer<Float>)
    /// Writes `columns` f32 values as one row in the row layout (`--dtype` conversion).
    static func quantise(_ x: UnsafePointer<Float>, columns: Int, into row: UnsafeMutableRawPointer)

    /// Whether prompt products read the inputs transposed once for ds_gemm_float
    /// (`PackedInputs`), so that the forward pass packs them for all products sharing them.
    static var usesPackedInputs: Bool { get }
    /// Y[t] = W X[t] for the product's tokens. With a pool, rows are split over its threads
    /// (nil: the product is too small to share). Allocates nothing on the heap: the kernels
    /// get a plain job struct and a C function (`MatrixProduct.split`), and scratch space is
    /// on the stack.
    static func multiply(_ product: MatrixProduct, pool: ThreadPool?, packed: PackedInputs?)
}

/// How a GGUF tensor type becomes a format's row layout.
struct GGUFLoad: Sendable {
    typealias Rewrite = @Sendable (_ tensor: GGUFTensorInfo, _ bytes: UnsafeRawBufferPointer, _ file: String) throws -> [UInt8]

    let type: GGMLType
    /// Rewrites the file's blocks into the row layout; nil when they are that layout already.
    let rewrite: Rewrite?

    init(_ type: GGMLType, rewrite: Rewrite? = nil) {
        self.type = type
        self.rewrite = rewrite
    }
}

/// One product Y[t] = W X[t], t < tokens, as a format's kernels see it: W is `rows` x
/// `columns` in the format's stored layout, X[t] starts at `x + t * xStride` and Y[t] at
/// `y + t * yStride`. Pointers and counts only, so that a job holding it can be read by
/// other threads without reference counting.
struct MatrixProduct {
    var weights: UnsafeRawPointer
    var rows: Int
    var columns: Int
    var x: UnsafePointer<Float>
    var xStride: Int
    var tokens: Int
    var y: UnsafeMutablePointer<Float>
    var yStride: Int

    /// Calls `chunk(job, c, n)` for every chunk c of n over `pool`'s threads, or once as
    /// chunk 0 of 1 without a pool. A C function and a pointer, not a closure: a closure
    /// published to other threads costs a heap allocation, and a token must allocate nothing.
    static func split(_ job: UnsafeRawPointer, over pool: ThreadPool?, _ chunk: ThreadPool.ChunkFunction) {
        if let pool {
            pool.run(context: job, chunk)
        } else {
            chunk(job, 0, 1)
        }
    }
}

/// How a weight matrix is held in memory: a value naming one `WeightFormatTraits` type.
/// Printed as its lowercased name ("q8_0"); `rawValue` is the name users see ("Q8_0").
public struct WeightFormat: Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    let traits: any WeightFormatTraits.Type

    init(_ traits: any WeightFormatTraits.Type) {
        self.traits = traits
    }

    /// Every format, in the order listings show them. A new format adds its line here.
    public static let allCases: [WeightFormat] = [
        .f32,
        .f16,
        .bf16,
        .q8_0,
    ]

    public var rawValue: String { traits.name }
    public var description: String { rawValue.lowercased() }

    public init?(rawValue: String) {
        guard let format = Self.allCases.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = format
    }

    /// Parses a user's spelling: a format's name in any case (f32, f16, bf16, q8_0, ...).
    public init?(name: String) {
        self.init(rawValue: name.uppercased())
    }

    /// The format that holds a safetensors dtype as stored (nil where none does).
    init?(_ dtype: TensorDType) {
        guard let format = Self.allCases.first(where: { $0.traits.safetensorsDType == dtype }) else { return nil }
        self = format
    }

    /// The format a GGUF tensor type loads into, and how (nil where none reads it).
    static func loading(_ type: GGMLType) -> (format: WeightFormat, load: GGUFLoad)? {
        for format in allCases {
            if let load = format.traits.ggufLoads.first(where: { $0.type == type }) { return (format, load) }
        }
        return nil
    }

    /// The GGUF types some format reads, for error messages: "F32, F16, BF16, Q8_0, Q4_0".
    static var ggufTypeNames: String {
        allCases.flatMap { $0.traits.ggufLoads.map(\.type.name) }.joined(separator: ", ")
    }

    /// Bytes of a rows x columns matrix in the row layout (columns must fit).
    public func byteCount(rows: Int, columns: Int) -> Int {
        rows * (columns / traits.blockSize) * traits.blockBytes
    }

    /// Whether a matrix with `columns` columns can be held this way (whole blocks).
    public func fits(columns: Int) -> Bool {
        columns % traits.blockSize == 0
    }

    /// See `WeightFormatTraits.usesPackedInputs`.
    var usesPackedInputs: Bool { traits.usesPackedInputs }

    public static func == (a: WeightFormat, b: WeightFormat) -> Bool {
        ObjectIdentifier(a.traits) == ObjectIdentifier(b.traits)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(ObjectIdentifier(traits))
    }

    /// Encoded as its name, as the enum it replaced was.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let format = WeightFormat(rawValue: name) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "unknown weight format '\(name)'")
        }
        self = format
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
