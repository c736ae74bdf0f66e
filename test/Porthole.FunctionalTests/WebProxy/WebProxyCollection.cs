namespace Porthole.FunctionalTests.WebProxy;

/// <summary>The web-proxy tests share one server, agent and set of device web servers.</summary>
[CollectionDefinition(Name)]
public sealed class WebProxyCollection : ICollectionFixture<WebProxyStack>
{
    public const string Name = "web-proxy";
}
