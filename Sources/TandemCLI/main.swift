import Tandem

var grid = Tensor<Double>.zeros([10, 10])
grid[0, ...] = Tensor(1.0)
for _ in 0..<3 {
    let center = grid[1..<9, 1..<9]
    let work = 0.2 * (center + grid[0..<8, 1..<9] + grid[2..<10, 1..<9] + grid[1..<9, 0..<8] + grid[1..<9, 2..<10])
    let delta = (work - center).abs().sum()
    grid[1..<9, 1..<9] = work
    print(try delta.item())
}
print(try grid.sum().item())
print(Tandem.statistics)
let x = Tensor<Double>.uniform([5], seed: 1, in: -1...1)
print(x)
print(Tandem.kernelIR((x * x).sum()))
