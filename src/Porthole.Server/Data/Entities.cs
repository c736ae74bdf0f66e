namespace Porthole.Server.Data;

/// <summary>A person who signs in to the console or the CLI.</summary>
public sealed class User
{
    public required string Id { get; init; }
    public required string Username { get; set; }
    public required string PasswordHash { get; set; }

    /// <summary>Built-in role name; the access-control model refines this into grants.</summary>
    public required string Role { get; set; }
    public bool Disabled { get; set; }
    public bool MustChangePassword { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>A revocable API token of a user. Only the SHA-256 of the secret is stored.</summary>
public sealed class ApiToken
{
    public required string Id { get; init; }
    public required string UserId { get; init; }
    public User? User { get; init; }
    public required string Name { get; set; }
    public required string SecretHash { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? ExpiresAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}

/// <summary>A node of the device group tree.</summary>
public sealed class DeviceGroup
{
    public required string Id { get; init; }
    public required string Name { get; set; }
    public string? ParentId { get; set; }
}

/// <summary>A registered gateway.</summary>
public sealed class Device
{
    public required string Id { get; init; }
    public required string Name { get; set; }
    public string? GroupId { get; set; }
    public DeviceGroup? Group { get; set; }
    public List<DeviceTag> Tags { get; init; } = [];
    public List<DeviceEndpoint> Endpoints { get; init; } = [];
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>SHA-256 of the one-time enrolment token; cleared once used.</summary>
    public string? EnrolmentTokenHash { get; set; }
    public DateTimeOffset? EnrolmentExpiresAt { get; set; }

    /// <summary>SHA-256 of the long-lived device credential; <c>null</c> until enrolled or after revocation.</summary>
    public string? CredentialHash { get; set; }
    public DateTimeOffset? EnrolledAt { get; set; }
    public DateTimeOffset? LastSeenAt { get; set; }
    public string? AgentVersion { get; set; }
    public string? AgentHostname { get; set; }

    /// <summary>What the agent last reported about its local kill switch.</summary>
    public bool AgentRemoteAccessEnabled { get; set; } = true;

    /// <summary>The server-side switch for this device (refined per group and tag by the access-control model).</summary>
    public bool RemoteAccessEnabled { get; set; } = true;
}

/// <summary>A tag on a device.</summary>
public sealed class DeviceTag
{
    public required string DeviceId { get; init; }
    public required string Tag { get; init; }
}

/// <summary>A service on the gateway's network, addressed as the gateway sees it.</summary>
public sealed class DeviceEndpoint
{
    public required string Id { get; init; }
    public required string DeviceId { get; init; }
    public Device? Device { get; init; }
    public required string Name { get; set; }
    public required string Host { get; set; }
    public int Port { get; set; }
    public required string Protocol { get; set; }
    public string? Description { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>One line of the audit log.</summary>
public sealed class AuditEntry
{
    public long Id { get; init; }
    public DateTimeOffset At { get; init; }
    public required string Actor { get; init; }
    public required string Action { get; init; }
    public string? Target { get; init; }
    public required string Outcome { get; init; }
    public string? Detail { get; init; }
}
