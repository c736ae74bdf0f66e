namespace Porthole.Protocol.Api;

/// <summary>Body of <c>POST /api/v1/web-sessions</c>: the http or https endpoint (device and endpoint, name or id) to open.</summary>
public sealed record CreateWebSessionRequest(string Device, string Endpoint);

/// <summary>
/// A started web session. <see cref="Url"/> opens it in a browser: it carries a single-use ticket valid until
/// <see cref="TicketExpiresAt"/>, so it must not be stored or shared. <see cref="Origin"/> is the session's own origin.
/// </summary>
public sealed record WebSessionResponse(string Id, string Url, string Origin, DateTimeOffset TicketExpiresAt);

/// <summary>One request through a web session, as <c>GET /api/v1/web-sessions/{id}/requests</c> lists it (path without query string).</summary>
public sealed record WebRequestDto(long Id, DateTimeOffset At, string Method, string Path, int Status, long BytesIn, long BytesOut, int DurationMs);
