namespace Porthole.Protocol.Api;

/// <summary>A role given to a user, with the devices and actions it is limited to (empty: no limit).</summary>
public sealed record GrantDto(string Id, string Role, IReadOnlyList<string> Groups, IReadOnlyList<string> Tags, IReadOnlyList<string> Devices, IReadOnlyList<string> Actions);

/// <summary>A user as the API shows it.</summary>
public sealed record UserDto(string Id, string Username, bool Disabled, bool MustChangePassword, DateTimeOffset CreatedAt, IReadOnlyList<GrantDto> Grants);

/// <summary>Body of <c>POST /api/v1/users</c>. Without a password one is generated, returned once, and must be changed at first login.</summary>
public sealed record CreateUserRequest(string Username, string? Password = null, IReadOnlyList<string>? Roles = null);

/// <summary>A new user, with the generated password when none was given.</summary>
public sealed record CreateUserResponse(UserDto User, string? GeneratedPassword);

/// <summary>Body of <c>PATCH /api/v1/users/{user}</c>. A new password set by an administrator must be changed at next login.</summary>
public sealed record UpdateUserRequest(bool? Disabled = null, string? Password = null);

/// <summary>Body of <c>POST /api/v1/users/{user}/grants</c>: groups by path, devices by name or id.</summary>
public sealed record AddGrantRequest(string Role, IReadOnlyList<string>? Groups = null, IReadOnlyList<string>? Tags = null, IReadOnlyList<string>? Devices = null, IReadOnlyList<string>? Actions = null);

/// <summary>A role as the API shows it.</summary>
public sealed record RoleDto(string Id, string Name, string? Description, bool BuiltIn, IReadOnlyList<string> Permissions);

/// <summary>Body of <c>POST /api/v1/roles</c>.</summary>
public sealed record CreateRoleRequest(string Name, IReadOnlyList<string> Permissions, string? Description = null);

/// <summary>Body of <c>PATCH /api/v1/roles/{role}</c>.</summary>
public sealed record UpdateRoleRequest(IReadOnlyList<string>? Permissions = null, string? Description = null);

/// <summary>A device group; <see cref="Path"/> is its address, e.g. <c>plant-1/line-a</c>.</summary>
public sealed record GroupDto(string Id, string Name, string Path, string? Parent, int Devices);

/// <summary>Body of <c>POST /api/v1/groups</c>: creates the group and any missing parents.</summary>
public sealed record CreateGroupRequest(string Path);

/// <summary>A remote-access rule. <see cref="Target"/> is a group path, tag or device name; empty for the global rule.</summary>
public sealed record RemoteAccessRuleDto(string Scope, string Target, bool? Enabled, bool Staged, DateTimeOffset UpdatedAt, string UpdatedBy);

/// <summary>Body of <c>PUT /api/v1/remote-access/rules</c>: stages a rule; <c>enabled: null</c> stages its removal.</summary>
public sealed record StageRuleRequest(string Scope, string? Target, bool? Enabled);

/// <summary>What a commit or discard did: the changes applied, and the open sessions a commit ended because their device is now disabled.</summary>
public sealed record CommitResponse(int Applied, int SessionsEnded = 0);

/// <summary>One audit record.</summary>
public sealed record AuditEntryDto(long Sequence, DateTimeOffset At, string Actor, string Action, string? Target, string Outcome, string? Detail, string? ClientAddress, string Hash);

/// <summary>A page of audit records, newest first.</summary>
public sealed record AuditPage(IReadOnlyList<AuditEntryDto> Entries, int Page, int PageSize, int Total);

/// <summary>Result of <c>GET /api/v1/audit/verify</c>.</summary>
public sealed record AuditVerification(bool Intact, long Records, long? BrokenAt, string? Reason);
