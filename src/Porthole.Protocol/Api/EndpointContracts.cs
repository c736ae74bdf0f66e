namespace Porthole.Protocol.Api;

/// <summary>Body of <c>POST /api/v1/devices/{device}/endpoints</c>. Host and port are as seen from the gateway.</summary>
public sealed record CreateEndpointRequest(string Name, string Host, int Port, string Protocol, string? Description = null);

/// <summary>Body of <c>PATCH /api/v1/devices/{device}/endpoints/{endpoint}</c>; absent fields keep their value.</summary>
public sealed record UpdateEndpointRequest(string? Name = null, string? Host = null, int? Port = null, string? Protocol = null, string? Description = null);

/// <summary>An endpoint as the API shows it.</summary>
public sealed record EndpointDto(string Id, string DeviceId, string DeviceName, string Name, string Host, int Port, string Protocol, string? Description);

/// <summary>The protocols an endpoint may declare.</summary>
public static class EndpointProtocols
{
    public static readonly IReadOnlyList<string> All = ["vnc", "ssh", "telnet", "http", "https", "tcp"];

    public static bool IsKnown(string? protocol) => protocol is not null && All.Contains(protocol);
}
