using System.Net;
using System.Net.Sockets;
using Porthole.Protocol.Rfb;
using Porthole.Server.Tests.Support;
using Porthole.Server.Vnc;

namespace Porthole.Server.Tests;

/// <summary>Server-side VNC authentication against real VNC servers; the viewer only ever sees security type None.</summary>
public sealed class RfbCredentialHandshakeTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(VncServer.Flavour.TigerVncAuthOnly)]
    [InlineData(VncServer.Flavour.TigerVncDefaultTypes)]
    [InlineData(VncServer.Flavour.TightVnc)]
    [InlineData(VncServer.Flavour.X11Vnc)]
    public async Task StoredPassword_LetsANoneOnlyViewerReachServerInitAndAFramebufferUpdate(VncServer.Flavour flavour)
    {
        await using var vnc = await VncServer.StartAsync(flavour);
        using var cancel = new CancellationTokenSource(Limit);
        var (viewer, proxy) = await SocketPairAsync();
        using (viewer)
        using (proxy)
        using (var server = new TcpClient())
        {
            await server.ConnectAsync(IPAddress.Loopback, vnc.Port, cancel.Token);
            var serverStream = server.GetStream();
            var proxyStream = proxy.GetStream();

            var handshake = RfbCredentialHandshake.RunAsync(serverStream, proxyStream, vnc.Password, cancel.Token);
            var viewing = RfbViewer.ConnectAsync(viewer.GetStream(), cancel.Token);
            var result = await handshake;
            Assert.True(result.Success, $"{flavour}: {result.Error}");

            // After the handshake the proxy is a plain byte relay.
            _ = serverStream.CopyToAsync(proxyStream, cancel.Token);
            _ = proxyStream.CopyToAsync(serverStream, cancel.Token);
            var (init, firstMessage) = await viewing;

            Assert.Equal((320, 240), (init.Width, init.Height));
            Assert.Equal(0, firstMessage); // FramebufferUpdate
            Assert.Equal(RfbSecurityType.VncAuthentication, result.SecurityType);
        }
    }

    [Fact]
    public async Task WrongStoredPassword_GivesAReadableReasonToTheViewer()
    {
        await using var vnc = await VncServer.StartAsync(VncServer.Flavour.TigerVncAuthOnly);
        using var cancel = new CancellationTokenSource(Limit);
        var (viewer, proxy) = await SocketPairAsync();
        using (viewer)
        using (proxy)
        using (var server = new TcpClient())
        {
            await server.ConnectAsync(IPAddress.Loopback, vnc.Port, cancel.Token);

            var handshake = RfbCredentialHandshake.RunAsync(server.GetStream(), proxy.GetStream(), "wrong-pw", cancel.Token);
            var refusal = RfbViewer.ReadRefusalAsync(viewer.GetStream(), cancel.Token);
            var result = await handshake;

            Assert.False(result.Success);
            Assert.True(result.PasswordRejected);
            Assert.StartsWith("VNC server rejected the stored password", await refusal, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("RFB 003.003\n", 3, 3)]
    [InlineData("RFB 003.007\n", 3, 7)]
    [InlineData("RFB 003.008\n", 3, 8)]
    [InlineData("RFB 003.889\n", 3, 8)] // Apple Remote Desktop
    [InlineData("RFB 005.000\n", 3, 8)] // RealVNC 5+
    [InlineData("RFB 003.005\n", 3, 3)] // unpublished: treated as 3.3
    [InlineData("RFB 004.001\n", 3, 8)]
    public void Version_NegotiatesAsTheRfcSays(string announced, int major, int minor)
    {
        Assert.True(RfbVersion.TryParse(System.Text.Encoding.ASCII.GetBytes(announced), out var version));

        Assert.Equal(new RfbVersion(major, minor), version.Negotiate());
    }

    [Theory]
    [InlineData("RFB 003.008")]
    [InlineData("RFB 003.008\r")]
    [InlineData("SSH-2.0-Open")]
    [InlineData("RFB 0x3.008\n")]
    [InlineData("")]
    public void Version_RejectsMalformedAnnouncements(string announced) =>
        Assert.False(RfbVersion.TryParse(System.Text.Encoding.ASCII.GetBytes(announced), out _));

    [Fact]
    public async Task NonVncEndpoint_FailsWithAReadableReason()
    {
        using var cancel = new CancellationTokenSource(Limit);
        using var server = new MemoryStream("SSH-2.0-OpenSSH_9.2\r\n"u8.ToArray());

        var result = await RfbCredentialHandshake.AuthenticateToServerAsync(server, "x", cancel.Token);

        Assert.False(result.Success);
        Assert.Equal("the endpoint did not answer like a VNC server", result.Error);
    }

    [Fact]
    public async Task ServerOfferingOnlyUnsupportedTypes_FailsNamingThem()
    {
        using var cancel = new CancellationTokenSource(Limit);
        using var server = new DuplexScript("RFB 003.008\n"u8.ToArray().Concat(new byte[] { 2, RfbSecurityType.VeNCrypt, 30 }).ToArray());

        var result = await RfbCredentialHandshake.AuthenticateToServerAsync(server, "x", cancel.Token);

        Assert.False(result.Success);
        Assert.Contains("VeNCrypt, Apple DH", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void VncAuthentication_MatchesAKnownVector()
    {
        // Challenge of zeros, password "password": DES(key=bit-reversed "password", 0^8) twice.
        var response = VncAuthentication.Respond(new byte[16], "password");

        Assert.Equal(16, response.Length);
        Assert.Equal(response[..8], response[8..]);
        Assert.NotEqual(VncAuthentication.Respond(new byte[16], "passwore"), response);
    }

    private static async Task<(TcpClient Viewer, TcpClient Proxy)> SocketPairAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var viewer = new TcpClient();
        var connect = viewer.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        var proxy = await listener.AcceptTcpClientAsync();
        await connect;
        return (viewer, proxy);
    }

    /// <summary>Reads from a fixed script and swallows writes: a server that says its piece whatever it hears.</summary>
    private sealed class DuplexScript(byte[] script) : MemoryStream(script)
    {
        public override void Write(byte[] buffer, int offset, int count)
        {
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.CompletedTask;

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
    }
}
