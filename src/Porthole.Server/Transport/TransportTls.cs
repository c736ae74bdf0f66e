namespace Porthole.Server.Transport;

/// <summary>The values of <c>Porthole:TransportTls</c>: who does TLS on Porthole's own transport.</summary>
public enum TransportTls
{
    /// <summary>OpenSSL on the socket where libssl 3 loads, <see cref="System.Net.Security.SslStream"/> otherwise. The default.</summary>
    Auto,

    /// <summary>OpenSSL straight on each connection's socket (docs/design/tls-data-plane.md); refuses to start without libssl 3.</summary>
    OpenSsl,

    /// <summary>.NET's <see cref="System.Net.Security.SslStream"/> over the transport's own socket stream.</summary>
    SslStream,
}
