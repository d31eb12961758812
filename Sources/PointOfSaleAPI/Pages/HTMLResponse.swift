import HTMLRendering
import Hummingbird
import NIOCore

extension HTML {
    /// A rendered page as a response: never cached (the figures change with every sale).
    static func response(_ html: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }
}
