namespace Porthole.Server.Identity;

/// <summary>The built-in roles and the permissions each grants.</summary>
public static class BuiltInRoles
{
    public const string Administrator = "Administrator";
    public const string Operator = "Operator";
    public const string Technician = "Technician";
    public const string Auditor = "Auditor";

    public static IReadOnlyList<string> Names { get; } = [Administrator, Operator, Technician, Auditor];

    /// <summary>Stable ids, so grants survive a rename and seeding is idempotent.</summary>
    public static string IdOf(string role) => "builtin-" + role.ToLowerInvariant();

    public static IReadOnlyList<string> PermissionsOf(string role) => role switch
    {
        Administrator => Permissions.All,
        Operator => [Permissions.DevicesRead, Permissions.RemoteAccessRead, Permissions.RemoteAccessConnect, Permissions.RemoteAccessConfigure],
        Technician => [Permissions.DevicesRead, Permissions.RemoteAccessRead, Permissions.RemoteAccessConnect],
        Auditor => [Permissions.DevicesRead, Permissions.RemoteAccessRead, Permissions.AuditRead],
        _ => [],
    };

    public static string DescriptionOf(string role) => role switch
    {
        Administrator => "Everything, including users, roles and the audit log",
        Operator => "See devices, configure endpoints and remote-access settings, connect",
        Technician => "See devices and endpoints, connect",
        Auditor => "See devices and endpoints, read the audit log",
        _ => "",
    };
}
