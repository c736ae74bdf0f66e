using System.Globalization;
using Porthole.FunctionalTests.Fixtures;
using Porthole.Tests.Common.Stack;
using Xunit.Abstractions;

namespace Porthole.FunctionalTests;

/// <summary>
/// What the server must do on either of its connection transports (<c>Porthole:Transport</c>;
/// docs/design/tls-data-plane.md), and on the own one with either TLS library (<c>Porthole:TransportTls</c>): the same
/// HTTPS, TLS rules and sessions, plain and over TLS.
/// </summary>
public abstract class TransportTests : IAsyncLifetime
{
    private readonly string _transport;
    private readonly string? _tlsLibrary;
    private readonly ITestOutputHelper _output;
    private readonly PortholeStack _stack;

    /// <param name="tls">On the own transport: the <c>Porthole:TransportTls</c> to force, and the library it must report.</param>
    protected TransportTests(string transport, ITestOutputHelper output, (string Setting, string Reported)? tls = null)
    {
        (_transport, _tlsLibrary, _output) = (transport, tls?.Reported, output);
        string[] arguments = ["--Porthole:Transport=" + transport, "--Porthole:MaxSessionsPerUser=100", "--Porthole:MaxSessionsPerDevice=100"];
        _stack = new() { ServerArguments = tls is { } chosen ? [.. arguments, "--Porthole:TransportTls=" + chosen.Setting] : arguments };
    }

    public Task InitializeAsync() => _stack.InitializeAsync();

    public Task DisposeAsync() => _stack.DisposeAsync();

    [Fact]
    public async Task Server_ListsItsAddressAsHttps_AndAnswersOverHttp11AndHttp2()
    {
        Assert.Contains("Connection transport: " + _transport, _stack.Server.StandardOutputLines);
        if (_tlsLibrary is not null)
        {
            Assert.Contains("Connection TLS: " + _tlsLibrary, _stack.Server.StandardOutputLines);
        }

        Assert.Equal("https", _stack.ServerUrl.Scheme);
        foreach (var (flag, version) in new[] { ("--http1.1", "1.1"), ("--http2", "2") })
        {
            var result = await ProcessRunner.RunAsync("curl", ["-sk", flag, "-o", "/dev/null", "-w", "%{http_version} %{http_code} %{scheme}", new Uri(_stack.ServerUrl, "/healthz").ToString()], timeout: TimeSpan.FromSeconds(20));
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Equal($"{version} 200 HTTPS", result.StandardOutput.Trim());
        }

        // The scheme Kestrel gives requests comes from the transport's TLS features: a redirect names https.
        var redirect = await ProcessRunner.RunAsync("curl", ["-sk", "-o", "/dev/null", "-w", "%{redirect_url}", _stack.ServerUrl.ToString()], timeout: TimeSpan.FromSeconds(20));
        Assert.StartsWith("https://", redirect.StandardOutput.Trim(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-tls1_1", false)]
    [InlineData("-tls1_2", true)]
    [InlineData("-tls1_3", true)]
    public async Task Server_SpeaksTls12And13Only(string version, bool accepted)
    {
        var result = await ProcessRunner.RunAsync(
            "openssl",
            ["s_client", "-connect", $"127.0.0.1:{Port}", version, "-cipher", "DEFAULT:@SECLEVEL=0", "-brief", "-no_ign_eof"],
            stdin: "",
            timeout: TimeSpan.FromSeconds(20));

        Assert.Equal(accepted, result.ExitCode == 0);
    }

    [Fact]
    public async Task Server_ClosesANonAeadConnection_AndAnswersAnAeadOne()
    {
        // OpenSSL on the socket has the AEAD-only list and refuses the handshake; under SslStream the handshake
        // completes and TlsSuiteGuardMiddleware, reading the suite from ITlsHandshakeFeature, closes the connection.
        var refused = await GetHealthAsync("ECDHE-ECDSA-AES128-SHA256");
        var said = refused.StandardOutput + refused.StandardError;
        Assert.Contains(_tlsLibrary == "OpenSSL" ? "handshake failure" : "Cipher is ECDHE-ECDSA-AES128-SHA256", said, StringComparison.Ordinal);
        Assert.DoesNotContain("HTTP/1.1 200", refused.StandardOutput, StringComparison.Ordinal);

        var answered = await GetHealthAsync("ECDHE-ECDSA-AES128-GCM-SHA256");
        Assert.Contains("HTTP/1.1 200", answered.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public Task ConcurrentSessions_MovingMegabytesBothWays_ArriveIntact() => MoveMegabytesAsync(_stack);

    [Fact]
    public async Task ConcurrentSessions_OverPlainHttp_ArriveIntact()
    {
        // Plain connections read straight into their pipes and send the pipes' blocks as they are (no TLS, no read-ahead).
        var plain = new PortholeStack { PlainHttp = true, ServerArguments = _stack.ServerArguments };
        await plain.InitializeAsync();
        try
        {
            Assert.Equal("http", plain.ServerUrl.Scheme);
            await MoveMegabytesAsync(plain);
        }
        finally
        {
            await plain.DisposeAsync();
        }
    }

    private async Task MoveMegabytesAsync(PortholeStack stack)
    {
        // Sessions on the agent's streams connection and on connections of their own (the first session of an agent
        // takes one), relayed on hot threads: every byte arrives, in order, in the right session.
        const int sessions = 24;
        await using var echo = new HashingEchoServer();
        var gateway = await stack.StartGatewayAsync("own-gw");
        await stack.CliOkAsync("endpoints", "add", "own-gw", "--name", "echo", "--host", "127.0.0.1", "--port", echo.Port.ToString(CultureInfo.InvariantCulture), "--protocol", "tcp");
        using var client = new DataSessionClient(stack);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var random = new Random(53);
        var sizes = Enumerable.Range(0, sessions).Select(_ => random.Next(1 << 20, 6 << 20)).ToArray();

        var results = await DataExchanges.RunConcurrentlyAsync(client, "own-gw", "echo", sizes, deadline.Token);

        try
        {
            Assert.All(results, r => Assert.Equal((r.Size, r.Sent), (r.ReceivedBytes, r.Received)));
            Assert.Empty(echo.Failed);
            Assert.Equal(results.Select(r => r.Sent).Order(), echo.Completed.Select(c => c.Sha256).Order());
            Assert.DoesNotContain(stack.Server.StandardOutputLines.Concat(stack.Server.StandardErrorLines), IsError);
            Assert.DoesNotContain(gateway.Agent.StandardOutputLines.Concat(gateway.Agent.StandardErrorLines), IsError);
        }
        catch
        {
            _output.WriteLine(stack.Server.CapturedOutput);
            throw;
        }
    }

    private string Port => _stack.ServerUrl.Port.ToString(CultureInfo.InvariantCulture);

    private static bool IsError(string line) => line.StartsWith("fail:", StringComparison.Ordinal) || line.StartsWith("crit:", StringComparison.Ordinal);

    private Task<ProcessResult> GetHealthAsync(string suite) => ProcessRunner.RunAsync(
        "openssl",
        ["s_client", "-connect", $"127.0.0.1:{Port}", "-tls1_2", "-cipher", suite, "-ign_eof"],
        stdin: "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        timeout: TimeSpan.FromSeconds(20));
}
