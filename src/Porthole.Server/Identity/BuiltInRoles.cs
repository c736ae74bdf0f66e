namespace Porthole.Server.Identity;

/// <summary>The built-in roles and the permissions each grants.</summary>
public static class BuiltInRoles
{
    public const string Administrator = "Administrator";
    public const string Operator = "Operator";
    public const string Technician = "Technician";
    public const string Auditor = "Auditor";

    public static IReadOnlyList<string> PermissionsOf(string role) => role switch
    {
        Administrator => Permissions.All,
        Operator => [Permissions.DevicesRead, Permissions.RemoteAccessRead, Permissions.RemoteAccessConnect, Permissions.RemoteAccessConfigure],
        Technician => [Permissions.DevicesRead, Permissions.RemoteAccessRead, Permissions.RemoteAccessConnect],
        Auditor => [Permissions.DevicesRead, Permissions.RemoteAccessRead, Permissions.AuditRead],
        _ => [],
    };
}
