using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Porthole.Protocol.Api;
using Porthole.Server.Hosting;

namespace Porthole.Server.Tests.Support;

/// <summary>
/// The real server in this process: real Kestrel on 127.0.0.1 (plain HTTP), SQLite in a temporary data directory.
/// Tests reach it over HTTP like any client and can look at its services (routes, database).
/// </summary>
public sealed class InProcessServer : IAsyncDisposable
{
    public const string AdminPassword = "in-process-secret-1234";

    private readonly TempDirectory _directory;

    private InProcessServer(WebApplication app, Uri baseAddress, TempDirectory directory)
    {
        App = app;
        BaseAddress = baseAddress;
        _directory = directory;
    }

    public WebApplication App { get; }

    public Uri BaseAddress { get; }

    public string DataDirectory => _directory.Path;

    public string DatabasePath => Path.Combine(_directory.Path, "porthole.db");

    public static async Task<InProcessServer> StartAsync(TimeProvider? time = null, params string[] extraArguments)
    {
        // Read by the first-admin bootstrap; every in-process server uses the same one.
        Environment.SetEnvironmentVariable("PORTHOLE_ADMIN_PASSWORD", AdminPassword);
        var directory = new TempDirectory("porthole-server-tests");
        var app = ServerHost.Build(
            ["--urls", "http://127.0.0.1:0", "--data-dir", directory.Path, .. extraArguments],
            services =>
            {
                if (time is not null)
                {
                    services.RemoveAll<TimeProvider>();
                    services.AddSingleton(time);
                }
            });
        await ServerHost.InitializeAsync(app, TextWriter.Null);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new InProcessServer(app, new Uri(address), directory);
    }

    /// <summary>A client carrying <paramref name="token"/> as its bearer token (none when null).</summary>
    public HttpClient Client(string? token = null)
    {
        var client = new HttpClient(CreateHandler()) { BaseAddress = BaseAddress };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    /// <summary>A handler that trusts this server's own self-signed certificate (pinned) when it serves HTTPS.</summary>
    public HttpMessageHandler CreateHandler()
    {
        if (BaseAddress.Scheme != Uri.UriSchemeHttps)
        {
            return new SocketsHttpHandler();
        }

        using var certificate = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(DataDirectory, "tls-certificate.pfx"), null);
        return new Porthole.Tunnel.Transport.ServerTrust(Porthole.Protocol.Security.CertificateFingerprint.Of(certificate)).CreateHandler();
    }

    public async Task<string> LoginAsync(string username, string password)
    {
        using var client = Client();
        using var response = await client.PostAsJsonAsync("/api/v1/auth/login", new LoginRequest(username, password), ApiJsonContext.Default.LoginRequest);
        Assert.True(response.IsSuccessStatusCode, $"login of {username} failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync(ApiJsonContext.Default.LoginResponse))!.Token;
    }

    public Task<string> AdminTokenAsync() => LoginAsync("admin", AdminPassword);

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }
}
