using System.Text.RegularExpressions;

namespace Porthole.Server.WebProxy;

/// <summary>
/// How a device's web server names itself, and how to turn references to it into references to the session
/// origin: <c>Location</c> headers and (when asked) absolute links in bodies.
/// </summary>
public sealed class DeviceAddress
{
    private readonly HashSet<string> _authorities;
    private readonly Regex _absoluteReference;

    /// <param name="scheme"><c>http</c> or <c>https</c>.</param>
    /// <param name="host">The endpoint's host as the gateway dials it.</param>
    /// <param name="port">The endpoint's port.</param>
    /// <param name="hostHeader">The <c>Host</c> the device expects, when it is not host:port.</param>
    public DeviceAddress(string scheme, string host, int port, string? hostHeader)
    {
        Scheme = scheme;
        var bracketed = host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host;
        var defaultPort = port == (scheme == "https" ? 443 : 80);
        HostHeader = string.IsNullOrEmpty(hostHeader) ? (defaultPort ? bracketed : $"{bracketed}:{port}") : hostHeader;
        TlsServerName = HostOnly(HostHeader);

        // Every spelling a device may use for itself; the longest first, so host:port wins over host.
        _authorities = new(StringComparer.OrdinalIgnoreCase) { HostHeader, $"{bracketed}:{port}" };
        if (defaultPort)
        {
            _authorities.Add(bracketed);
        }

        var alternatives = string.Join('|', _authorities.OrderByDescending(a => a.Length).Select(Regex.Escape));

        // A reference ends where the authority ends: not followed by more host characters or a port.
        _absoluteReference = new Regex(
            $@"(?<scheme>(?:https?|wss?):)?(?<slashes>//|\\/\\/)(?:{alternatives})(?![A-Za-z0-9.\-]|:[0-9])",
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(2));
    }

    public string Scheme { get; }

    /// <summary>The <c>Host</c> header sent to the device.</summary>
    public string HostHeader { get; }

    /// <summary>The name sent in TLS SNI to an HTTPS device.</summary>
    public string TlsServerName { get; }

    /// <summary>The device's own origin, e.g. <c>http://192.168.1.20</c>: what its pages expect in <c>Origin</c> and <c>Referer</c>.</summary>
    public string Origin => $"{Scheme}://{HostHeader}";

    /// <summary>Whether an authority (host[:port]) is the device's own.</summary>
    public bool IsOwnAuthority(string authority) => _authorities.Contains(authority);

    /// <summary>
    /// A <c>Location</c> that points at the device itself (absolute or protocol-relative) moved to the session origin;
    /// relative and foreign locations unchanged.
    /// </summary>
    public string RewriteLocation(string location, SessionOrigin origin)
    {
        if (location.StartsWith("//", StringComparison.Ordinal))
        {
            var end = location.IndexOfAny(['/', '?', '#'], 2);
            var authority = end < 0 ? location[2..] : location[2..end];
            return IsOwnAuthority(authority) ? "//" + origin.Authority + (end < 0 ? "" : location[end..]) : location;
        }

        if (Uri.TryCreate(location, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
        {
            var authority = uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port}";
            if (IsOwnAuthority(authority) || IsOwnAuthority(uri.Authority))
            {
                return origin.Value + uri.PathAndQuery + uri.Fragment;
            }
        }

        return location;
    }

    /// <summary>
    /// Replaces absolute references to the device (<c>http://ip:port/…</c>, <c>ws://ip/…</c>, <c>//ip/…</c>, JSON-escaped
    /// too) with the session origin; WebSocket URLs keep being WebSocket URLs, secure when the session origin is.
    /// </summary>
    public string RewriteAbsoluteReferences(string text, SessionOrigin origin) =>
        _absoluteReference.Replace(text, match =>
        {
            var slashes = match.Groups["slashes"].Value;
            var scheme = match.Groups["scheme"];
            var prefix = !scheme.Success ? ""
                : scheme.Value.StartsWith("ws", StringComparison.OrdinalIgnoreCase) ? (origin.IsSecure ? "wss:" : "ws:")
                : origin.Scheme + ":";
            return prefix + slashes + origin.Authority;
        });

    private static string HostOnly(string authority)
    {
        if (authority.StartsWith('['))
        {
            return authority[1..authority.IndexOf(']', StringComparison.Ordinal)];
        }

        var colon = authority.LastIndexOf(':');
        return colon < 0 ? authority : authority[..colon];
    }
}

/// <summary>A web session's own origin, e.g. <c>https://abc….localhost:8443</c>.</summary>
public sealed record SessionOrigin(string Scheme, string Authority)
{
    public string Value => $"{Scheme}://{Authority}";

    public bool IsSecure => Scheme == "https";

    public override string ToString() => Value;
}
