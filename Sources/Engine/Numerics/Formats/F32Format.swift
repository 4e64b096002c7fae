import CKernels

extension WeightFormat {
    /// 32-bit floats (safetensors F32, GGUF F32), as stored.
    public static let f32 = WeightFormat(F32Format.self)
}

enum F32Format: FloatWeightFormat {
    typealias Element = F32Element
    static let name = "F32"
    static let safetensorsDType: TensorDType? = .f32
    static let ggufLoads = [GGUFLoad(.f32)]
    static let gemmCode = DS_GEMM_F32

    static func quantise(_ x: UnsafePointer<Float>, columns: Int, into row: UnsafeMutableRawPointer) {
        row.copyMemory(from: x, byteCount: columns * 4)
    }
}
