namespace Porthole.Server.Identity;

/// <summary>
/// Permission names. Each is also the name of an authorization policy, and every API route declares one
/// (a test enumerates the routes and fails on any without a policy).
/// </summary>
public static class Permissions
{
    public const string DevicesRead = "devices:read";
    public const string DevicesManage = "devices:manage";
    public const string RemoteAccessRead = "remote-access:read";
    public const string RemoteAccessConnect = "remote-access:connect";
    public const string RemoteAccessConfigure = "remote-access:configure";
    public const string UsersManage = "users:manage";
    public const string AuditRead = "audit:read";
    public const string SessionsManage = "sessions:manage";

    /// <summary>Policy of the agent-facing routes: the caller is an enrolled device.</summary>
    public const string Agent = "agent";

    /// <summary>Policy of routes any signed-in user may call (who am I, log out).</summary>
    public const string Authenticated = "authenticated";

    public static readonly IReadOnlyList<string> All =
        [DevicesRead, DevicesManage, RemoteAccessRead, RemoteAccessConnect, RemoteAccessConfigure, UsersManage, AuditRead, SessionsManage];

    /// <summary>The claim type that carries one permission of the signed-in user.</summary>
    public const string ClaimType = "porthole:permission";
}
