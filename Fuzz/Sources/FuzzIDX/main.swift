import FuzzDriver
import Datasets

/// IDX headers and bodies (dimensions 1 and 3, as images and labels files).
@_cdecl("LLVMFuzzerTestOneInput")
func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let b = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? IDX.decode(b, dimensions: 3, path: "fuzz")
    _ = try? IDX.decode(b, dimensions: 1, path: "fuzz")
    return 0
}

runFuzzer(fuzz)
