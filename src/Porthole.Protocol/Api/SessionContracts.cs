namespace Porthole.Protocol.Api;

/// <summary>
/// Body of <c>POST /api/v1/sessions</c>: which device (name or id) and which endpoint (name or id), and what
/// kind of access (<c>tunnel</c> for the CLI's byte tunnel, the default; <c>vnc</c>, <c>terminal</c>, <c>web</c> for the console).
/// </summary>
public sealed record CreateSessionRequest(string Device, string Endpoint, string? Action = null);

/// <summary>
/// An opened session: the agent has already reached the target. The client must open the stream WebSocket
/// at <see cref="StreamPath"/> with <see cref="ClientKey"/> before <see cref="ExpiresAt"/>.
/// </summary>
public sealed record CreateSessionResponse(string SessionId, string StreamPath, string ClientKey, DateTimeOffset ExpiresAt);

/// <summary>A session that is open or being opened, as <c>GET /api/v1/sessions</c> lists it.</summary>
public sealed record ActiveSessionDto(
    string Id, string User, string Device, string Endpoint, string Action, string Protocol, string? ClientAddress, DateTimeOffset OpenedAt, bool Joined);
