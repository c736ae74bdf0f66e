namespace Porthole.Protocol.Api;

/// <summary>Body of <c>POST /api/v1/auth/login</c>.</summary>
public sealed record LoginRequest(string Username, string Password, string? TokenName = null);

/// <summary>A new API token. The secret is shown once; the server keeps only its hash.</summary>
public sealed record LoginResponse(string Token, string TokenId, string Username, DateTimeOffset? ExpiresAt);

/// <summary>Answer of <c>GET /api/v1/auth/me</c>.</summary>
public sealed record WhoAmIResponse(string Username, string TokenId);
