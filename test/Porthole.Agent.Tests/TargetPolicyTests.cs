using System.Net;
using Porthole.Agent.Sessions;

namespace Porthole.Agent.Tests;

/// <summary>The agent's own rules for what a session may dial.</summary>
public sealed class TargetPolicyTests
{
    private static TargetPolicy Default(string[]? allow = null, string[]? deny = null, string[]? server = null) =>
        TargetPolicy.CreateDefault((allow ?? []).Select(TargetRule.Parse), (deny ?? []).Select(TargetRule.Parse), (server ?? []).Select(TargetRule.Parse));

    [Theory]
    [InlineData("169.254.169.254", 80)] // cloud metadata
    [InlineData("::ffff:169.254.169.254", 80)] // the same, IPv4-mapped
    [InlineData("169.254.1.1", 22)]
    [InlineData("fe80::1", 22)]
    [InlineData("0.0.0.0", 22)]
    [InlineData("224.0.0.1", 5900)]
    [InlineData("255.255.255.255", 5900)]
    public void Default_DeniesAddressesNoDeviceServiceLivesOn(string address, int port) =>
        Assert.Contains("denied by the agent's target policy", Default().Check(IPAddress.Parse(address), port), StringComparison.Ordinal);

    [Theory]
    [InlineData("192.168.1.20", 5900)]
    [InlineData("10.1.2.3", 22)]
    [InlineData("127.0.0.1", 2222)]
    [InlineData("::1", 22)]
    public void Default_AllowsOrdinaryDeviceAddresses(string address, int port) =>
        Assert.Null(Default().Check(IPAddress.Parse(address), port));

    [Fact]
    public void ServerEndpoint_IsDenied_OtherPortsOfTheSameHostAreNot()
    {
        var policy = Default(server: ["127.0.0.1:8443"]);

        Assert.NotNull(policy.Check(IPAddress.Loopback, 8443));
        Assert.Null(policy.Check(IPAddress.Loopback, 22));
    }

    [Fact]
    public void AllowList_RestrictsToItsNetworksAndPorts_AndDenyStillWins()
    {
        var policy = Default(allow: ["192.168.10.0/24:5900-5999", "10.0.0.5:22"], deny: ["192.168.10.66"]);

        Assert.Null(policy.Check(IPAddress.Parse("192.168.10.7"), 5901));
        Assert.Contains("not in the agent's allowed targets", policy.Check(IPAddress.Parse("192.168.10.7"), 22), StringComparison.Ordinal);
        Assert.Contains("not in the agent's allowed targets", policy.Check(IPAddress.Parse("192.168.11.7"), 5901), StringComparison.Ordinal);
        Assert.Null(policy.Check(IPAddress.Parse("10.0.0.5"), 22));
        Assert.Contains("denied", policy.Check(IPAddress.Parse("192.168.10.66"), 5900), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10.0.0.0/8", "10.0.0.0/8", 1, 65535)]
    [InlineData("192.168.1.5", "192.168.1.5/32", 1, 65535)]
    [InlineData("10.0.0.0/8:5900-5999", "10.0.0.0/8", 5900, 5999)]
    [InlineData("[fe80::]/10:22", "fe80::/10", 22, 22)]
    [InlineData("[::1]:22", "::1/128", 22, 22)]
    [InlineData("fd00::/8", "fd00::/8", 1, 65535)]
    public void Rule_Parses(string text, string network, int first, int last)
    {
        var rule = TargetRule.Parse(text);

        Assert.Equal((IPNetwork.Parse(network), first, last), (rule.Network, rule.FirstPort, rule.LastPort));
    }

    [Theory]
    [InlineData("not-an-address")]
    [InlineData("10.0.0.0/33")]
    [InlineData("10.0.0.1/8")]
    [InlineData("10.0.0.0/8:0")]
    [InlineData("10.0.0.0/8:22-21")]
    [InlineData("10.0.0.0/8:70000")]
    public void Rule_RejectsBadInputWithAMessage(string text) =>
        Assert.Throws<FormatException>(() => TargetRule.Parse(text));
}
