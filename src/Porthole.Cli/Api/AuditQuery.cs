using System.Globalization;
using System.Text;

namespace Porthole.Cli.Api;

/// <summary>The filters of <c>GET /api/v1/audit</c> and <c>/audit/export</c>; absent ones are not sent.</summary>
public sealed record AuditQuery(DateTimeOffset? From, DateTimeOffset? To, string? User, string? Device, string? Action, string? Outcome)
{
    /// <summary>The query string (with its leading '?', or empty) for these filters and <paramref name="extra"/> pairs.</summary>
    public string ToQueryString(params (string Name, string? Value)[] extra)
    {
        (string Name, string? Value)[] pairs =
        [
            ("from", From?.ToString("O", CultureInfo.InvariantCulture)),
            ("to", To?.ToString("O", CultureInfo.InvariantCulture)),
            ("user", User),
            ("device", Device),
            ("action", Action),
            ("outcome", Outcome),
            .. extra,
        ];
        var query = new StringBuilder();
        foreach (var (name, value) in pairs.Where(p => p.Value is not null))
        {
            query.Append(query.Length == 0 ? '?' : '&').Append(name).Append('=').Append(Uri.EscapeDataString(value!));
        }

        return query.ToString();
    }
}
