namespace Porthole.Server.Relay;

/// <summary>Log messages of the relay. Session ids are logged; keys never are.</summary>
internal static partial class RelayLog
{
    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "Session {SessionId} opened by {User} to {Device}/{Endpoint}")]
    public static partial void Opened(ILogger logger, string sessionId, string user, string device, string endpoint);

    [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "Session {SessionId} ended: {ClientBytes} bytes up, {AgentBytes} bytes down, {Reason} ({Relay} relay)")]
    public static partial void Ended(ILogger logger, string sessionId, long clientBytes, long agentBytes, string reason, string relay);

    [LoggerMessage(EventId = 202, Level = LogLevel.Information, Message = "Session {SessionId} could not open: {Reason}")]
    public static partial void OpenFailed(ILogger logger, string sessionId, string reason);

    [LoggerMessage(EventId = 203, Level = LogLevel.Warning, Message = "Session {SessionId} expired: the client did not attach in time")]
    public static partial void Expired(ILogger logger, string sessionId);
}
