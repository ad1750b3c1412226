/// A Python literal as `.npy` headers use them (what `ast.literal_eval` would return).
indirect enum PyLiteral: Equatable, Sendable, CustomStringConvertible {
    case string([UInt8])
    /// nil: an integer too large for `Int`.
    case int(Int?)
    case bool(Bool)
    case none
    case tuple([PyLiteral])
    case list([PyLiteral])
    case dict([PyLiteral])

    /// Python's `repr`, for error messages (bytes outside printable ASCII escaped).
    var description: String {
        switch self {
        case .string(let s):
            return "'" + s.map { b -> String in
                switch b {
                case UInt8(ascii: "'"): return "\\'"
                case UInt8(ascii: "\\"): return "\\\\"
                case 0x20..<0x7F: return String(UnicodeScalar(b))
                default: return "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16)
                }
            }.joined() + "'"
        case .int(let v): return v.map(String.init) ?? "<integer too large>"
        case .bool(let v): return v ? "True" : "False"
        case .none: return "None"
        case .tuple(let items): return items.count == 1 ? "(\(items[0]),)" : "(" + items.map(\.description).joined(separator: ", ") + ")"
        case .list(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .dict(let items):
            return "{" + stride(from: 0, to: items.count - 1, by: 2).map { "\(items[$0]): \(items[$0 + 1])" }.joined(separator: ", ") + "}"
        }
    }
}

/// A recursive-descent parser for the subset of Python literal syntax an `.npy` header can hold:
/// strings (single or double quotes, backslash escapes), decimal integers (an old Python 2 `L`
/// suffix allowed), `True`, `False`, `None`, tuples, lists and dicts, with any whitespace and
/// trailing commas. Nesting is limited, so no input can exhaust the stack.
struct PyLiteralParser {
    let bytes: UnsafeRawBufferPointer
    /// The offset of `bytes` in the file, for error messages.
    let base: Int
    let path: String
    var position = 0
    static let maximumDepth = 16

    init(bytes: UnsafeRawBufferPointer, base: Int, path: String) {
        self.bytes = bytes
        self.base = base
        self.path = path
    }

    /// The header dict's entries (key, value, file offset of the key); only whitespace may follow.
    mutating func parseHeader() throws -> [(PyLiteral, PyLiteral, Int)] {
        skipSpace()
        guard peek == UInt8(ascii: "{") else { throw error("the header is not a Python dict literal") }
        let entries = try parseDict(depth: 0)
        skipSpace()
        guard position == bytes.count else { throw error("unexpected text after the header dict") }
        return entries
    }

    mutating func parseValue(depth: Int) throws -> PyLiteral {
        guard depth < Self.maximumDepth else { throw error("header nests more than \(Self.maximumDepth) levels") }
        skipSpace()
        guard let c = peek else { throw error("the header ends inside a value") }
        switch c {
        case UInt8(ascii: "'"), UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "("):
            position += 1
            let (items, sawComma) = try parseItems(until: UInt8(ascii: ")"), depth: depth)
            // `(3)` is the integer 3; `(3,)` and `()` are tuples.
            return items.count == 1 && !sawComma ? items[0] : .tuple(items)
        case UInt8(ascii: "["):
            position += 1
            return .list(try parseItems(until: UInt8(ascii: "]"), depth: depth).items)
        case UInt8(ascii: "{"):
            return .dict(try parseDict(depth: depth).flatMap { [$0.0, $0.1] })
        case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .int(try parseInt())
        default:
            let start = position
            while let b = peek, isIdentifier(b) { position += 1 }
            switch String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self) {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return .none
            default:
                position = start
                throw error("unexpected character \(PyLiteral.string([c])) in the header")
            }
        }
    }

    /// Items separated by commas up to `close` (already past the opening bracket).
    mutating func parseItems(until close: UInt8, depth: Int) throws -> (items: [PyLiteral], sawComma: Bool) {
        var items: [PyLiteral] = []
        var sawComma = false
        while true {
            skipSpace()
            if peek == close { position += 1; return (items, sawComma) }
            items.append(try parseValue(depth: depth + 1))
            skipSpace()
            if peek == UInt8(ascii: ",") { position += 1; sawComma = true; continue }
            guard peek == close else { throw error(peek == nil ? "the header ends inside a bracket" : "expected ',' or '\(String(UnicodeScalar(close)))'") }
        }
    }

    /// `{key: value, ...}` from the opening brace; entries carry the key's file offset.
    mutating func parseDict(depth: Int) throws -> [(PyLiteral, PyLiteral, Int)] {
        guard depth < Self.maximumDepth else { throw error("header nests more than \(Self.maximumDepth) levels") }
        position += 1
        var entries: [(PyLiteral, PyLiteral, Int)] = []
        while true {
            skipSpace()
            if peek == UInt8(ascii: "}") { position += 1; return entries }
            let offset = base + position
            let key = try parseValue(depth: depth + 1)
            skipSpace()
            guard peek == UInt8(ascii: ":") else { throw error(peek == nil ? "the header ends inside the dict" : "expected ':' after a dict key") }
            position += 1
            let value = try parseValue(depth: depth + 1)
            entries.append((key, value, offset))
            skipSpace()
            if peek == UInt8(ascii: ",") { position += 1; continue }
            guard peek == UInt8(ascii: "}") else { throw error(peek == nil ? "the header ends inside the dict" : "expected ',' or '}' in the dict") }
        }
    }

    /// A quoted string with Python's simple escapes (`\\ \' \" \n \t \r \0`; `\xhh`).
    mutating func parseString() throws -> [UInt8] {
        let quote = bytes[position]
        let start = position
        position += 1
        var out: [UInt8] = []
        while let c = peek {
            position += 1
            if c == quote { return out }
            if c == 0x0A || c == 0x0D { break }
            guard c == UInt8(ascii: "\\") else { out.append(c); continue }
            guard let e = peek else { break }
            position += 1
            switch e {
            case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""): out.append(e)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "0"): out.append(0)
            case UInt8(ascii: "x"):
                guard position + 2 <= bytes.count, let hi = hexValue(bytes[position]), let lo = hexValue(bytes[position + 1]) else {
                    throw error("bad \\x escape in a header string")
                }
                out.append(hi << 4 | lo)
                position += 2
            default:
                throw error("unsupported escape \\\(String(UnicodeScalar(e))) in a header string")
            }
        }
        position = start
        throw error("unterminated string in the header")
    }

    /// A decimal integer with an optional sign; nil when it does not fit in `Int`. Leading zeros
    /// are a syntax error in Python 3, so `(03,)` is refused rather than read as 3.
    mutating func parseInt() throws -> Int? {
        let start = position
        var negative = false
        if let s = peek, s == UInt8(ascii: "-") || s == UInt8(ascii: "+") {
            negative = s == UInt8(ascii: "-")
            position += 1
            skipSpace()
        }
        let digitsStart = position
        var value: Int? = 0
        while let d = peek, d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") {
            position += 1
            if let v = value {
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int(d - UInt8(ascii: "0")))
                value = o1 || o2 ? nil : a
            }
        }
        let digits = position - digitsStart
        guard digits > 0 else { position = start; throw error("expected a number") }
        if digits > 1 && bytes[digitsStart] == UInt8(ascii: "0") { position = digitsStart; throw error("integer with a leading zero") }
        if peek == UInt8(ascii: "L") || peek == UInt8(ascii: "l") { position += 1 }
        if let p = peek, isIdentifier(p) || p == UInt8(ascii: ".") { throw error("not an integer") }
        return negative ? value.map { -$0 } : value
    }

    var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

    mutating func skipSpace() {
        while let c = peek, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == 0x0C { position += 1 }
    }

    func isIdentifier(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "_")
    }

    func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    func error(_ reason: String) -> NPYError { .malformed(path: path, offset: base + position, reason: reason) }
}
