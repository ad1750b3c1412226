import Tandem

/// Conway's Game of Life on an n x n board surrounded by a border of dead cells, starting from
/// cells alive with probability `density`. Each step counts the eight neighbours with shifted
/// slices, applies the birth (3) and survival (2 or 3) rules with boolean masks, and reads the
/// population (a sync point every step).
///
/// Outputs: the population at the start and at the end, the largest and smallest population
/// seen, and the sum of all populations read.
public enum GameOfLife {
    public static func run(n: Int = 1024, steps: Int = 50, density: Double = 0.35) throws -> [String: Double] {
        var board = Tensor<Int32>.zeros([n + 2, n + 2])
        board[1...n, 1...n] = Tensor<Int32>(Tensor<Double>.uniform([n, n], seed: 60) .< density)

        var populations = [Double(try board.sum().item())]
        for _ in 0..<steps {
            var neighbours = Tensor<Int32>.zeros([n, n])
            for di in 0...2 {
                for dj in 0...2 where di != 1 || dj != 1 {
                    neighbours += board[di..<(di + n), dj..<(dj + n)]
                }
            }
            let alive = board[1...n, 1...n] .== 1
            let next = (neighbours .== 3) .| (alive .& (neighbours .== 2))
            board[1...n, 1...n] = Tensor<Int32>(next)
            populations.append(Double(try board.sum().item()))
        }
        return ["population_first": populations[0], "population_last": populations[populations.count - 1],
                "population_max": populations.max()!, "population_min": populations.min()!,
                "population_sum": populations.reduce(0, +)]
    }
}
