// Reading a saved machine profile without `JSONDecoder`: decoding it through `Codable` cost a
// process's first sync about a millisecond (1.2 of a trivial first sync's 2.6-3.5 ms), nearly
// all of it the Swift runtime's first generic-metadata instantiations and conformance lookups
// for the decoder's containers, not the parsing. The profile is written by `JSONEncoder` (keys
// as the synthesized `Codable` names them); this reads exactly that format, field by field,
// and fails where the synthesized decoder would (a missing or mistyped key), so a file either
// reads as it did or is measured again. `MachineProfileJSONTests` compares both readers on
// profiles with every field set.

/// A parsed JSON value (numbers kept as their text: a `Double` or an `Int` field parses it).
enum JSONValue: Sendable {
    case object([(String, JSONValue)])
    case array([JSONValue])
    case string(String)
    case number(String)
    case bool(Bool)
    case null

    /// The value of `key` in an object (nil for another value or a missing key).
    subscript(_ key: String) -> JSONValue? {
        guard case .object(let fields) = self else { return nil }
        return fields.first { $0.0 == key }?.1
    }

    var double: Double? { if case .number(let s) = self { Double(s) } else { nil } }
    var int: Int? { if case .number(let s) = self { Int(s) } else { nil } }
    var string: String? { if case .string(let s) = self { s } else { nil } }
    var bool: Bool? { if case .bool(let b) = self { b } else { nil } }

    /// An optional field's value: `.some(nil)` where the field is absent or null, nil (a
    /// failure, as `decodeIfPresent` throws) where it holds something `parse` does not take.
    static func optional<T>(_ v: JSONValue?, _ parse: (JSONValue) -> T?) -> T?? {
        guard let v else { return .some(nil) }
        if case .null = v { return .some(nil) }
        guard let t = parse(v) else { return nil }
        return .some(t)
    }

    /// Parses `bytes` (one value, whitespace around it), or nil for anything that is not JSON.
    /// Nesting is limited, so no input can exhaust the stack.
    static func parse(_ bytes: [UInt8]) -> JSONValue? {
        var p = Parser(bytes: bytes)
        guard let v = p.value(depth: 0) else { return nil }
        p.skipSpace()
        return p.position == bytes.count ? v : nil
    }

    private struct Parser {
        let bytes: [UInt8]
        var position = 0
        static let maximumDepth = 32

        var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func skipSpace() {
            while let c = peek, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { position += 1 }
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let w = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
            guard position + w.count <= bytes.count, (0..<w.count).allSatisfy({ bytes[position + $0] == w[$0] }) else { return false }
            position += w.count
            return true
        }

        mutating func value(depth: Int) -> JSONValue? {
            guard depth < Parser.maximumDepth else { return nil }
            skipSpace()
            guard let c = peek else { return nil }
            switch c {
            case UInt8(ascii: "{"):
                position += 1
                var fields: [(String, JSONValue)] = []
                skipSpace()
                if peek == UInt8(ascii: "}") { position += 1; return .object(fields) }
                while true {
                    skipSpace()
                    guard peek == UInt8(ascii: "\""), let key = string() else { return nil }
                    skipSpace()
                    guard peek == UInt8(ascii: ":") else { return nil }
                    position += 1
                    guard let v = value(depth: depth + 1) else { return nil }
                    fields.append((key, v))
                    skipSpace()
                    if peek == UInt8(ascii: ",") { position += 1; continue }
                    if peek == UInt8(ascii: "}") { position += 1; return .object(fields) }
                    return nil
                }
            case UInt8(ascii: "["):
                position += 1
                var items: [JSONValue] = []
                skipSpace()
                if peek == UInt8(ascii: "]") { position += 1; return .array(items) }
                while true {
                    guard let v = value(depth: depth + 1) else { return nil }
                    items.append(v)
                    skipSpace()
                    if peek == UInt8(ascii: ",") { position += 1; continue }
                    if peek == UInt8(ascii: "]") { position += 1; return .array(items) }
                    return nil
                }
            case UInt8(ascii: "\""):
                return string().map(JSONValue.string)
            case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
            case UInt8(ascii: "n"): return literal("null") ? .null : nil
            default:
                return number()
            }
        }

        /// A number by JSON's grammar, `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`, as its
        /// text (Swift's `Double` parse alone would also take `.5`, `1.` or `0x1p3`).
        mutating func number() -> JSONValue? {
            let start = position
            func digits() -> Int {
                let from = position
                while let d = peek, d >= 0x30 && d <= 0x39 { position += 1 }
                return position - from
            }
            if peek == UInt8(ascii: "-") { position += 1 }
            if peek == UInt8(ascii: "0") {
                position += 1
            } else {
                guard digits() > 0 else { return nil }
            }
            if peek == UInt8(ascii: ".") {
                position += 1
                guard digits() > 0 else { return nil }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                position += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { position += 1 }
                guard digits() > 0 else { return nil }
            }
            return .number(String(decoding: bytes[start..<position], as: UTF8.self))
        }

        /// A string literal at `position` (its opening quote), escapes decoded.
        mutating func string() -> String? {
            position += 1
            var out: [UInt8] = []
            var pendingHigh: UInt32? = nil
            while let c = peek {
                position += 1
                if c == UInt8(ascii: "\"") {
                    guard pendingHigh == nil else { return nil }
                    return String(validating: out, as: UTF8.self)
                }
                if c < 0x20 { return nil }
                guard c == UInt8(ascii: "\\") else {
                    guard pendingHigh == nil else { return nil }
                    out.append(c)
                    continue
                }
                guard let e = peek else { return nil }
                position += 1
                var scalar: UInt32
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalar = UInt32(e)
                case UInt8(ascii: "b"): scalar = 8
                case UInt8(ascii: "f"): scalar = 12
                case UInt8(ascii: "n"): scalar = 10
                case UInt8(ascii: "r"): scalar = 13
                case UInt8(ascii: "t"): scalar = 9
                case UInt8(ascii: "u"):
                    guard position + 4 <= bytes.count,
                          let u = UInt32(String(decoding: bytes[position..<(position + 4)], as: UTF8.self), radix: 16) else { return nil }
                    position += 4
                    scalar = u
                default: return nil
                }
                // A surrogate pair (\uD83D\uDE00) is one scalar.
                if let high = pendingHigh {
                    guard scalar >= 0xDC00 && scalar <= 0xDFFF else { return nil }
                    scalar = 0x10000 + ((high - 0xD800) << 10) + (scalar - 0xDC00)
                    pendingHigh = nil
                } else if scalar >= 0xD800 && scalar <= 0xDBFF {
                    pendingHigh = scalar
                    continue
                } else if scalar >= 0xDC00 && scalar <= 0xDFFF {
                    return nil
                }
                guard let s = Unicode.Scalar(scalar) else { return nil }
                out.append(contentsOf: Array(String(Character(s)).utf8))
            }
            return nil
        }
    }
}

extension MachineProfile {
    /// The profile in `bytes` as `JSONEncoder` wrote it (`Calibration.save`), or nil where
    /// `JSONDecoder` would fail (not JSON, a missing or mistyped field). Range checks are
    /// `validationProblem`'s.
    ///
    ///     let profile = MachineProfile.read(json: Array(text.utf8))
    public static func read(json bytes: [UInt8]) -> MachineProfile? {
        guard let v = JSONValue.parse(bytes) else { return nil }
        return MachineProfile(json: v)
    }

    init?(json v: JSONValue) {
        guard let version = v["version"]?.int, let identity = v["identity"].flatMap(MachineIdentity.init(json:)),
              let quick = v["quick"]?.bool, let seconds = v["calibrationSeconds"]?.double,
              let cpu = v["cpu"].flatMap(CPUProfile.init(json:)),
              let gpu = JSONValue.optional(v["gpu"], GPUProfile.init(json:)),
              let openCL = JSONValue.optional(v["openCL"], GPUProfile.init(json:)) else { return nil }
        self.init(identity: identity, quick: quick, calibrationSeconds: seconds, cpu: cpu, gpu: gpu)
        self.version = version
        self.openCL = openCL
    }
}

extension MachineIdentity {
    init?(json v: JSONValue) {
        guard let host = v["host"]?.string, let cpuModel = v["cpuModel"]?.string, let workers = v["workers"]?.int,
              let compiler = v["compiler"]?.string, let gpu = JSONValue.optional(v["gpu"], \.string) else { return nil }
        self.init(host: host, cpuModel: cpuModel, workers: workers, compiler: compiler, gpu: gpu)
    }
}

extension OpCosts {
    init?(json v: JSONValue) {
        guard let simple = v["simple"]?.double, let divide = v["divide"]?.double, let sqrt = v["sqrt"]?.double,
              let transcendental = v["transcendental"]?.double, let erf = v["erf"]?.double, let pow = v["pow"]?.double,
              let remainder = v["remainder"]?.double, let random = v["random"]?.double, let exp = v["exp"]?.double else { return nil }
        self.init(simple: simple, divide: divide, sqrt: sqrt, transcendental: transcendental, erf: erf, pow: pow, remainder: remainder,
                  random: random, exp: exp)
    }
}

extension BandwidthLevel {
    init?(json v: JSONValue) {
        guard let name = v["name"]?.string, let maxBytes = v["maxBytes"]?.int, let one = v["oneThread"]?.double,
              let all = v["allThreads"]?.double else { return nil }
        self.init(name: name, maxBytes: maxBytes, oneThread: one, allThreads: all)
    }
}

extension LinkProfile {
    init?(json v: JSONValue) {
        guard let pageable = v["pageableBandwidth"]?.double, let pinned = v["pinnedBandwidth"]?.double,
              let latency = v["latencySeconds"]?.double else { return nil }
        self.init(pageableBandwidth: pageable, pinnedBandwidth: pinned, latencySeconds: latency)
    }
}

extension CPUProfile {
    init?(json v: JSONValue) {
        func d(_ key: String) -> Double? { v[key]?.double }
        guard case .array(let levelValues) = v["cacheBandwidth"] else { return nil }
        let levels = levelValues.compactMap(BandwidthLevel.init(json:))
        guard levels.count == levelValues.count,
              let one = d("bandwidthOneThread"), let all = d("bandwidthAllThreads"),
              let f32 = v["f32"].flatMap(OpCosts.init(json:)), let f64 = v["f64"].flatMap(OpCosts.init(json:)),
              let interpreterOps = v["interpreterOps"].flatMap(OpCosts.init(json:)),
              let access = d("accessSeconds"), let loop = d("loopSeconds"), let strided = d("stridedAccessSeconds"),
              let call = d("callSeconds"), let interpreterCall = d("interpreterCallSeconds"), let firstTouch = d("firstTouchSecondsPerByte"),
              let launch = d("launchSeconds"), let chunk = d("chunkSeconds"), let instruction = d("interpreterSecondsPerInstruction"),
              let interpreterAccess = d("interpreterAccessSeconds"), let point = d("interpreterPointSeconds"),
              let speedup = d("interpreterSpeedup"), let reduction = d("interpreterReductionSeconds"), let row = d("interpreterRowSeconds"),
              let compile = d("compileSeconds"), let load = d("loadSeconds") else { return nil }
        self.init(bandwidthOneThread: one, bandwidthAllThreads: all, f32: f32, f64: f64, launchSeconds: launch, chunkSeconds: chunk,
                  interpreterSecondsPerInstruction: instruction, interpreterOps: interpreterOps, interpreterAccessSeconds: interpreterAccess,
                  accessSeconds: access, loopSeconds: loop, firstTouchSecondsPerByte: firstTouch, stridedAccessSeconds: strided,
                  callSeconds: call, interpreterCallSeconds: interpreterCall, interpreterPointSeconds: point,
                  interpreterReductionSeconds: reduction, interpreterRowSeconds: row, interpreterSpeedup: speedup,
                  compileSeconds: compile, loadSeconds: load)
        cacheBandwidth = levels
    }
}

extension GPUProfile {
    init?(json v: JSONValue) {
        guard let name = v["name"]?.string, let multiprocessors = v["multiprocessors"]?.int,
              let blocks = v["blocksPerMultiprocessor"]?.int, let threads = v["threadsPerBlock"]?.int,
              let bandwidth = v["bandwidth"]?.double,
              let f32 = v["f32"].flatMap(OpCosts.init(json:)), let f64 = v["f64"].flatMap(OpCosts.init(json:)),
              let launch = v["launchSeconds"]?.double, let compile = v["compileSeconds"]?.double, let load = v["loadSeconds"]?.double,
              let up = v["hostToDevice"].flatMap(LinkProfile.init(json:)), let down = v["deviceToHost"].flatMap(LinkProfile.init(json:)),
              let pinned = v["pinnedThreshold"]?.int,
              let firstTouch = JSONValue.optional(v["firstTouchSecondsPerByte"], \.double),
              let shares = JSONValue.optional(v["sharesHostCores"], \.bool) else { return nil }
        self.init(name: name, multiprocessors: multiprocessors, blocksPerMultiprocessor: blocks, threadsPerBlock: threads,
                  bandwidth: bandwidth, f32: f32, f64: f64, launchSeconds: launch, compileSeconds: compile, loadSeconds: load,
                  hostToDevice: up, deviceToHost: down, pinnedThreshold: pinned, firstTouchSecondsPerByte: firstTouch,
                  sharesHostCores: shares)
    }
}
