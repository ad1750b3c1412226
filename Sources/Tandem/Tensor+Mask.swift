import TandemIR

// NumPy's boolean indexing as a subscript, `x[mask]` and `x[mask] = value` (the idiom ports
// reach for first: `u[u .< 0] = 0`). A scalar written through a mask is a select, lazy and
// fused; what needs the mask's count (reading the selected elements, writing one value each)
// is a host operation.

extension Tensor {
    /// NumPy's boolean indexing. Read, `x[mask]` is `elements(where: mask)`: the elements where
    /// `mask` is true, in row-major order, as one axis (a sync point). Written, `x[mask] = v`
    /// puts `v` there: a single value (`Tensor(0.0)`, any one-element tensor) becomes
    /// `select(mask, v, x)`, lazy and fused with what follows; a vector of one value per true
    /// element (NumPy's `x[mask] = y[mask]`) is written in row-major order on the host (a sync
    /// point; into this tensor's own buffer when nothing else sees it); any other length stops
    /// with NumPy's message. `mask` has this tensor's shape or
    /// broadcasts to it. As with `x[indices]`, a failure of the sync a read or a vector write
    /// needs stops the program (use `elements(where:)` to handle it).
    ///
    ///     var clipped = x
    ///     clipped[clipped .< 0.5] = Tensor(0.5)
    public subscript(mask: Tensor<Bool>) -> Tensor {
        get {
            do { return try elements(where: mask) } catch { preconditionFailure("x[mask]: computing the operands failed: \(error)") }
        }
        set {
            checkMask(mask)
            if newValue.count == 1 {
                self = select(mask, newValue.reshaped([]), self)
                return
            }
            precondition(newValue.rank == 1, "NumPy boolean array indexing assignment requires a 0 or 1-dimensional input, input has \(newValue.rank) dimensions")
            do {
                let positions = try maskPositions(mask)
                precondition(positions.count == newValue.count,
                             "NumPy boolean array indexing assignment cannot assign \(newValue.count) input values to the \(positions.count) output values where the mask is true")
                // Written where this tensor's elements are (in its own buffer when nothing else
                // sees it: `write(at:selectedShape:_:accumulate:)`); the positions are flat and
                // in range already.
                let targets = try Tandem.runtime.read(positions.node, call: "x[mask] = v")
                try write(at: targets, selectedShape: [positions.count], newValue, accumulate: false)
            } catch {
                preconditionFailure("x[mask] = value: computing the operands failed: \(error)")
            }
        }
    }

    /// Stops with NumPy's message unless `mask` has this tensor's shape or broadcasts to it.
    func checkMask(_ mask: Tensor<Bool>) {
        precondition(Shape.broadcast(mask.shape, shape) == shape,
                     "boolean index did not match indexed array: mask shape \(Shape.describe(mask.shape)), array shape \(Shape.describe(shape))")
    }

    /// The flat positions (row-major) where `mask`, broadcast to this tensor's shape, is true:
    /// a sync point for the mask.
    func maskPositions(_ mask: Tensor<Bool>) throws -> Tensor<Int64> {
        checkMask(mask)
        // The mask itself stored first: a mask computed from this tensor (`z.abs() .< 2`) then no
        // longer reads it, so a write through the mask can go into this tensor's own buffer.
        try Tandem.wait(mask)
        return try mask.broadcast(to: shape).flattened().nonzero()[0]
    }
}

