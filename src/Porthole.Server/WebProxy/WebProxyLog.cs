namespace Porthole.Server.WebProxy;

/// <summary>Log messages of the web proxy. Session ids and paths are logged; tickets, cookies and query strings never are.</summary>
internal static partial class WebProxyLog
{
    [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "Web session {SessionId} opened by {User} to {Device}/{Endpoint}")]
    public static partial void Opened(ILogger logger, string sessionId, string user, string device, string endpoint);

    [LoggerMessage(EventId = 301, Level = LogLevel.Information, Message = "Web session {SessionId} ended: {Requests} requests, {BytesIn} bytes up, {BytesOut} bytes down, {Reason}")]
    public static partial void Ended(ILogger logger, string sessionId, long requests, long bytesIn, long bytesOut, string reason);

    [LoggerMessage(EventId = 302, Level = LogLevel.Warning, Message = "Web session {SessionId}: {Method} {Path} failed: {Error}")]
    public static partial void ForwardFailed(ILogger logger, string sessionId, string method, string path, string error);

    [LoggerMessage(EventId = 303, Level = LogLevel.Warning, Message = "Web session {SessionId}: the device's TLS certificate {Offered} does not match the pinned {Pinned}")]
    public static partial void CertificateMismatch(ILogger logger, string sessionId, string offered, string pinned);

    [LoggerMessage(EventId = 304, Level = LogLevel.Warning, Message = "Web request log: {Count} records could not be written")]
    public static partial void AccessLogWriteFailed(ILogger logger, int count, Exception exception);
}
