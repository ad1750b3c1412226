import Foundation
import Testing
import TandemRuntime
import _TandemTestSupport

/// Issue 16 point 7: the examples in the doc comments of the `Tandem` module's public API
/// compile, so they cannot rot. Every indented code block (`///` and five spaces) in a doc
/// comment on a `public` declaration in `Sources/Tandem` becomes the body of a function in one
/// file, after a prelude that defines the names examples use without defining them (`x`, `m`,
/// `grid`, ...), and that file is type-checked with `swiftc` against the built module.
@Suite("Doc examples")
struct DocExampleTests {
    /// The names examples may use without defining them.
    static let prelude = """
    let t = Tensor<Double>.uniform([4, 4], seed: 1), x = Tensor<Double>.uniform([8], seed: 2), y = Tensor<Double>.uniform([8], seed: 3)
    let z = Tensor<Double>.uniform([8], seed: 4), m = Tensor<Double>.uniform([5, 5], seed: 5)
    let a = Tensor<Double>.uniform([3, 4], seed: 6), b = Tensor<Double>.uniform([4, 2], seed: 7)
    let u = Tensor<Double>.zeros([6, 6]), v = Tensor<Double>.zeros([6, 6])
    var grid = Tensor<Double>.zeros([514, 514])
    let mask = x .> 0.5, img = Tensor<Double>.zeros([16, 16])
    let predicted = Tensor<Int64>.zeros([8]), labels = Tensor<Int64>.zeros([8]), codes = Tensor<Int64>.zeros([8])
    let probabilities = Tensor<Double>.uniform([8], seed: 8)
    let callSum = x.sum(), putSum = y.sum(), fields = [u, v], step = 3
    func run() throws {}
    """

    /// One example: where it starts (file and line) and its lines.
    struct Example {
        let file: String
        let line: Int
        let code: [String]
    }

    /// The examples in the doc comments of public declarations in `folder`'s Swift files.
    static func examples(in folder: String) throws -> [Example] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".swift") }.sorted()
        var found: [Example] = []
        for name in names {
            let lines = try String(contentsOfFile: folder + "/" + name, encoding: .utf8).components(separatedBy: "\n")
            var i = 0
            while i < lines.count {
                guard lines[i].trimmingCharacters(in: .whitespaces).hasPrefix("///") else { i += 1; continue }
                var blocks: [Example] = [], current: [String] = [], start = 0
                var j = i
                while j < lines.count, lines[j].trimmingCharacters(in: .whitespaces).hasPrefix("///") {
                    let text = lines[j].trimmingCharacters(in: .whitespaces).dropFirst(3)
                    if text.hasPrefix("     ") {
                        if current.isEmpty { start = j + 1 }
                        current.append(String(text.dropFirst(5)))
                    } else if !current.isEmpty {
                        blocks.append(Example(file: name, line: start, code: current))
                        current = []
                    }
                    j += 1
                }
                if !current.isEmpty { blocks.append(Example(file: name, line: start, code: current)) }
                var k = j
                while k < lines.count, lines[k].trimmingCharacters(in: .whitespaces).hasPrefix("@") { k += 1 }
                let declaration = k < lines.count ? lines[k] : ""
                if declaration.split(whereSeparator: { !$0.isLetter }).contains("public") { found += blocks }
                i = j
            }
        }
        return found
    }

    /// `source`'s lines written to `examples.swift` in a scratch folder of its own and
    /// type-checked: the file and swiftc's result, or nil (recorded) when swiftc could not start.
    static func typeCheck(_ source: [String], scratch: String, swiftc: String, flags: [String]) -> (file: String, result: Subprocess.Result)? {
        let dir = TestScratch.path(scratch)
        mkdir(dir, 0o700)
        let file = dir + "/examples.swift"
        #expect(ProcessInfoLite.write(Array(source.joined(separator: "\n").utf8), to: file))
        guard case .success(let r) = Subprocess.run([swiftc, "-typecheck"] + flags + [file]) else {
            Issue.record("could not start swiftc")
            return nil
        }
        return (file, r)
    }

    @Test("every example in the public API's doc comments type-checks against the built module")
    func examplesCompile() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let examples = try DocExampleTests.examples(in: root + "/Sources/Tandem")
        // The extractor must find them (a change to the comment style would otherwise pass).
        #expect(examples.count >= 70, "found only \(examples.count) examples")
        guard let (swiftc, flags) = TypeCheckTests.swiftcAndModules("DocExampleTests") else { return }
        var source = ["import Foundation", "import Tandem", "import TandemCompiler", "import TandemRuntime", "", DocExampleTests.prelude, ""]
        var origin: [(line: Int, example: Example)] = []
        for (n, e) in examples.enumerated() {
            source.append("func example\(n)() throws {")
            source.append("    do {")
            origin.append((source.count + 1, e))
            source += e.code.map { "        " + $0 }
            source.append("    }")
            source.append("}")
        }
        guard let (file, r) = DocExampleTests.typeCheck(source, scratch: "doc-examples", swiftc: swiftc, flags: flags) else { return }
        if r.status != 0 {
            // Each error, named by the example's own file and line.
            for line in r.output.split(separator: "\n") where line.hasPrefix(file) && line.contains("error:") {
                let at = Int(line.dropFirst(file.count + 1).prefix { $0.isNumber }) ?? 0
                let e = origin.last { $0.line <= at }
                let place = e.map { "Sources/Tandem/\($0.example.file):\($0.example.line + at - $0.line)" } ?? "?"
                Issue.record("\(place): \(line.drop { $0 != " " })")
            }
        }
        #expect(r.status == 0)
    }

    @Test("every example in the doc comments of TandemMPI and TandemDistributed type-checks (issue 22)")
    func distributedExamplesCompile() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let examples = try DocExampleTests.examples(in: root + "/Sources/TandemMPI") + DocExampleTests.examples(in: root + "/Sources/TandemDistributed")
        #expect(examples.count >= 20, "found only \(examples.count) examples")
        guard let (swiftc, flags) = TypeCheckTests.swiftcAndModules("DocExampleTests") else { return }
        var source = ["import Tandem", "import TandemMPI", "import TandemDistributed", ""]
        for (n, e) in examples.enumerated() {
            source += ["func example\(n)() throws {", "    do {"] + e.code.map { "        " + $0 } + ["    }", "}"]
        }
        guard let (_, r) = DocExampleTests.typeCheck(source, scratch: "doc-examples-distributed", swiftc: swiftc, flags: flags) else { return }
        #expect(r.status == 0, "\(r.output)")
    }

    @Test("the README's Swift blocks type-check against the built module, each as a program")
    func readmeCompiles() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let text = try String(contentsOfFile: root + "/README.md", encoding: .utf8)
        let blocks = text.components(separatedBy: "```swift\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
        #expect(!blocks.isEmpty)
        guard let (swiftc, flags) = TypeCheckTests.swiftcAndModules("DocExampleTests") else { return }
        let dir = TestScratch.path("readme-blocks")
        mkdir(dir, 0o700)
        for (n, block) in blocks.enumerated() {
            let file = dir + "/main\(n).swift"
            #expect(ProcessInfoLite.write(Array(block.utf8), to: file))
            guard case .success(let r) = Subprocess.run([swiftc, "-typecheck"] + flags + [file]) else {
                Issue.record("could not start swiftc")
                return
            }
            #expect(r.status == 0, "README block \(n): \(r.output)")
        }
    }
}
