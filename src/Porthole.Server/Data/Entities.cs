namespace Porthole.Server.Data;

/// <summary>A person who signs in to the console or the CLI.</summary>
public sealed class User
{
    public required string Id { get; init; }
    public required string Username { get; set; }
    public required string PasswordHash { get; set; }
    public List<RoleGrant> Grants { get; init; } = [];
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

    /// <summary>The permissions this token may use; <c>null</c> means all of its user's.</summary>
    public List<string>? Scopes { get; set; }
}

/// <summary>A named set of permissions.</summary>
public sealed class Role
{
    public required string Id { get; init; }
    public required string Name { get; set; }
    public string? Description { get; set; }
    public bool BuiltIn { get; init; }
    public List<string> Permissions { get; set; } = [];
}

/// <summary>
/// A role given to a user, optionally restricted to device groups (with their subgroups), tags, single devices
/// and actions. Empty lists restrict nothing.
/// </summary>
public sealed class RoleGrant
{
    public required string Id { get; init; }
    public required string UserId { get; init; }
    public required string RoleId { get; init; }
    public Role? Role { get; init; }
    public List<string> GroupIds { get; set; } = [];
    public List<string> Tags { get; set; } = [];
    public List<string> DeviceIds { get; set; } = [];
    public List<string> Actions { get; set; } = [];
}

/// <summary>
/// A remote-access rule at one scope (global, group, tag, device). Staged rules take effect on commit;
/// a staged rule with no value removes the committed rule of its scope.
/// </summary>
public sealed class RemoteAccessRule
{
    public long Id { get; init; }
    public required string Scope { get; init; }

    /// <summary>Group id, tag or device id; empty for the global rule.</summary>
    public required string Target { get; init; }
    public bool? Enabled { get; set; }
    public bool Staged { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public required string UpdatedBy { get; set; }
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

    /// <summary>Kind of the stored credential (see <see cref="Vault.CredentialKinds"/>), or <c>null</c> when none is stored.</summary>
    public string? CredentialKind { get; set; }

    /// <summary>The user name that goes with the credential; not a secret, shown in the API.</summary>
    public string? CredentialUsername { get; set; }

    /// <summary>The secret parts, encrypted with ASP.NET Core Data Protection; never leaves the server.</summary>
    public string? ProtectedSecret { get; set; }
    public DateTimeOffset? CredentialUpdatedAt { get; set; }

    /// <summary>SHA-256 fingerprint of the SSH host key pinned on first use.</summary>
    public string? SshHostKey { get; set; }

    /// <summary>SHA-256 fingerprint of an HTTPS device's TLS certificate, pinned on first use by the web proxy.</summary>
    public string? TlsCertificateSha256 { get; set; }

    /// <summary>The <c>Host</c> header the web proxy sends; <c>null</c> means host:port as the gateway dials it.</summary>
    public string? HostHeader { get; set; }

    /// <summary>Whether the web proxy rewrites absolute links to the device's address in HTML, CSS, JavaScript and JSON.</summary>
    public bool RewriteAbsoluteLinks { get; set; }
}

/// <summary>One request through the web proxy: what was asked and answered, never bodies, query strings or credentials.</summary>
public sealed class WebRequestRecord
{
    public long Id { get; init; }
    public required string SessionId { get; init; }
    public DateTimeOffset At { get; init; }
    public required string Method { get; init; }
    public required string Path { get; init; }
    public int Status { get; init; }
    public long BytesIn { get; init; }
    public long BytesOut { get; init; }
    public int DurationMs { get; init; }
}

/// <summary>One line of the audit log.</summary>
public sealed class AuditEntry
{
    public long Id { get; init; }

    /// <summary>Position in the hash chain, assigned on append: 1, 2, 3… without gaps.</summary>
    public long Sequence { get; set; }
    public DateTimeOffset At { get; init; }
    public required string Actor { get; init; }
    public required string Action { get; init; }
    public string? Target { get; init; }
    public required string Outcome { get; init; }
    public string? Detail { get; init; }

    /// <summary>Address of the client that caused the event, when there was one.</summary>
    public string? ClientAddress { get; init; }

    /// <summary>Hash of the previous record (empty for the first); see <see cref="Audit.AuditChain"/>.</summary>
    public string PreviousHash { get; set; } = "";
    public string Hash { get; set; } = "";
}
