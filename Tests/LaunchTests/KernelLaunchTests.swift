import Foundation
import Testing

/// --kernels and --precision through the executable: the bench figures name what ran, both backends
/// train, and a precision the CPU cannot run ends in one line on every rank count.
extension LaunchSuites {
@Suite(.enabled(if: Launcher.hasMPI)) struct KernelLaunchTests {
    /// True when /proc/cpuinfo lists AVX512-BF16 or AMX-BF16 (the CPUs where bf16 runs).
    static var cpuHasBF16: Bool {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        return info.contains(" avx512_bf16") || info.contains(" amx_bf16")
    }

    @Test(arguments: ["onednn", "reference"]) func benchStepNamesItsKernels(kernels: String) throws {
        let r = try Launcher.run(["bench", "step", "--json", "--steps", "2", "--warmup", "1", "--batch-size", "32",
                                  "--kernels", kernels], ranks: 2)
        #expect(r.status == 0, "\(r.stderr)")
        let j = Launcher.json(r.lines.last ?? "")
        #expect(j["kernels"] as? String == kernels)
        #expect(j["precision"] as? String == "fp32")
        #expect((j["images_per_s"] as? Double ?? 0) > 0)
        #expect(j["hidden_fraction"] is Double)
        let peak = j["fma_peak_gflops"] as? Double ?? 0, fraction = j["fraction_of_fma_peak"] as? Double ?? -1
        // Ratios of measured rates: present and positive (their size depends on the build and the machine).
        #expect(peak > 0 && fraction > 0, "peak \(peak), fraction \(fraction)")
        #expect((j["peak_rss_bytes"] as? Int ?? 0) > 1 << 20)
        let e = try Launcher.run(["bench", "extract", "--json", "--steps", "1", "--batch-size", "16", "--kernels", kernels])
        #expect(e.status == 0, "\(e.stderr)")
        #expect(Launcher.json(e.lines.last ?? "")["kernels"] as? String == kernels)
    }

    @Test func bothBackendsTrain() throws {
        for kernels in ["onednn", "reference"] {
            let r = try Launcher.run(["train", "--limit", "300", "--epochs", "1", "--clusters", "5", "--batch-size", "50",
                                      "--kernels", kernels], ranks: 2, timeout: 300)
            #expect(r.status == 0, "\(kernels): \(r.stderr)")
            #expect(!r.stdout.contains("runs on the reference kernels"), "\(kernels) fell back: \(r.stdout)")
        }
    }

    @Test(arguments: [1, 3]) func bf16WhereTheCPUCannotIsOneLine(ranks: Int) throws {
        let r = try Launcher.run(["bench", "step", "--json", "--steps", "1", "--warmup", "0", "--batch-size", "24",
                                  "--precision", "bf16"], ranks: ranks)
        if Self.cpuHasBF16 {
            #expect(r.status == 0, "\(r.stderr)")
            #expect(Launcher.json(r.lines.last ?? "")["precision"] as? String == "bf16")
        } else {
            #expect(r.status == 2)
            let ours = r.stderr.split(separator: "\n").filter { $0.hasPrefix("deepcluster:") }
            #expect(ours.count == 1 && ours[0].contains("AVX512-BF16"), "\(r.stderr)")
            Thread.sleep(forTimeInterval: 0.5)
            #expect(Launcher.liveProcesses().isEmpty, "left running: \(Launcher.liveProcesses())")
        }
        let bad = try Launcher.run(["train", "--kernels", "cudnn"])
        #expect(bad.status != 0 && bad.stderr.contains("--kernels"))
    }
}
}
