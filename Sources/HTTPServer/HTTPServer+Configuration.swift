extension HTTPServer {
    /// Where to listen and the limits that keep a hostile or broken client from holding the server.
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        /// 0 picks a free port (see `HTTPServer.port`).
        public var port = 7373
        public var limits = HTTPRequestParser.Limits()
        /// Connections served at once; one more is answered 503 with `Retry-After` and closed.
        public var maximumConnections = 256
        /// From the first byte of a request to the end of its head: a client trickling headers is cut off here
        /// however slowly it sends.
        public var headerTimeout = 10.0
        /// From the end of the head to the end of the body.
        public var bodyTimeout = 30.0
        /// How long an idle keep-alive connection is kept.
        public var idleTimeout = 30.0
        /// How long a send may wait for a slow reader.
        public var writeTimeout = 30.0
        /// How long `stop()` lets in-flight requests finish.
        public var shutdownGrace = 10.0
        /// Called after every response (access log, metrics): the request, the status and the seconds it took.
        public var onResponse: (@Sendable (HTTPRequest, Int, Double) -> Void)?

        public init(host: String = "127.0.0.1", port: Int = 7373) {
            self.host = host
            self.port = port
        }
    }
}
