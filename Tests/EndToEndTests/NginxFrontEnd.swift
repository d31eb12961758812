import Foundation
import TestSupport
import Testing

/// Debian's nginx running the shipped `deploy/nginx/loyalty-hq.conf` (its placeholders filled in) in a
/// private prefix on a loopback port, in front of head-office processes. Stopped by ``stop()``.
final class NginxFrontEnd {
    let port: Int
    private let server: SyncChaosTests.Background

    init(upstreams: [Int], certificate: String, key: String, folder: TemporaryFolder) throws {
        try #require(upstreams.count == 2, "the shipped configuration names two head-office processes")
        let prefix = folder.file("nginx")
        for temporary in ["", "/body", "/proxy"] {
            try FileManager.default.createDirectory(atPath: prefix + temporary, withIntermediateDirectories: true)
        }
        port = SyncChaosTests.freePort()
        let template = try String(
            contentsOf: SyncChaosTests.packageRoot.appendingPathComponent("deploy/nginx/loyalty-hq.conf"), encoding: .utf8)
        let site = template.replacingOccurrences(of: "@UPSTREAM_1@", with: "127.0.0.1:\(upstreams[0])")
            .replacingOccurrences(of: "@UPSTREAM_2@", with: "127.0.0.1:\(upstreams[1])")
            .replacingOccurrences(of: "@LISTEN@", with: "127.0.0.1:\(port)")
            .replacingOccurrences(of: "@SERVER_NAME@", with: "hq.example.test")
            .replacingOccurrences(of: "@CERTIFICATE@", with: certificate)
            .replacingOccurrences(of: "@CERTIFICATE_KEY@", with: key)
        try #require(site.firstMatch(of: /@[A-Z0-9_]+@/) == nil, "every placeholder of deploy/nginx/loyalty-hq.conf is filled in")
        try site.write(toFile: "\(prefix)/loyalty-hq.conf", atomically: true, encoding: .utf8)
        // The workers run as this user (root in CI: nginx would otherwise switch to `nobody`, who cannot
        // read the test's folders).
        let user = getuid() == 0 ? "user root;\n" : ""
        let main = """
            \(user)daemon off;
            worker_processes 1;
            pid \(prefix)/nginx.pid;
            error_log \(prefix)/error.log warn;
            events { worker_connections 1024; }
            http {
                access_log off;
                client_body_temp_path \(prefix)/body;
                proxy_temp_path \(prefix)/proxy;
                include \(prefix)/loyalty-hq.conf;
            }
            """
        try main.write(toFile: "\(prefix)/nginx.conf", atomically: true, encoding: .utf8)
        server = try SyncChaosTests.Background(
            "/usr/sbin/nginx", ["-p", prefix, "-e", "\(prefix)/error.log", "-c", "\(prefix)/nginx.conf"],
            output: folder.file("nginx.out"))
        // Ready when it accepts connections on its port.
        let deadline = Date().addingTimeInterval(20)
        while !Self.accepts(port: port) {
            let log = (try? String(contentsOfFile: "\(prefix)/error.log", encoding: .utf8)) ?? ""
            try #require(server.process.isRunning && Date() < deadline, "nginx did not start: \(log)")
            usleep(50_000)
        }
    }

    func stop() { server.stop() }

    static func accepts(port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
