namespace Porthole.Protocol.Api;

/// <summary>Body of <c>POST /api/v1/devices</c>.</summary>
public sealed record CreateDeviceRequest(string Name, string? Group = null, IReadOnlyList<string>? Tags = null);

/// <summary>A registered device and its one-time enrolment token.</summary>
public sealed record CreateDeviceResponse(string Id, string Name, string EnrolmentToken, DateTimeOffset EnrolmentExpiresAt);

/// <summary>Body of <c>PATCH /api/v1/devices/{device}</c>; absent fields keep their value, an empty group moves the device to no group.</summary>
public sealed record UpdateDeviceRequest(string? Name = null, string? Group = null, IReadOnlyList<string>? Tags = null);

/// <summary>A device as the API shows it. <see cref="Group"/> is a path such as <c>plant-1/line-a</c>.</summary>
public sealed record DeviceDto(
    string Id,
    string Name,
    string? Group,
    IReadOnlyList<string> Tags,
    bool Online,
    DateTimeOffset? LastSeenAt,
    string? AgentVersion,
    bool Enrolled,
    bool RemoteAccessEnabled,
    string RemoteAccessSource,
    DateTimeOffset CreatedAt);

/// <summary>Body of <c>POST /api/v1/agent/enrol</c>.</summary>
public sealed record EnrolRequest(string Token, string? AgentVersion = null, string? Hostname = null);

/// <summary>The long-lived device credential, returned once.</summary>
public sealed record EnrolResponse(string DeviceId, string DeviceName, string Credential);
