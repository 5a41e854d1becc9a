import FuzzDriver
import Datasets

/// .npy headers (dtype, order, shape) and bodies, and the conversions a loader applies to them.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    if let a = try? NPY.decode(Array(UnsafeBufferPointer(start: data, count: size)), path: "fuzz") {
        _ = a.floats; _ = a.int64s
    }
    return 0
}

runFuzzer(fuzz)
