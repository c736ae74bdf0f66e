using System.Net;
using System.Reflection;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Porthole.Server.Transport;

/// <summary>
/// An address Kestrel listens on through <see cref="PortholeTransportFactory"/>, with or without TLS. Its own type, so
/// Kestrel hands it to this transport and to no other, and adds no HTTPS layer of its own to it (the transport does TLS).
/// </summary>
public sealed class PortholeEndPoint(IPEndPoint address, bool tls) : EndPoint
{
    public IPEndPoint Address { get; } = address;

    public bool Tls { get; } = tls;

    public override System.Net.Sockets.AddressFamily AddressFamily => Address.AddressFamily;

    // Kestrel knows an endpoint has TLS only from its own HTTPS layer, which sets this flag; the flag decides the scheme
    // Kestrel lists the address with ("Listening on: https://…") and whether it warns that HTTP/2 needs TLS. This
    // transport does TLS beneath Kestrel, so it sets the flag itself (ServerTransportTests checks the listed scheme).
    private static readonly PropertyInfo? IsTlsFlag = typeof(ListenOptions).GetProperty("IsTls", BindingFlags.Instance | BindingFlags.NonPublic);

    /// <summary>Kestrel's settings for an endpoint of this transport: HTTP/1.1, and HTTP/2 when negotiated over TLS.</summary>
    public static void Configure(ListenOptions listen)
    {
        var tls = ((PortholeEndPoint)listen.EndPoint).Tls;
        listen.Protocols = tls ? HttpProtocols.Http1AndHttp2 : HttpProtocols.Http1;
        if (tls)
        {
            IsTlsFlag?.SetValue(listen, true);
        }
    }

    /// <summary>The address alone: Kestrel puts the scheme in front.</summary>
    public override string ToString() => Address.ToString();
}
