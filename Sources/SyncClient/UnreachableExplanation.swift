import AsyncHTTPClient
import Foundation
import NIOCore

/// Why head office could not be reached, in words a store manager can act on: what happened at which
/// address and what to check. The library's own text (`connection reset (error set): Connection
/// refused) (errno: 111)`) says neither.
enum UnreachableExplanation {
    static func describe(_ error: any Error, url: URL, timeoutSeconds: Int64) -> String {
        let host = url.host ?? "?"
        let address = url.port.map { "\(host):\($0)" } ?? host
        let text = String(describing: error)
        if text.contains("Connection refused") || text.contains("errno: 111") {
            return "nothing answers at \(address) (connection refused): is loyalty-hq running there, and is hq.url right?"
        }
        if text.contains("Connection reset by peer") || text.contains("errno: 104") || text.contains("remoteConnectionClosed") {
            return "\(address) closed the connection before answering (head office restarting?): the batch is sent again"
        }
        if let error = error as? HTTPClientError,
            [.deadlineExceeded, .connectTimeout, .readTimeout, .writeTimeout].contains(error)
        {
            return "no answer from \(address) within \(timeoutSeconds) s: check the store's network and hq.url"
        }
        if text.contains("NXDOMAIN") || text.contains("resolve") || text.contains("Name or service not known")
            || text.contains("nodename nor servname")
        {
            return "the name \(host) is not found: check hq.url and the box's DNS"
        }
        if text.contains("NIOSSL") || text.contains("TLS") || text.contains("certificate") {
            return "TLS with \(address) failed (\(text)): check hq.ca_file and that the certificate names \(host)"
        }
        if text.contains("Network is unreachable") || text.contains("errno: 101") || text.contains("No route to host")
            || text.contains("errno: 113")
        {
            return "no route to \(address) (the store's network is down?): the till keeps selling offline"
        }
        return "\(address): \(text)"
    }
}
