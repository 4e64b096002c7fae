import CKernels

extension WeightFormat {
    /// bfloat16, the top half of an f32 (safetensors BF16, GGUF BF16), as stored.
    public static let bf16 = WeightFormat(BF16Format.self)
}

enum BF16Format: FloatWeightFormat {
    typealias Element = BF16Element
    static let name = "BF16"
    static let safetensorsDType: TensorDType? = .bf16
    static let ggufLoads = [GGUFLoad(.bf16)]
    static let gemmCode = DS_GEMM_BF16

    static func quantise(_ x: UnsafePointer<Float>, columns: Int, into row: UnsafeMutableRawPointer) {
        let words = row.assumingMemoryBound(to: UInt16.self)
        for c in 0..<columns { words[c] = bfloat16Bits(x[c]) }
    }
}

/// f32 -> bf16 with round to nearest even (as torch's .to(torch.bfloat16)); NaN stays NaN.
func bfloat16Bits(_ value: Float) -> UInt16 {
    let bits = value.bitPattern
    if value.isNaN { return UInt16(bits >> 16) | 0x40 }
    let rounding = 0x7FFF + ((bits >> 16) & 1)
    return UInt16((bits &+ rounding) >> 16)
}
