namespace Porthole.Server.Transport;

/// <summary>The values of <c>Porthole:Transport</c>.</summary>
public enum ServerTransport
{
    /// <summary>Kestrel's socket transport, with its HTTPS layer for https:// addresses.</summary>
    Kestrel,

    /// <summary>Porthole's own transport (<see cref="PortholeTransportFactory"/>), TLS included.</summary>
    Porthole,
}
