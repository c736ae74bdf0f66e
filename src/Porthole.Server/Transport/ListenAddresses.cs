using System.Net;

namespace Porthole.Server.Transport;

/// <summary>Turns <c>--urls</c> into <see cref="PortholeEndPoint"/>s, with the host forms Kestrel accepts.</summary>
public static class ListenAddresses
{
    /// <exception cref="InvalidOperationException">A URL is not http(s)://host:port with an IP address, <c>localhost</c> or a wildcard.</exception>
    public static IReadOnlyList<PortholeEndPoint> Parse(string urls)
    {
        var endpoints = new List<PortholeEndPoint>();
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var address = BindingAddress.Parse(url);
            var tls = address.Scheme switch
            {
                "https" => true,
                "http" => false,
                _ => throw new InvalidOperationException($"'{url}': Porthole's own transport listens on http:// and https:// URLs only"),
            };
            if (address.Port < 0 || address.Port > IPEndPoint.MaxPort || (address.PathBase.Length > 0 && address.PathBase != "/"))
            {
                throw new InvalidOperationException($"'{url}' is not a URL the server can listen on (scheme://host:port)");
            }

            foreach (var ip in Addresses(address.Host, url))
            {
                endpoints.Add(new PortholeEndPoint(new IPEndPoint(ip, address.Port), tls));
            }
        }

        return endpoints;
    }

    private static IEnumerable<IPAddress> Addresses(string host, string url)
    {
        if (host is "*" or "+" or "[::]" or "::")
        {
            return [IPAddress.IPv6Any];
        }

        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return [IPAddress.Loopback];
        }

        if (IPAddress.TryParse(host.Trim('[', ']'), out var ip))
        {
            return [ip];
        }

        throw new InvalidOperationException($"'{url}': Porthole's own transport listens on an IP address, localhost or * (not a host name)");
    }
}
