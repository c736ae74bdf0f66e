using System.Net;
using Porthole.Server.Transport;

namespace Porthole.Server.Tests.Transport;

public sealed class ListenAddressesTests
{
    [Theory]
    [InlineData("https://127.0.0.1:8443", "127.0.0.1:8443", true)]
    [InlineData("http://127.0.0.1:0", "127.0.0.1:0", false)]
    [InlineData("https://localhost:8443", "127.0.0.1:8443", true)]
    [InlineData("https://*:443", "[::]:443", true)]
    [InlineData("https://0.0.0.0:443", "0.0.0.0:443", true)]
    [InlineData("https://[::1]:8443", "[::1]:8443", true)]
    public void Parse_TurnsAUrlIntoAnEndpoint(string url, string address, bool tls)
    {
        var endpoint = Assert.Single(ListenAddresses.Parse(url));

        Assert.Equal(IPEndPoint.Parse(address), endpoint.Address);
        Assert.Equal(tls, endpoint.Tls);
    }

    [Fact]
    public void Parse_TakesEveryUrlOfTheList()
    {
        var endpoints = ListenAddresses.Parse("https://127.0.0.1:8443; http://127.0.0.1:8080");

        Assert.Equal([(8443, true), (8080, false)], endpoints.Select(e => (e.Address.Port, e.Tls)));
    }

    [Theory]
    [InlineData("https://example.com:443", "listens on an IP address")]
    [InlineData("ftp://127.0.0.1:21", "http:// and https://")]
    [InlineData("https://127.0.0.1:8443/base", "scheme://host:port")]
    public void Parse_RefusesWhatItCannotListenOn(string url, string message)
    {
        var error = Assert.Throws<InvalidOperationException>(() => ListenAddresses.Parse(url));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Endpoint_ShowsItsAddressOnly_ForKestrelToPutTheSchemeInFront()
    {
        Assert.Equal("127.0.0.1:8443", new PortholeEndPoint(IPEndPoint.Parse("127.0.0.1:8443"), tls: true).ToString());
    }
}
