import FuzzDriver
import Datasets

/// PNG and JPEG through libpng and libjpeg-turbo (the C shim's error handling included).
@_cdecl("LLVMFuzzerTestOneInput")
func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    if let im = try? ImageCodec.decode(Array(UnsafeBufferPointer(start: data, count: size)), path: "fuzz"),
       im.height * im.width <= 1 << 20 {
        _ = ImageCodec.converted(im, to: im.channels == 1 ? 3 : 1)
    }
    return 0
}

runFuzzer(fuzz)
