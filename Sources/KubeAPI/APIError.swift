/// A failed API request, in one line for the log.
public enum APIError: Error, CustomStringConvertible, Sendable {
    /// The server answered with a non-success status (a `Status` object's
    /// reason and message when it sent one).
    case status(code: Int, message: String)
    /// 429 Too Many Requests (or 503) with `Retry-After`: how long the server asks us to wait.
    case throttled(code: Int, message: String, retryAfter: Duration)
    /// No answer: connection refused, reset, TLS failure, timeout.
    case transport(String)
    /// The server sent something that is not what the protocol says.
    case protocolViolation(String)
    /// A watch stream sent nothing for longer than allowed.
    case silent(seconds: Int)

    /// 410 Gone: the resourceVersion asked for is no longer in the
    /// server's history; only a new list recovers (client-go's reflector).
    public var isGone: Bool {
        if case .status(410, _) = self { return true }
        return false
    }

    /// 404: the server does not serve this resource.
    public var isNotFound: Bool {
        if case .status(404, _) = self { return true }
        return false
    }

    /// The server's `Retry-After`, when it sent one.
    public var retryAfter: Duration? {
        if case .throttled(_, _, let retryAfter) = self { return retryAfter }
        return nil
    }

    public var description: String {
        switch self {
        case .status(let code, let message): return "HTTP \(code)\(message.isEmpty ? "" : ": \(message)")"
        case .throttled(let code, let message, let retryAfter):
            return "HTTP \(code)\(message.isEmpty ? "" : ": \(message)") (retry after \(retryAfter))"
        case .transport(let reason): return reason
        case .protocolViolation(let reason): return "unexpected answer: \(reason)"
        case .silent(let seconds): return "watch silent for \(seconds) s"
        }
    }
}
