import Testing
import Tandem

/// Shape mistakes are precondition failures at the line that wrote them, with NumPy's message.
@Suite("Shape errors")
struct ShapeErrorTests {
    @Test func broadcastMismatchNamesTheOpAndBothShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let a = Tensor<Double>.zeros([3, 4])
            let b = Tensor<Double>.zeros([5])
            _ = a + b
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("add: operands could not be broadcast together with shapes (3, 4) (5,)"))
    }

    @Test func whereMismatch() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = `where`(Tensor<Bool>.zeros([2, 3]), Tensor<Float>.zeros([4]), Tensor<Float>.zeros([1]))
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("where: operands could not be broadcast together with shapes (4,) (1,)") ||
                text.contains("where: operands could not be broadcast together with shapes (2, 3) (4,)"))
    }

    @Test func sliceAssignmentMismatch() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var a = Tensor<Double>.zeros([4, 4])
            a[0..<2, .all] = Tensor<Double>.zeros([3])
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("could not broadcast input array from shape (3,) into shape (2, 4)"))
    }

    @Test func indexOutOfBounds() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Int32>.zeros([3])[5]
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("index 5 is out of bounds for axis 0 with size 3"))
    }

    // A vector's scatter targets are checked as they are read; a matrix's by the index check.
    @Test func scatterIndexOutOfBounds() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var v = Tensor<Double>.zeros([3])
            v[Tensor<Int32>([1, 5])] = Tensor<Double>(1.0)
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("index 5 is out of bounds for axis 0 with size 3"), "\(text)")
    }

    @Test func scatterNegativeIndexOutOfBounds() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var v = Tensor<Double>.zeros([3])
            try? v.add(at: Tensor<Int64>([-1, -4]), Tensor<Double>(1.0))
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("index -4 is out of bounds for axis 0 with size 3"), "\(text)")
    }

    @Test func matrixScatterIndexOutOfBounds() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var m = Tensor<Double>.zeros([3, 2])
            m[Tensor<Int64>([0, 3])] = Tensor<Double>(1.0)
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("index 3 is out of bounds for axis 0 with size 3"), "\(text)")
    }

    @Test func reshapeMismatch() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Double>.zeros([6]).reshaped([4, 2])
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("cannot reshape array of size 6 into shape (4, 2)"))
    }
}
