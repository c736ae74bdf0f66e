using System.Runtime.InteropServices;
using Porthole.Tests.Common.Stack;
using Xunit.Abstractions;

namespace Porthole.FunctionalTests;

/// <summary>
/// The server on Porthole's own transport (<c>Porthole:Transport=Porthole</c>) with OpenSSL on the socket
/// (<c>Porthole:TransportTls=OpenSsl</c>), and where each is the default.
/// </summary>
public sealed class OwnTransportTests(ITestOutputHelper output) : TransportTests("Porthole", output, ("OpenSsl", "OpenSSL"))
{
    [Fact]
    public async Task Server_RefusesToStart_OnAHostNameItCannotListenOn()
    {
        using var directory = new TempDirectory();
        var result = await ProcessRunner.RunAsync(
            Binaries.Server,
            ["--urls", "https://example.invalid:0", "--data-dir", directory.Path, "--Porthole:Transport=Porthole"],
            timeout: TimeSpan.FromSeconds(60));

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("listens on an IP address, localhost or *", result.StandardOutput + result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IsTheDefault_WhereItRuns()
    {
        // The URL is an IP address: the default (Auto) takes the own transport wherever it runs.
        var runs = OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;
        using var directory = new TempDirectory();
        await using var server = ProcessRunner.Start(Binaries.Server, ["--urls", "http://127.0.0.1:0", "--data-dir", directory.Path]);

        var line = await server.WaitForLineAsync(l => l.StartsWith("Connection transport: ", StringComparison.Ordinal), TimeSpan.FromSeconds(60));

        Assert.Equal(runs ? "Connection transport: Porthole" : "Connection transport: Kestrel (Porthole's own transport runs on Linux x86-64 only)", line);
    }

    [Theory]
    [InlineData("-tls1_3", "Ciphersuite: TLS_AES_128_GCM_SHA256")]
    [InlineData("-tls1_2", "Ciphersuite: ECDHE-ECDSA-AES128-GCM-SHA256")]
    public async Task OpenSsl_PicksAes128Gcm_OverTheClientsOwnFirstChoice(string version, string expected)
    {
        // OpenSSL's client offers AES-256-GCM first; the server's order decides.
        using var directory = new TempDirectory();
        await using var server = ProcessRunner.Start(Binaries.Server, ["--urls", "https://127.0.0.1:0", "--data-dir", directory.Path, "--Porthole:TransportTls=OpenSsl"]);
        var listening = await server.WaitForLineAsync(l => l.StartsWith("Listening on: https://", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        var port = new Uri(listening["Listening on: ".Length..]).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var result = await ProcessRunner.RunAsync("openssl", ["s_client", "-connect", "127.0.0.1:" + port, version, "-brief", "-no_ign_eof"], stdin: "", timeout: TimeSpan.FromSeconds(20));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(expected, result.StandardOutput + result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenSsl_IsTheDefaultTls_WhereLibssl3Loads()
    {
        using var directory = new TempDirectory();
        await using var server = ProcessRunner.Start(Binaries.Server, ["--urls", "https://127.0.0.1:0", "--data-dir", directory.Path]);

        var line = await server.WaitForLineAsync(l => l.StartsWith("Connection TLS: ", StringComparison.Ordinal), TimeSpan.FromSeconds(60));

        Assert.Equal(OperatingSystem.IsLinux() && NativeLibrary.TryLoad("libssl.so.3", out _) ? "Connection TLS: OpenSSL" : "Connection TLS: SslStream", line);
    }
}

/// <summary>The own transport with .NET's <c>SslStream</c> doing TLS (<c>Porthole:TransportTls=SslStream</c>), where libssl 3 is missing.</summary>
public sealed class OwnTransportSslStreamTests(ITestOutputHelper output) : TransportTests("Porthole", output, ("SslStream", "SslStream"));
