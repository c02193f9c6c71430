/// Why a request could not be parsed: the HTTP status to answer, a stable code and a message. The connection is
/// closed after answering, since the stream can no longer be trusted to be in step.
public struct HTTPParseError: Error, Sendable, Equatable {
    public let status: Int
    public let code: String
    public let message: String

    public init(_ status: Int, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }
}
