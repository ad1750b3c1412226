import Testing
import Tandem

@Test func smoke() throws {
    let x = Tensor<Double>([1, 2, 3, 4])
    #expect(try (x * 2).sum().item() == 20)
}
