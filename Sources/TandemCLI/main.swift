import Tandem
func sor() -> [any TensorProtocol] {
    var a = Tensor<Double>.zeros([6, 6])
    a[0, .all] = Tensor(1.0)
    let c = a[1..<5, 1..<5]
    let work = 0.2 * (c + a[0..<4, 1..<5] + a[2..<6, 1..<5] + a[1..<5, 0..<4] + a[1..<5, 2..<6])
    return [(work - c).abs().sum(), work]
}
func pairwise() -> [any TensorProtocol] {
    let x = Tensor<Float>([1, 2, 3, 4])
    let m = Tensor<Float>([1, 1, 2, 2])
    let dx = x[.newAxis, .all] - x[.all, .newAxis]
    return [(m[.newAxis, .all] * dx / (dx * dx + 0.01).sqrt()).sum(axis: 1)]
}
func mapped() -> [any TensorProtocol] {
    let x = Tensor<Float>.uniform([3, 5], seed: 2, in: -1...1)
    return [`where`(x .> 0, x.exp(), Tensor<Float>(Tensor<Int32>.arange(0, 5))).transposed]
}
for (name, g) in [("sor", sor()), ("pairwise", pairwise()), ("mapped", mapped())] {
    let ir: String
    switch g.count { case 2: ir = Tandem.kernelIR(g[0], g[1]); default: ir = Tandem.kernelIR(g[0]) }
    print("=== \(name) IR\n\(ir)")
}
print("=== sor C\n" + Tandem.generatedC(sor()[0])[2])
