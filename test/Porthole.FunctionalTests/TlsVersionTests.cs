using System.Globalization;

namespace Porthole.FunctionalTests;

/// <summary>Issue 8, attack 13: the server speaks TLS 1.2 and 1.3 only. Probed with openssl s_client, allowed to offer old versions.</summary>
[Collection(Fixtures.StackCollection.Name)]
public sealed class TlsVersionTests(PortholeStack stack)
{
    // OpenSSL's default security level refuses to even offer TLS 1.0/1.1; level 0 lets the probe ask for them.
    private const string AnyCipher = "DEFAULT:@SECLEVEL=0";

    [Theory]
    [InlineData("-tls1")]
    [InlineData("-tls1_1")]
    public async Task Server_RefusesOldTls(string version)
    {
        await AssertProbeWorksAsync(version);

        var result = await ProbeAsync(stack.ServerUrl.Port, version);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("alert protocol version", result.StandardOutput + result.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-tls1_2", "TLSv1.2")]
    [InlineData("-tls1_3", "TLSv1.3")]
    public async Task Server_AcceptsTls12And13(string version, string negotiated)
    {
        var result = await ProbeAsync(stack.ServerUrl.Port, version);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"Protocol version: {negotiated}", result.StandardOutput + result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_ResumesSessions_SoItsHandshakesShareOneTlsContext()
    {
        // .NET gives each handshake an OpenSSL context of its own when the server sets a cipher-suite list: ≈1 ms of
        // server CPU per handshake, and no session ticket one connection issued is ever accepted by the next. Resumption
        // over TLS 1.2 (whose ticket arrives within the handshake, so s_client's reconnects always hold one) shows the
        // context is shared. s_client -reconnect connects once and then five more times with the first session.
        var result = await ProcessRunner.RunAsync(
            "openssl",
            ["s_client", "-connect", $"127.0.0.1:{stack.ServerUrl.Port.ToString(CultureInfo.InvariantCulture)}", "-tls1_2", "-reconnect"],
            stdin: "",
            timeout: TimeSpan.FromSeconds(20));

        var output = result.StandardOutput + result.StandardError;
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("New, TLSv1.2", output, StringComparison.Ordinal);
        Assert.Contains("Reused, TLSv1.2", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ECDHE-ECDSA-AES128-SHA256")]
    [InlineData("ECDHE-ECDSA-AES256-SHA384")]
    public async Task Server_RefusesANonAeadSuite_AtTheHandshake(string suite)
    {
        // The default transport does TLS with OpenSSL and an AEAD-only list (docs/design/tls-data-plane.md); under
        // SslStream, which sets no list, the same client is refused at its first request (TransportTests).
        var refused = await GetHealthAsync(suite);
        Assert.Contains("handshake failure", refused.StandardOutput + refused.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("HTTP/1.1 200", refused.StandardOutput, StringComparison.Ordinal);

        // A control: the same request over an AEAD suite is answered.
        var answered = await GetHealthAsync("ECDHE-ECDSA-AES128-GCM-SHA256");
        Assert.Contains("HTTP/1.1 200", answered.StandardOutput, StringComparison.Ordinal);
    }

    private Task<ProcessResult> GetHealthAsync(string suite) => ProcessRunner.RunAsync(
        "openssl",
        ["s_client", "-connect", $"127.0.0.1:{stack.ServerUrl.Port.ToString(CultureInfo.InvariantCulture)}", "-tls1_2", "-cipher", suite, "-ign_eof"],
        stdin: "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        timeout: TimeSpan.FromSeconds(20));

    private static Task<ProcessResult> ProbeAsync(int port, string version) => ProcessRunner.RunAsync(
        "openssl",
        ["s_client", "-connect", $"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}", version, "-cipher", AnyCipher, "-brief", "-no_ign_eof"],
        stdin: "",
        timeout: TimeSpan.FromSeconds(20));

    /// <summary>A control: the same probe against an openssl server that does allow the old version succeeds, so a refusal above is the server's.</summary>
    private static async Task AssertProbeWorksAsync(string version)
    {
        using var directory = new TempDirectory("porthole-tls-probe");
        var key = directory.Combine("key.pem");
        var certificate = directory.Combine("cert.pem");
        var make = await ProcessRunner.RunAsync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "1", "-subj", "/CN=probe"], timeout: TimeSpan.FromSeconds(30));
        Assert.True(make.ExitCode == 0, make.ToString());
        var port = FreePort.Get();
        await using var server = ProcessRunner.Start("openssl", ["s_server", "-accept", port.ToString(CultureInfo.InvariantCulture), "-key", key, "-cert", certificate, version, "-cipher", AnyCipher, "-www"]);
        Assert.True(await FreePort.WaitUntilListeningAsync(port, TimeSpan.FromSeconds(10), () => server.HasExited), server.CapturedOutput);

        var result = await ProbeAsync(port, version);

        Assert.True(result.ExitCode == 0, "the probe cannot speak " + version + " at all: " + result);
    }
}
