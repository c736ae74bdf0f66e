using Microsoft.AspNetCore.Connections.Features;

namespace Porthole.Server.Http;

/// <summary>Small helpers over <see cref="HttpContext"/>.</summary>
public static class HttpContextExtensions
{
    /// <summary>The client's address for the audit log.</summary>
    public static string? ClientAddress(this HttpContext context) => context.Connection.RemoteIpAddress?.ToString();

    /// <summary>
    /// Whether this is the first request on its connection to ask with <paramref name="marker"/> (kept in the connection's
    /// items); always true where Kestrel offers no connection items. For work that belongs to the connection.
    /// </summary>
    public static bool FirstOnConnection(this HttpContext context, object marker)
    {
        var items = context.Features.Get<IConnectionItemsFeature>()?.Items;
        return items is null || items.TryAdd(marker, marker);
    }
}
