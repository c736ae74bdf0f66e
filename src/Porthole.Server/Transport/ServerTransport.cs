namespace Porthole.Server.Transport;

/// <summary>The values of <c>Porthole:Transport</c>.</summary>
public enum ServerTransport
{
    /// <summary>
    /// Porthole's own transport where it can serve the configuration (<see cref="TransportChoice"/>), Kestrel's
    /// elsewhere. The default.
    /// </summary>
    Auto,

    /// <summary>Kestrel's socket transport, with its HTTPS layer for https:// addresses.</summary>
    Kestrel,

    /// <summary>Porthole's own transport (<see cref="PortholeTransportFactory"/>), TLS included; refuses to start where it cannot run.</summary>
    Porthole,
}
