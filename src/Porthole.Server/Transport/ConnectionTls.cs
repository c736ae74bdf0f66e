using System.Net.Security;
using Porthole.Server.Transport.Tls;

namespace Porthole.Server.Transport;

/// <summary>
/// How a TLS endpoint's connections do TLS: with OpenSSL on the socket when <see cref="OpenSsl"/> is set
/// (<c>Porthole:TransportTls</c>), otherwise with an <see cref="SslStream"/> and <see cref="SslStreamOptions"/>.
/// </summary>
internal sealed record ConnectionTls(SslServerAuthenticationOptions SslStreamOptions, OpenSslServerContext? OpenSsl);
