using Microsoft.Extensions.Logging;

namespace Porthole.Agent;

/// <summary>The agent's log messages. Credentials, session keys and tokens are never logged.</summary>
internal static partial class AgentLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Connected to {Server} as device {DeviceName} (protocol v{Version}, remote access {RemoteAccess})")]
    public static partial void Connected(ILogger logger, string server, string deviceName, int version, string remoteAccess);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Control channel lost: {Reason}; reconnecting in {Delay}")]
    public static partial void Disconnected(ILogger logger, string reason, TimeSpan delay);

    [LoggerMessage(EventId = 3, Level = LogLevel.Critical, Message = "The server rejected this device's credential (HTTP {Status}): the device was removed or re-enrolled. Not retrying; enrol again with 'porthole-agent enrol'.")]
    public static partial void CredentialRejected(ILogger logger, int status);

    [LoggerMessage(EventId = 4, Level = LogLevel.Critical, Message = "The server refused this agent: {Reason}. Not retrying.")]
    public static partial void Refused(ILogger logger, string reason);

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Session {SessionId}: connected to {Host}:{Port}")]
    public static partial void SessionStarted(ILogger logger, string sessionId, string host, int port);

    [LoggerMessage(EventId = 14, Level = LogLevel.Information, Message = "Session {SessionId}: connected to {Host}:{Port}, carried as stream {StreamId}")]
    public static partial void StreamSessionStarted(ILogger logger, string sessionId, string host, int port, uint streamId);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "Session {SessionId}: ended ({Up} bytes to target, {Down} bytes from target){Failure}")]
    public static partial void SessionEnded(ILogger logger, string sessionId, long up, long down, string failure);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "Session {SessionId}: cannot open {Host}:{Port}: {Reason} ({Message})")]
    public static partial void SessionFailed(ILogger logger, string sessionId, string host, int port, string reason, string message);

    [LoggerMessage(EventId = 13, Level = LogLevel.Warning, Message = "Session {SessionId}: refused, remote access is disabled on this agent")]
    public static partial void SessionRefusedDisabled(ILogger logger, string sessionId);

    [LoggerMessage(EventId = 15, Level = LogLevel.Warning, Message = "Remote access {State} on this gateway by its kill switch ({MarkerPath}); open sessions end when it is disabled")]
    public static partial void SwitchMoved(ILogger logger, string state, string markerPath);

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Streams connection open: sessions travel on it")]
    public static partial void StreamsConnected(ILogger logger);

    [LoggerMessage(EventId = 21, Level = LogLevel.Information, Message = "Streams connection closed: {Reason}; the next session opens it again")]
    public static partial void StreamsClosed(ILogger logger, string reason);

    [LoggerMessage(EventId = 23, Level = LogLevel.Warning, Message = "Streams connection failed: {Reason}; sessions use a connection each, and the next try waits {Delay}")]
    public static partial void StreamsFailed(ILogger logger, string reason, TimeSpan delay);

    [LoggerMessage(EventId = 22, Level = LogLevel.Information, Message = "The server takes no streams connection; each session opens a connection of its own")]
    public static partial void StreamsNotOffered(ILogger logger);
}
