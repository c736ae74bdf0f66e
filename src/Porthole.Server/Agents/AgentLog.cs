namespace Porthole.Server.Agents;

/// <summary>Log messages of the agent-facing endpoints.</summary>
internal static partial class AgentLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Agent of device {DeviceName} connected (agent {AgentVersion}, protocol v{Version}, remote access {RemoteAccess})")]
    public static partial void Connected(ILogger logger, string deviceName, string agentVersion, int version, string remoteAccess);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Agent of device {DeviceName} disconnected: {Reason}")]
    public static partial void Disconnected(ILogger logger, string deviceName, string reason);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "Agent of device {DeviceName} refused: {Reason}")]
    public static partial void Refused(ILogger logger, string deviceName, string reason);

    [LoggerMessage(EventId = 103, Level = LogLevel.Warning, Message = "Agent of device {DeviceName} sent a bad control message: {Reason}")]
    public static partial void BadMessage(ILogger logger, string deviceName, string reason);

    [LoggerMessage(EventId = 104, Level = LogLevel.Information, Message = "Agent of device {DeviceName} opened its streams connection")]
    public static partial void StreamsConnected(ILogger logger, string deviceName);

    [LoggerMessage(EventId = 105, Level = LogLevel.Information, Message = "Streams connection of device {DeviceName} ended: {Reason}")]
    public static partial void StreamsDisconnected(ILogger logger, string deviceName, string reason);
}
