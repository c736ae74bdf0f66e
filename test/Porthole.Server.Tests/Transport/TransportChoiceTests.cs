using Porthole.Server.Transport;

namespace Porthole.Server.Tests.Transport;

public sealed class TransportChoiceTests
{
    [Theory]
    [InlineData("https://127.0.0.1:8443")]
    [InlineData("https://*:443;http://localhost:8080")]
    [InlineData("http://[::1]:80")]
    public void Auto_TakesTheOwnTransport_WhereItCanServeTheUrls(string urls)
    {
        Assert.Equal(new TransportInUse(ServerTransport.Porthole, null), TransportChoice.Resolve(ServerTransport.Auto, urls, kestrelEndpointsConfigured: false, platformSupported: true));
    }

    [Fact]
    public void Auto_FallsBackToKestrel_WithTheReason()
    {
        var (onHostName, hostNameReason) = TransportChoice.Resolve(ServerTransport.Auto, "https://porthole.example.com:443", false, true);
        Assert.Equal(ServerTransport.Kestrel, onHostName);
        Assert.Contains("not a host name", hostNameReason, StringComparison.Ordinal);

        Assert.Equal(
            new TransportInUse(ServerTransport.Kestrel, "Porthole's own transport runs on Linux x86-64 only"),
            TransportChoice.Resolve(ServerTransport.Auto, "https://127.0.0.1:8443", false, platformSupported: false));
        Assert.Equal(
            new TransportInUse(ServerTransport.Kestrel, "Kestrel:Endpoints is configured"),
            TransportChoice.Resolve(ServerTransport.Auto, "https://127.0.0.1:8443", kestrelEndpointsConfigured: true, platformSupported: true));
    }

    [Theory]
    [InlineData(ServerTransport.Kestrel)]
    [InlineData(ServerTransport.Porthole)]
    public void AnExplicitChoice_IsKept(ServerTransport setting)
    {
        // Porthole where it cannot run is refused at start-up (ListenAddresses, Reactor), not quietly replaced.
        Assert.Equal(new TransportInUse(setting, null), TransportChoice.Resolve(setting, "https://porthole.example.com:443", true, false));
    }
}
