import CKernels

extension WeightFormat {
    /// IEEE half precision (safetensors F16, GGUF F16), as stored.
    public static let f16 = WeightFormat(F16Format.self)
}

enum F16Format: FloatWeightFormat {
    typealias Element = F16Element
    static let name = "F16"
    static let safetensorsDType: TensorDType? = .f16
    static let ggufLoads = [GGUFLoad(.f16)]
    static let gemmCode = DS_GEMM_F16

    /// Rounds to nearest even, as torch's .to(torch.float16).
    static func quantise(_ x: UnsafePointer<Float>, columns: Int, into row: UnsafeMutableRawPointer) {
        let halves = row.assumingMemoryBound(to: Float16.self)
        for c in 0..<columns { halves[c] = Float16(x[c]) }
    }
}
