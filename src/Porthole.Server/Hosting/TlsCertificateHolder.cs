using System.Security.Cryptography.X509Certificates;

namespace Porthole.Server.Hosting;

/// <summary>The server's TLS certificate, or <c>null</c> when it listens on plain HTTP only.</summary>
public sealed record TlsCertificateHolder(X509Certificate2? Certificate);
