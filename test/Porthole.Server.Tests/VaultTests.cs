using System.Net;
using Porthole.Protocol.Api;
using Porthole.Server.Tests.Support;

namespace Porthole.Server.Tests;

/// <summary>Stored credentials are write-only, validated, encrypted at rest and never echoed.</summary>
public sealed class VaultTests : IAsyncLifetime
{
    private const string VncPassword = "Pz7!qv9#";
    private InProcessServer _server = null!;
    private HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        _server = await InProcessServer.StartAsync();
        _admin = _server.Client(await _server.AdminTokenAsync());
        await _admin.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/devices", new CreateDeviceRequest("hmi"));
        await _admin.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/devices/hmi/endpoints", new CreateEndpointRequest("panel", "127.0.0.1", 5900, "vnc"));
        await _admin.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/devices/hmi/endpoints", new CreateEndpointRequest("console", "127.0.0.1", 22, "ssh"));
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task SetCredential_ShowsKindOnly_AndTheDatabaseHoldsNoPlaintext()
    {
        var body = await _admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Put, "/api/v1/devices/hmi/endpoints/panel/credential", new SetCredentialRequest("vnc-password", Password: VncPassword));

        var endpoint = Api.Read<EndpointDto>(body);
        Assert.Equal("vnc-password", endpoint.Credential?.Kind);
        Assert.DoesNotContain(VncPassword, body, StringComparison.Ordinal);
        var listed = await _admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/devices/hmi/endpoints");
        Assert.DoesNotContain(VncPassword, listed, StringComparison.Ordinal);
        var database = await File.ReadAllBytesAsync(_server.DatabasePath);
        var wal = File.Exists(_server.DatabasePath + "-wal") ? await File.ReadAllBytesAsync(_server.DatabasePath + "-wal") : [];
        Assert.DoesNotContain(VncPassword, System.Text.Encoding.Latin1.GetString([.. database, .. wal]), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("panel", "ssh-password", "root", "pw", null, "does not fit")]
    [InlineData("console", "ssh-password", null, "pw", null, "username is required")]
    [InlineData("console", "ssh-key", "root", null, "not a key", "privateKey could not be read")]
    [InlineData("console", "telepathy", "root", "pw", null, "kind must be one of")]
    [InlineData("panel", "vnc-password", null, null, null, "password is required")]
    public async Task SetCredential_WithBadInput_ExplainsAndStoresNothing(string endpoint, string kind, string? username, string? password, string? key, string message)
    {
        var text = await _admin.ExpectAsync(HttpStatusCode.BadRequest, HttpMethod.Put, $"/api/v1/devices/hmi/endpoints/{endpoint}/credential", new SetCredentialRequest(kind, username, password, key));

        Assert.Contains(message, text, StringComparison.Ordinal);
        var shown = Api.Read<EndpointDto>(await _admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, $"/api/v1/devices/hmi/endpoints/{endpoint}"));
        Assert.Null(shown.Credential);
    }

    [Fact]
    public async Task SshKey_IsAcceptedWhenItParses_AndClearRemovesIt()
    {
        using var keys = new TempDirectory("porthole-vault-key");
        var keyPath = keys.Combine("id_ed25519");
        var generated = await ProcessRunner.RunAsync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "key-passphrase", "-f", keyPath]);
        Assert.Equal(0, generated.ExitCode);
        var privateKey = await File.ReadAllTextAsync(keyPath);

        await _admin.ExpectAsync(HttpStatusCode.BadRequest, HttpMethod.Put, "/api/v1/devices/hmi/endpoints/console/credential", new SetCredentialRequest("ssh-key", "root", PrivateKey: privateKey, Passphrase: "wrong"));
        var body = await _admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Put, "/api/v1/devices/hmi/endpoints/console/credential", new SetCredentialRequest("ssh-key", "root", PrivateKey: privateKey, Passphrase: "key-passphrase"));
        Assert.Equal(("ssh-key", "root"), (Api.Read<EndpointDto>(body).Credential!.Kind, Api.Read<EndpointDto>(body).Credential!.Username));
        Assert.DoesNotContain("PRIVATE KEY", body, StringComparison.Ordinal);

        await _admin.ExpectAsync(HttpStatusCode.NoContent, HttpMethod.Delete, "/api/v1/devices/hmi/endpoints/console/credential");
        Assert.Null(Api.Read<EndpointDto>(await _admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/devices/hmi/endpoints/console")).Credential);
    }

    [Fact]
    public void Vault_AfterKeyRotation_StillReadsOldSecrets()
    {
        var services = _server.App.Services;
        var vault = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Porthole.Server.Vault.CredentialVault>(services);
        var old = vault.Protect(new Porthole.Server.Vault.EndpointSecret("before-rotation", null, null));
        var keys = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Microsoft.AspNetCore.DataProtection.KeyManagement.IKeyManager>(services);

        // A new default key, as the 90-day rotation (or an operator) makes; the old one is kept for decryption.
        var now = DateTimeOffset.UtcNow;
        keys.CreateNewKey(now, now.AddDays(90));
        var current = keys.GetAllKeys().Count;

        Assert.True(current >= 2, $"expected a rotated key ring, found {current} keys");
        Assert.Equal("before-rotation", vault.Unprotect(old).Password);
    }

    [Fact]
    public async Task Vault_RoundTripsThroughDataProtection()
    {
        var vault = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Porthole.Server.Vault.CredentialVault>(_server.App.Services);

        var sealedSecret = vault.Protect(new Porthole.Server.Vault.EndpointSecret("p@ss", null, null));

        Assert.DoesNotContain("p@ss", sealedSecret, StringComparison.Ordinal);
        Assert.Equal("p@ss", vault.Unprotect(sealedSecret).Password);
        Assert.Equal("EndpointSecret { *** }", vault.Unprotect(sealedSecret).ToString());
    }
}
