namespace Porthole.Protocol.Api;

/// <summary>Body of <c>POST /api/v1/auth/login</c>.</summary>
public sealed record LoginRequest(string Username, string Password, string? TokenName = null);

/// <summary>A new API token. The secret is shown once; the server keeps only its hash.</summary>
public sealed record LoginResponse(string Token, string TokenId, string Username, DateTimeOffset? ExpiresAt);

/// <summary>Answer of <c>GET /api/v1/auth/me</c>: who, with which token, holding which permissions (somewhere).</summary>
public sealed record WhoAmIResponse(string Username, string TokenId, IReadOnlyList<string> Permissions);

/// <summary>Body of <c>POST /api/v1/auth/password</c>.</summary>
public sealed record ChangePasswordRequest(string Username, string CurrentPassword, string NewPassword);

/// <summary>Body of <c>POST /api/v1/tokens</c>: a named token, optionally limited to some permissions and a lifetime.</summary>
public sealed record CreateTokenRequest(string Name, IReadOnlyList<string>? Scopes = null, int? ExpiresInDays = null);

/// <summary>An API token as listed; the secret is only in <see cref="CreateTokenResponse"/>.</summary>
public sealed record TokenDto(string Id, string Name, IReadOnlyList<string>? Scopes, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt, bool Current);

/// <summary>A new API token; the secret is shown once.</summary>
public sealed record CreateTokenResponse(string Token, TokenDto Details);
