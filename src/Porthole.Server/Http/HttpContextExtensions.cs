namespace Porthole.Server.Http;

/// <summary>Small helpers over <see cref="HttpContext"/>.</summary>
public static class HttpContextExtensions
{
    /// <summary>The client's address for the audit log.</summary>
    public static string? ClientAddress(this HttpContext context) => context.Connection.RemoteIpAddress?.ToString();
}
