import Tandem

// Programs ported from the README alone (twenty-fifth session): registered as `h_*` examples
// by examples.txt; NumPy versions in heldout.py. Two more of them, `h_advect` and `h_power`,
// became the gallery's `advection` and `power_iteration` (Examples/).
public enum ZHeldOut {
    public static func walk(paths: Int = 2000, steps: Int = 500) throws -> [String: Double] {
        let u = Tensor<Double>.uniform([paths, steps], seed: 7)
        let st = select(u .< 0.5, Tensor(-1.0), Tensor(1.0))
        let pos = try st.cumsum(axis: 1)
        let hit = try (pos.max(axis: 1) .>= 20.0).mean().item()
        let fin = pos[.all, steps - 1]
        return ["hit": hit, "mean": try fin.mean().item(), "std": try fin.std().item(), "maxabs": try pos.abs().max().item()]
    }

    public static func wave(n: Int = 64, steps: Int = 500, c2: Double = 0.2) throws -> [String: Double] {
        let x = Tensor<Double>.arange(0, Double(n)) / Double(n - 1)
        var u = (-100.0 * ((x.reshaped([n, 1]) - 0.5).square() + (x.reshaped([1, n]) - 0.4).square())).exp()
        var up = u
        var energy = 0.0
        for s in 0..<steps {
            let lap = u[2..., 1..<(n - 1)] + u[..<(n - 2), 1..<(n - 1)] + u[1..<(n - 1), 2...] + u[1..<(n - 1), ..<(n - 2)]
                - 4 * u[1..<(n - 1), 1..<(n - 1)]
            var un = Tensor<Double>.zeros(like: u)
            un[1..<(n - 1), 1..<(n - 1)] = 2 * u[1..<(n - 1), 1..<(n - 1)] - up[1..<(n - 1), 1..<(n - 1)] + c2 * lap
            (up, u) = (u, un)
            if s % 100 == 0 { energy += try (u * u).sum().item() }
        }
        return ["sum": try u.sum().item(), "abs": try u.abs().sum().item(), "energy": energy]
    }

    public static func equalize(h: Int = 256, w: Int = 256) throws -> [String: Double] {
        let img = Tensor<Int64>(Tensor<Double>.uniform([h, w], seed: 11).square() * 255)
        let hist = try img.flattened().bincount(minLength: 256)
        let cdf = try hist.cumsum()
        let lo = try cdf.min().item(), hi = try cdf[255].item()
        let lut = (cdf - lo) * 255 / (hi - lo)
        let out = lut[img]
        return ["mean": try out.mean().item(), "std": try Tensor<Double>(out).std().item(),
                "min": Double(try out.min().item()), "max": Double(try out.max().item()), "h128": Double(try hist[128].item())]
    }
}

extension ZHeldOut {
    public static func interp(n: Int = 1_000_000, reps: Int = 20, kind: Int = 0) throws -> [String: Double] {
        let idx = Tensor<Int64>(Tensor<Double>.uniform([n], seed: 3) * 255)
        let lut = Tensor<Int64>.arange(0, 256) * 3
        let x = Tensor<Double>.uniform([n], seed: 4) * 1
        try Tandem.wait(idx, lut, x)
        var acc = 0.0
        let start = ContinuousClock.now
        for r in 0..<reps {
            switch kind {
            case 0: acc += Double(try lut[idx].min().item())                    // gather + min
            case 1: acc += try (x * Double(r) + 1).sum().item()                  // mul add sum
            case 2: acc += try ((x - 0.5).abs() * 2).max().item()                // sub abs mul max
            default: acc += try (x.exp() + x.sin()).sum().item()                 // transcendental
            }
        }
        let d = start.duration(to: .now)
        let ns = Double(d.components.seconds) * 1e9 + Double(d.components.attoseconds) * 1e-9
        return ["ns_per_element": ns / Double(n * reps), "acc": acc]
    }
}
