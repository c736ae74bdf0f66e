using System.Net;
using System.Net.Sockets;

namespace Porthole.Agent.Sessions;

/// <summary>
/// Which addresses and ports this agent will dial for a session. The check runs on the agent, where the dial
/// happens, against the address the name resolved to — so no spelling of an address (<c>0x7f.1</c>, a decimal
/// integer, <c>::ffff:169.254.169.254</c>) and no DNS answer that changes between check and dial gets past it.
/// Deny rules win over allow rules; with allow rules present, only what they match is allowed.
/// </summary>
public sealed class TargetPolicy
{
    /// <summary>
    /// Denied unless explicitly allowed: link-local (cloud metadata at 169.254.169.254 included), "this network",
    /// multicast and broadcast — nothing a device's service should live on.
    /// </summary>
    public static readonly IReadOnlyList<string> DefaultDenied =
        ["169.254.0.0/16", "fe80::/10", "0.0.0.0/8", "224.0.0.0/4", "ff00::/8", "255.255.255.255/32", "::/128"];

    private readonly List<TargetRule> _allow;
    private readonly List<TargetRule> _deny;

    public TargetPolicy(IEnumerable<TargetRule> allow, IEnumerable<TargetRule> deny)
    {
        _allow = [.. allow];
        _deny = [.. deny];
    }

    /// <summary>The default policy, plus the server's own endpoint, which sessions must never be turned against.</summary>
    public static TargetPolicy CreateDefault(IEnumerable<TargetRule> allow, IEnumerable<TargetRule> deny, IEnumerable<TargetRule> protectedEndpoints) =>
        new(allow, [.. DefaultDenied.Select(d => TargetRule.Parse(d)), .. deny, .. protectedEndpoints]);

    /// <summary><c>null</c> when the address and port may be dialled, else the reason.</summary>
    public string? Check(IPAddress address, int port)
    {
        var normalized = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        if (_deny.FirstOrDefault(rule => rule.Matches(normalized, port)) is { } denied)
        {
            return $"{normalized}:{port} is denied by the agent's target policy ({denied})";
        }

        if (_allow.Count > 0 && !_allow.Any(rule => rule.Matches(normalized, port)))
        {
            return $"{normalized}:{port} is not in the agent's allowed targets";
        }

        return null;
    }
}

/// <summary>A network and optional port range, written <c>10.0.0.0/8</c>, <c>192.168.1.5</c>, <c>10.0.0.0/8:5900-5999</c> or <c>[fe80::]/10:22</c>.</summary>
public sealed record TargetRule(IPNetwork Network, int FirstPort, int LastPort, string Text)
{
    public bool Matches(IPAddress address, int port) =>
        address.AddressFamily == Network.BaseAddress.AddressFamily && Network.Contains(address) && port >= FirstPort && port <= LastPort;

    public override string ToString() => Text;

    /// <summary>Parses a rule; throws <see cref="FormatException"/> with a message that says what is wrong.</summary>
    public static TargetRule Parse(string text)
    {
        var (network, ports) = SplitPorts(text.Trim());
        if (!network.Contains('/', StringComparison.Ordinal))
        {
            network += IPAddress.TryParse(network.Trim('[', ']'), out var single) && single.AddressFamily == AddressFamily.InterNetworkV6 ? "/128" : "/32";
        }

        var cidr = network.Replace("[", "", StringComparison.Ordinal).Replace("]", "", StringComparison.Ordinal);
        if (!IPNetwork.TryParse(cidr, out var parsed))
        {
            throw new FormatException($"'{text}' is not a network: use an address or CIDR, optionally with :PORT or :FIRST-LAST");
        }

        // 10.0.0.1/8 is most likely a typo; say so instead of silently widening it to 10.0.0.0/8.
        if (!IPAddress.Parse(cidr[..cidr.IndexOf('/', StringComparison.Ordinal)]).Equals(parsed.BaseAddress))
        {
            throw new FormatException($"'{text}' has host bits set; did you mean {parsed}?");
        }

        var (first, last) = (1, 65535);
        if (ports is not null)
        {
            var bounds = ports.Split('-');
            if (bounds.Length > 2 || !int.TryParse(bounds[0], out first) || !int.TryParse(bounds[^1], out last) || first < 1 || last > 65535 || first > last)
            {
                throw new FormatException($"'{text}' has a bad port range: use :PORT or :FIRST-LAST within 1-65535");
            }
        }

        return new TargetRule(parsed, first, last, text);
    }

    private static (string Network, string? Ports) SplitPorts(string text)
    {
        // IPv6 networks carry ports only in the bracketed form: [fe80::]/10:22.
        var closing = text.LastIndexOf(']');
        var colon = text.LastIndexOf(':');
        var hasPort = text.StartsWith('[') ? colon > closing : text.Count(c => c == ':') == 1;
        return hasPort ? (text[..colon], text[(colon + 1)..]) : (text, null);
    }
}
