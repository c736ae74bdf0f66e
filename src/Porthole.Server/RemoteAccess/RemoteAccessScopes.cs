namespace Porthole.Server.RemoteAccess;

/// <summary>The scopes a remote-access rule can have, from the broadest to the narrowest.</summary>
public static class RemoteAccessScopes
{
    public const string Global = "global";
    public const string Group = "group";
    public const string Tag = "tag";
    public const string Device = "device";

    public static readonly IReadOnlyList<string> All = [Global, Group, Tag, Device];
}
