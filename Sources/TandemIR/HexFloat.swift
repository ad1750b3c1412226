/// C99 hexadecimal floating-point literals, which round-trip exactly (decimal printing does not).
public enum HexFloat {
    /// `0x1.8p+1` for 3.0; `NAN`, `INFINITY` and `-INFINITY` for the special values (C's macros).
    public static func c(_ value: Double) -> String {
        if value.isNaN { return "NAN" }
        if value.isInfinite { return value < 0 ? "(-INFINITY)" : "INFINITY" }
        if value == 0 { return value.sign == .minus ? "-0x0p+0" : "0x0p+0" }
        let sign = value.sign == .minus ? "-" : ""
        let magnitude = abs(value)
        var exponent = Int(magnitude.exponent)
        let significand = magnitude.significandBitPattern
        var lead = "1"
        if magnitude.isSubnormal {
            lead = "0"
            exponent = -1022
        }
        // 52 fraction bits = 13 hex digits; strip trailing zeros.
        var digits = String(significand, radix: 16)
        digits = String(repeating: "0", count: 13 - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        let fraction = digits.isEmpty ? "" : "." + digits
        return "\(sign)0x\(lead)\(fraction)p\(exponent >= 0 ? "+" : "")\(exponent)"
    }

    /// A short human form for printed IR: the shortest decimal that round-trips, e.g. `0.2`.
    public static func describe(_ value: Double) -> String {
        "\(value)"
    }
}
