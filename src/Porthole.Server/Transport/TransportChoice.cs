namespace Porthole.Server.Transport;

/// <summary>
/// Which transport the server runs on. <see cref="ServerTransport.Auto"/> takes Porthole's own wherever it can serve
/// what is configured, and Kestrel's otherwise, saying why: the own transport runs on Linux x86-64 only (its
/// <c>epoll_event</c> layout), listens on IP addresses rather than host names, and knows nothing of Kestrel's
/// endpoint configuration (<c>Kestrel:Endpoints</c>: per-endpoint certificates, SNI, client certificates).
/// </summary>
public static class TransportChoice
{
    /// <summary>The transport to run, and why Kestrel's was taken when the setting left the choice open.</summary>
    public static TransportInUse Resolve(ServerTransport setting, string urls, bool kestrelEndpointsConfigured, bool platformSupported)
    {
        if (setting != ServerTransport.Auto)
        {
            return new(setting, null);
        }

        if (!platformSupported)
        {
            return new(ServerTransport.Kestrel, "Porthole's own transport runs on Linux x86-64 only");
        }

        if (kestrelEndpointsConfigured)
        {
            return new(ServerTransport.Kestrel, "Kestrel:Endpoints is configured");
        }

        try
        {
            ListenAddresses.Parse(urls);
        }
        catch (InvalidOperationException ex)
        {
            return new(ServerTransport.Kestrel, ex.Message);
        }

        return new(ServerTransport.Porthole, null);
    }
}

/// <summary>The transport the server runs on, and why Kestrel's when the choice was left open and fell to it.</summary>
public sealed record TransportInUse(ServerTransport Transport, string? FallbackReason)
{
    public override string ToString() => FallbackReason is null ? Transport.ToString() : $"{Transport} ({FallbackReason})";
}
