/// A tensor source whose matrices come out in one weight format (`--quantize`): each matrix
/// is read from `base` and converted at once, so loading holds only one matrix in its stored
/// precision at a time, not a whole second copy of the model. Vectors (norms, biases) pass
/// through as they are. A matrix whose columns the format cannot block stays as it is, as
/// llama.cpp's quantiser leaves it.
public struct QuantisingSource: TensorSource {
    public let base: any TensorSource
    public let target: WeightFormat

    public init(_ base: any TensorSource, to target: WeightFormat) {
        self.base = base
        self.target = target
    }

    public var format: CheckpointFormat { base.format }
    public var path: String { base.path }
    public var configFile: String { base.configFile }
    public func contains(_ name: String) -> Bool { base.contains(name) }

    public func matrix(_ name: String, storedRows: Int, columns: Int, rows: Range<Int>?, order: RowOrder?) throws
        -> WeightMatrix
    {
        try base.matrix(name, storedRows: storedRows, columns: columns, rows: rows, order: order).converted(to: target)
    }

    public func vector(_ name: String, shape: [Int], elements: Range<Int>?, order: RowOrder?, adding: Float) throws
        -> WeightVector
    {
        try base.vector(name, shape: shape, elements: elements, order: order, adding: adding)
    }
}
