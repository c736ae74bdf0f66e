using System.Net.Http.Json;
using Porthole.Protocol.Api;

namespace Porthole.Cli.Api;

/// <summary>Passwords, API tokens, users and roles.</summary>
public sealed partial class PortholeApiClient
{
    /// <summary><c>POST /api/v1/auth/password</c>: needs no token, so a user with a generated password can replace it.</summary>
    public Task ChangePasswordAsync(ChangePasswordRequest request, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "api/v1/auth/password", JsonContent.Create(request, ApiJsonContext.Default.ChangePasswordRequest), cancellationToken);

    /// <summary><c>GET /api/v1/tokens</c>: the caller's own tokens.</summary>
    public Task<List<TokenDto>> ListTokensAsync(CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, "api/v1/tokens", null, ApiJsonContext.Default.ListTokenDto, cancellationToken);

    /// <summary><c>POST /api/v1/tokens</c>.</summary>
    public Task<CreateTokenResponse> CreateTokenAsync(CreateTokenRequest request, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "api/v1/tokens", JsonContent.Create(request, ApiJsonContext.Default.CreateTokenRequest), ApiJsonContext.Default.CreateTokenResponse, cancellationToken);

    /// <summary><c>DELETE /api/v1/tokens/{token}</c> (id or name).</summary>
    public Task RevokeTokenAsync(string token, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Delete, "api/v1/tokens/" + Uri.EscapeDataString(token), null, cancellationToken);

    /// <summary><c>GET /api/v1/users</c>.</summary>
    public Task<List<UserDto>> ListUsersAsync(CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, "api/v1/users", null, ApiJsonContext.Default.ListUserDto, cancellationToken);

    /// <summary><c>GET /api/v1/users/{user}</c>.</summary>
    public Task<UserDto> GetUserAsync(string user, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, UserPath(user), null, ApiJsonContext.Default.UserDto, cancellationToken);

    /// <summary><c>POST /api/v1/users</c>.</summary>
    public Task<CreateUserResponse> CreateUserAsync(CreateUserRequest request, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "api/v1/users", JsonContent.Create(request, ApiJsonContext.Default.CreateUserRequest), ApiJsonContext.Default.CreateUserResponse, cancellationToken);

    /// <summary><c>PATCH /api/v1/users/{user}</c>.</summary>
    public Task<UserDto> UpdateUserAsync(string user, UpdateUserRequest request, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Patch, UserPath(user), JsonContent.Create(request, ApiJsonContext.Default.UpdateUserRequest), ApiJsonContext.Default.UserDto, cancellationToken);

    /// <summary><c>DELETE /api/v1/users/{user}</c>.</summary>
    public Task RemoveUserAsync(string user, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Delete, UserPath(user), null, cancellationToken);

    /// <summary><c>POST /api/v1/users/{user}/grants</c>: answers with the whole user.</summary>
    public Task<UserDto> AddGrantAsync(string user, AddGrantRequest request, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, UserPath(user) + "/grants", JsonContent.Create(request, ApiJsonContext.Default.AddGrantRequest), ApiJsonContext.Default.UserDto, cancellationToken);

    /// <summary><c>DELETE /api/v1/users/{user}/grants/{grant}</c>.</summary>
    public Task RemoveGrantAsync(string user, string grant, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Delete, UserPath(user) + "/grants/" + Uri.EscapeDataString(grant), null, cancellationToken);

    /// <summary><c>GET /api/v1/roles</c>.</summary>
    public Task<List<RoleDto>> ListRolesAsync(CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, "api/v1/roles", null, ApiJsonContext.Default.ListRoleDto, cancellationToken);

    /// <summary><c>POST /api/v1/roles</c>.</summary>
    public Task<RoleDto> CreateRoleAsync(CreateRoleRequest request, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "api/v1/roles", JsonContent.Create(request, ApiJsonContext.Default.CreateRoleRequest), ApiJsonContext.Default.RoleDto, cancellationToken);

    /// <summary><c>PATCH /api/v1/roles/{role}</c>.</summary>
    public Task<RoleDto> UpdateRoleAsync(string role, UpdateRoleRequest request, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Patch, RolePath(role), JsonContent.Create(request, ApiJsonContext.Default.UpdateRoleRequest), ApiJsonContext.Default.RoleDto, cancellationToken);

    /// <summary><c>DELETE /api/v1/roles/{role}</c>.</summary>
    public Task RemoveRoleAsync(string role, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Delete, RolePath(role), null, cancellationToken);

    private static string UserPath(string user) => "api/v1/users/" + Uri.EscapeDataString(user);

    private static string RolePath(string role) => "api/v1/roles/" + Uri.EscapeDataString(role);
}
