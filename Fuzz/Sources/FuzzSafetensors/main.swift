import FuzzDriver
import DeepCluster
import Foundation

/// The checkpoint's safetensors reader: header length, JSON header, dtypes, shapes and offsets.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    _ = try? Safetensors.decode(Data(bytes: data, count: size), path: "fuzz")
    return 0
}

runFuzzer(fuzz)
