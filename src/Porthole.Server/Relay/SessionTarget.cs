namespace Porthole.Server.Relay;

/// <summary>
/// What a session connects to and on whose behalf; fixed when the session is opened. <see cref="WebSessionId"/> is set
/// for the pooled connections of a web session (listed and limited as that one web session).
/// </summary>
public sealed record SessionTarget(
    string DeviceId,
    string DeviceName,
    string EndpointId,
    string EndpointName,
    string Host,
    int Port,
    string UserId,
    string Username,
    string Protocol,
    string Action,
    string? ClientAddress,
    string? WebSessionId = null);
