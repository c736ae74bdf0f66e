using System.Net.Security;
using Porthole.Server.Http;

namespace Porthole.Server.Tests.Http;

/// <summary>Which negotiated suites a TLS connection may keep (the handshake itself is probed in TlsVersionTests).</summary>
public sealed class TlsSuiteGuardTests
{
    [Theory]
    [InlineData(TlsCipherSuite.TLS_AES_128_GCM_SHA256, true)]
    [InlineData(TlsCipherSuite.TLS_AES_256_GCM_SHA384, true)]
    [InlineData(TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256, true)]
    [InlineData(TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, true)]
    [InlineData(TlsCipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, true)]
    [InlineData(TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CCM, true)]
    [InlineData(TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, false)]
    [InlineData(TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384, false)]
    [InlineData(TlsCipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256, false)]
    [InlineData(TlsCipherSuite.TLS_RSA_WITH_AES_256_CBC_SHA, false)]
    public void OnlyForwardSecretAeadSuites_Pass(TlsCipherSuite suite, bool passes) =>
        Assert.Equal(passes, TlsSuiteGuardMiddleware.IsForwardSecretAead(suite));
}
