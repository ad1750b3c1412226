import Foundation
import Testing
@testable import Tandem
import TandemModel
import _TandemTestSupport

/// The machine profile is read without `JSONDecoder` (`MachineProfile.read(json:)`): the two
/// readers must agree on every file `Calibration.save` writes and on damaged ones.
@Suite("Machine profile JSON")
struct MachineProfileJSONTests {
    /// A profile with every part present and no two numbers alike where a field could be read
    /// into its neighbour: the GPU and OpenCL parts, two cache levels, a GPU in the identity.
    static func full() -> MachineProfile {
        var p = SyntheticProfiles.gpu()
        p.cpu.cacheBandwidth = [BandwidthLevel(name: "L2", maxBytes: 1 << 20, oneThread: 5.5e10, allThreads: 9.25e10),
                                BandwidthLevel(name: "L3 \"shared\" \\ /", maxBytes: 1 << 25, oneThread: 4.125e10, allThreads: 7.0625e10)]
        var k = 1.0
        func next() -> Double { k += 1; return k * 1.0000000000000002e-11 }
        for c in OpClassKey.allCases { p.cpu.f32[c] = next(); p.cpu.f64[c] = next(); p.cpu.interpreterOps[c] = next() }
        p.cpu.accessSeconds = next(); p.cpu.loopSeconds = next(); p.cpu.stridedAccessSeconds = next()
        p.cpu.callSeconds = next(); p.cpu.interpreterCallSeconds = next(); p.cpu.firstTouchSecondsPerByte = next()
        p.cpu.launchSeconds = next(); p.cpu.chunkSeconds = next(); p.cpu.interpreterSecondsPerInstruction = next()
        p.cpu.interpreterAccessSeconds = next(); p.cpu.interpreterPointSeconds = next(); p.cpu.interpreterReductionSeconds = next()
        p.cpu.interpreterRowSeconds = next(); p.cpu.interpreterSpeedup = 1.75; p.cpu.compileSeconds = 0.3125; p.cpu.loadSeconds = next()
        var g = p.gpu!
        g.name = "Träger GPU ✓ \u{1F600}"
        g.pinnedThreshold = 123_457
        g.firstTouchSecondsPerByte = 1.9000000000000001e-10
        g.hostToDevice = LinkProfile(pageableBandwidth: 1.1e9, pinnedBandwidth: 2.2e9, latencySeconds: 3.3e-6)
        g.deviceToHost = LinkProfile(pageableBandwidth: 4.4e9, pinnedBandwidth: 5.5e9, latencySeconds: 6.6e-6)
        p.gpu = g
        g.name = "PoCL"
        g.multiprocessors = 2
        g.sharesHostCores = true
        p.openCL = g
        p.identity = MachineIdentity(host: "host-1", cpuModel: "AMD EPYC (R) 7B13 @ 2.4GHz", workers: 3, compiler: "clang version 21.0 (\"x\")",
                                     gpu: "NVIDIA H100 sm_90")
        p.quick = false
        p.calibrationSeconds = 1.8337541870000001
        return p
    }

    static func encoded(_ p: MachineProfile, pretty: Bool) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys] : []
        return Array(try encoder.encode(p))
    }

    @Test("every field read as JSONDecoder reads it, pretty or compact, with and without the optional parts")
    func sameAsJSONDecoder() throws {
        var cpuOnly = Self.full()
        cpuOnly.gpu = nil
        cpuOnly.openCL = nil
        cpuOnly.identity.gpu = nil
        cpuOnly.cpu.cacheBandwidth = []
        for p in [Self.full(), cpuOnly, MachineProfile.builtIn(identity: Calibration.identity(workers: 2))] {
            for pretty in [true, false] {
                let bytes = try Self.encoded(p, pretty: pretty)
                let fast = MachineProfile.read(json: bytes)
                #expect(fast == p, "\(String(decoding: bytes, as: UTF8.self))")
                #expect(fast == (try JSONDecoder().decode(MachineProfile.self, from: Data(bytes))))
            }
        }
    }

    @Test("a missing or mistyped field, or text that is not JSON, reads as nothing")
    func strict() throws {
        let text = String(decoding: try Self.encoded(Self.full(), pretty: true), as: UTF8.self)
        #expect(MachineProfile.read(json: Array(text.utf8)) != nil)
        // Each key of the file renamed in turn (the field is then missing where it was needed).
        var keys: [String] = []
        var rest = Substring(text)
        while let r = rest.range(of: "\" : ") {
            let before = rest[..<r.lowerBound]
            if let q = before.lastIndex(of: "\"") { keys.append(String(before[before.index(after: q)...])) }
            rest = rest[r.upperBound...]
        }
        #expect(keys.count > 80, "\(keys.count) keys")
        for key in Set(keys) {
            let broken = text.replacingOccurrences(of: "\"\(key)\" : ", with: "\"\(key)_\" : ")
            let optional = ["gpu", "openCL"].contains(key)
            let decoded = try? JSONDecoder().decode(MachineProfile.self, from: Data(broken.utf8))
            #expect((MachineProfile.read(json: Array(broken.utf8)) == nil) == (decoded == nil), "renamed \(key) (optional: \(optional))")
        }
        for bad in ["", "{", "[]", "null", "{\"version\" : 8}", text + "x", String(text.dropLast()),
                    text.replacingOccurrences(of: "\"workers\" : 3", with: "\"workers\" : 3.5"),
                    text.replacingOccurrences(of: "\"workers\" : 3", with: "\"workers\" : \"3\""),
                    text.replacingOccurrences(of: "\"quick\" : false", with: "\"quick\" : 0"),
                    text.replacingOccurrences(of: "\"pinnedThreshold\" : 123457", with: "\"pinnedThreshold\" : 0123457"),
                    text.replacingOccurrences(of: "\"loadSeconds\" : ", with: "\"loadSeconds\" : .")] {
            #expect(MachineProfile.read(json: Array(bad.utf8)) == nil, "\(bad.prefix(60))")
        }
    }

    @Test("damaged files (bytes changed, cut short) never crash, and what reads agrees with JSONDecoder")
    func fuzzed() throws {
        let original = try Self.encoded(Self.full(), pretty: true)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func random(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        var accepted = 0
        for trial in 0..<600 {
            var bytes = original
            if trial % 3 == 0 {
                bytes = Array(bytes.prefix(random(bytes.count)))
            } else {
                for _ in 0...(trial % 4) { bytes[random(bytes.count)] = UInt8(truncatingIfNeeded: random(256)) }
            }
            let fast = MachineProfile.read(json: bytes)
            let slow = try? JSONDecoder().decode(MachineProfile.self, from: Data(bytes))
            if let fast {
                accepted += 1
                #expect(fast == slow, "trial \(trial): read a profile JSONDecoder reads as \(String(describing: slow))")
            }
        }
        #expect(accepted > 0 && accepted < 600, "\(accepted) of 600 damaged files read")
    }
}
