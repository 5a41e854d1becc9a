import FuzzDriver
import DeepCluster
import Foundation

/// A checkpoint's state.json and config.json as `--resume` and `--config` decode them.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let d = Data(bytes: data, count: size)
    _ = try? JSONDecoder().decode(Checkpoint.State.self, from: d)
    if let c = try? JSONDecoder().decode(TrainingConfig.self, from: d) { _ = try? c.validate() }
    return 0
}

runFuzzer(fuzz)
