/// Element types a checkpoint can store, by their safetensors names.
///
/// The engine computes with F32, F16 and BF16 tensors; the others are known only so a
/// header can be checked (sizes and offsets) and an unused tensor of such a type skipped.
public enum TensorDType: String, Sendable, Codable, CaseIterable {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"
    case f64 = "F64"
    case i64 = "I64"
    case i32 = "I32"
    case i16 = "I16"
    case i8 = "I8"
    case u64 = "U64"
    case u32 = "U32"
    case u16 = "U16"
    case u8 = "U8"
    case bool = "BOOL"
    case f8e4m3 = "F8_E4M3"
    case f8e5m2 = "F8_E5M2"

    public var byteSize: Int {
        switch self {
        case .f64, .i64, .u64: 8
        case .f32, .i32, .u32: 4
        case .f16, .bf16, .i16, .u16: 2
        case .i8, .u8, .bool, .f8e4m3, .f8e5m2: 1
        }
    }

    /// Whether weights of this type can be computed with (as stored, accumulating in f32).
    public var isComputable: Bool {
        self == .f32 || self == .f16 || self == .bf16
    }
}
