using System.Net.WebSockets;
using System.Text.Json;
using Porthole.FunctionalTests.Fixtures;
using Porthole.Protocol.Control;
using Porthole.Tunnel.Transport;

namespace Porthole.FunctionalTests;

/// <summary>The server's own surface: start-up defaults, the control protocol handshake, the API description.</summary>
[Collection(StackCollection.Name)]
public sealed class ServerTests(PortholeStack stack)
{
    [Fact]
    public async Task FirstStart_WithoutAdminPassword_GeneratesOnePrintsItOnceAndItWorks()
    {
        using var data = new TempDirectory("porthole-firststart");
        var environment = new Dictionary<string, string?> { ["PORTHOLE_ADMIN_PASSWORD"] = null };
        string password;
        await using (var first = ProcessRunner.Start(Binaries.Server, ["--urls", "https://127.0.0.1:0", "--data-dir", data.Path], environment))
        {
            var line = await first.WaitForLineAsync(l => l.Contains("generated password: ", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
            password = line[(line.IndexOf("generated password: ", StringComparison.Ordinal) + "generated password: ".Length)..].Trim();
            var url = (await first.WaitForLineAsync(l => l.StartsWith("Listening on: ", StringComparison.Ordinal), TimeSpan.FromSeconds(30)))["Listening on: ".Length..];
            var fingerprint = first.StandardOutputLines.Single(l => l.StartsWith("TLS certificate SHA-256 fingerprint: ", StringComparison.Ordinal)).Split(": ")[1];

            var cli = new Dictionary<string, string?> { ["PORTHOLE_CONFIG"] = data.Combine("cli.json"), ["PORTHOLE_SERVER"] = null, ["PORTHOLE_TOKEN"] = null };
            string[] login = ["login", "--server", url, "--username", "admin", "--password-stdin", "--fingerprint", fingerprint];

            // A generated password only opens the door to changing it.
            var refused = await stack.CliAsync(login, stdin: password + "\n", environment: cli);
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("porthole passwd", refused.StandardError, StringComparison.Ordinal);

            var changed = await stack.CliAsync(
                ["passwd", "--server", url, "--username", "admin", "--password-stdin", "--fingerprint", fingerprint],
                stdin: password + "\nmy-own-secret-passphrase\n",
                environment: cli);
            Assert.True(changed.ExitCode == 0, changed.ToString());

            var accepted = await stack.CliAsync(login, stdin: "my-own-secret-passphrase\n", environment: cli);
            Assert.True(accepted.ExitCode == 0, accepted.ToString());
        }

        Assert.True(File.Exists(Path.Combine(data.Path, "porthole.db")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(data.Path, "tls-certificate.pfx")));

        // A restart keeps the same certificate and does not print (or change) the password again.
        await using var second = ProcessRunner.Start(Binaries.Server, ["--urls", "https://127.0.0.1:0", "--data-dir", data.Path], environment);
        await second.WaitForLineAsync(l => l.StartsWith("Listening on: ", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        Assert.DoesNotContain(second.StandardOutputLines, l => l.Contains(password, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ControlChannel_WithIncompatibleProtocolVersion_IsRefusedWithAReadableReason()
    {
        var device = "oldagent-" + Guid.NewGuid().ToString("N")[..8];
        var token = await stack.RegisterDeviceAsync(device);
        using var state = new TempDirectory("porthole-oldagent");
        var enrol = await ProcessRunner.RunAsync(Binaries.Agent, ["enrol", "--server", stack.ServerUrl.ToString(), "--token", token, "--state-dir", state.Path, "--fingerprint", stack.Fingerprint], timeout: TimeSpan.FromSeconds(60));
        Assert.True(enrol.ExitCode == 0, enrol.ToString());
        var credential = JsonDocument.Parse(await File.ReadAllTextAsync(state.Combine("agent.json"))).RootElement.GetProperty("credential").GetString()!;

        using var invoker = new HttpMessageInvoker(new ServerTrust(stack.Fingerprint).CreateHandler());
        using var webSocket = await new DataWebSocketConnector(invoker).ConnectAsync(
            DataWebSocketConnector.ToWebSocketUri(stack.ServerUrl, "/api/v1/agent/control"), credential, ControlProtocol.SubProtocol, null, CancellationToken.None);
        using var control = new ControlChannel(webSocket);
        await control.SendAsync(new HelloMessage(99, 99, "99.0.0", true, "future"), CancellationToken.None);

        var answer = await control.ReceiveAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20));
        var reject = Assert.IsType<RejectMessage>(answer.Message);
        Assert.Equal("incompatible-version", reject.Code);
        Assert.Contains("v1-v1", reject.Message, StringComparison.Ordinal);
        Assert.Contains("v99-v99", reject.Message, StringComparison.Ordinal);
        var closing = await control.ReceiveAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(closing.IsClosed);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, webSocket.CloseStatus);
        Assert.False((await stack.ShowDeviceAsync(device)).Online);
    }

    [Fact]
    public async Task ServerOutput_CarriesNoTokenCredentialOrPassword()
    {
        // Make sure there is something to leak: a login, a device registration, an enrolment and a session attempt.
        var device = "leak-" + Guid.NewGuid().ToString("N")[..8];
        await stack.StartGatewayAsync(device);
        await stack.CliAsync(["connect", $"{device}/none"], stdin: "");

        var output = stack.Server.CapturedOutput;

        Assert.DoesNotContain("pat_", output, StringComparison.Ordinal);
        Assert.DoesNotContain("pte_", output, StringComparison.Ordinal);
        Assert.DoesNotContain("ptd_", output, StringComparison.Ordinal);
        Assert.DoesNotContain(PortholeStack.AdminPassword, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenApiDocument_IsServedAndDescribesTheApi()
    {
        using var http = new HttpClient(new ServerTrust(stack.Fingerprint).CreateHandler()) { BaseAddress = stack.ServerUrl };

        using var document = JsonDocument.Parse(await http.GetStringAsync("/api/v1/openapi.json"));

        var paths = document.RootElement.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/v1/devices", out _));
        Assert.True(paths.TryGetProperty("/api/v1/sessions", out _));
        Assert.True(paths.TryGetProperty("/api/v1/devices/{device}/endpoints", out _));
    }

    [Fact]
    public async Task Api_WithoutToken_AnswersProblemDetails401()
    {
        using var http = new HttpClient(new ServerTrust(stack.Fingerprint).CreateHandler()) { BaseAddress = stack.ServerUrl };

        using var response = await http.GetAsync("/api/v1/devices");

        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("unauthorized", body.RootElement.GetProperty("code").GetString());
    }
}
