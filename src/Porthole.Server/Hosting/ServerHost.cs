using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Porthole.Protocol.Security;
using Porthole.Server.Agents;
using Porthole.Server.Audit;
using Porthole.Server.Data;
using Porthole.Server.Devices;
using Porthole.Server.Endpoints;
using Porthole.Server.Identity;
using Porthole.Server.Relay;
using Porthole.Server.RemoteAccess;
using Porthole.Server.Vault;
using Porthole.Server.WebProxy;

namespace Porthole.Server.Hosting;

/// <summary>Builds and starts the server: configuration, TLS, store, services and routes.</summary>
public static class ServerHost
{
    /// <summary>Command-line switches beyond ASP.NET Core's own (<c>--urls</c>).</summary>
    private static readonly Dictionary<string, string> SwitchMappings = new(StringComparer.Ordinal)
    {
        ["--data-dir"] = "Porthole:DataDir",
    };

    /// <param name="args">Command-line arguments (<c>--urls</c>, <c>--data-dir</c>, <c>--Porthole:Setting=value</c>).</param>
    /// <param name="configureServices">Lets tests replace services (e.g. the <see cref="TimeProvider"/>) after the defaults.</param>
    public static WebApplication Build(string[] args, Action<IServiceCollection>? configureServices = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            // --urls is read below, from the configuration, and handed to Kestrel there: the host would otherwise take
            // it as the addresses to bind before the transport is chosen (and warn that Porthole's transport overrode them).
            Args = WithoutUrls(args),
            ContentRootPath = AppContext.BaseDirectory,

            // Pages are discovered in the application assembly; name it, so hosts such as test runners find them too.
            ApplicationName = typeof(ServerHost).Assembly.GetName().Name,
        });
        builder.WebHost.UseKestrelHttpsConfiguration();
        // Quiet defaults: an operator reads Porthole's own events, not every SQL statement.
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Configuration.AddEnvironmentVariables(prefix: "PORTHOLE_");
        builder.Configuration.AddInMemoryCollection(DataDirFromEnvironment());
        builder.Configuration.AddCommandLine(args, SwitchMappings);

        var settings = builder.Configuration.GetSection(PortholeServerOptions.SectionName).Get<PortholeServerOptions>() ?? new PortholeServerOptions();
        settings.Validate();
        var dataDirectory = new DataDirectory(settings.ResolveDataDir());
        builder.Services.AddSingleton(dataDirectory);
        builder.Services.AddOptions<PortholeServerOptions>()
            .Bind(builder.Configuration.GetSection(PortholeServerOptions.SectionName))
            .Validate(o => { o.Validate(); return true; })
            .ValidateOnStart();

        ConfigureKestrel(builder, settings, dataDirectory);
        ConfigureServices(builder.Services, dataDirectory, settings, builder.Configuration);
        configureServices?.Invoke(builder.Services);

        var app = builder.Build();

        // Before anything else, so every TLS connection (web proxy hosts included) meets them on its first request.
        app.UseMiddleware<Http.TlsSuiteGuardMiddleware>();
        if (settings.TlsReleaseIdleBuffers)
        {
            app.UseMiddleware<Http.TlsIdleBuffersMiddleware>();
        }

        // Session hosts of the web proxy first: their requests never meet the console's cookies, pages or API.
        app.UseMiddleware<WebProxy.WebProxyMiddleware>();
        app.UseMiddleware<Http.SecurityHeadersMiddleware>();
        app.UseExceptionHandler();
        app.UseMiddleware<Http.SilentPeerMiddleware>();
        app.UseWebSockets();

        // The console's scripts and styles (wwwroot, copied next to the binary) need no login; they run before
        // authorization because the fallback policy denies every request without an endpoint.
        app.UseStaticFiles(new StaticFileOptions
        {
            OnPrepareResponse = file => file.Context.Response.Headers.XContentTypeOptions = "nosniff",
        });
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseMiddleware<Http.CookieCsrfMiddleware>();
        MapRoutes(app);
        return app;
    }

    /// <summary>Migrates the store and creates the built-in roles and the first admin.</summary>
    public static async Task InitializeAsync(WebApplication app, TextWriter console)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortholeDbContext>();
        await db.Database.MigrateAsync();
        await SqliteWriteAheadLog.EnableAsync(db, CancellationToken.None);
        await AdminBootstrap.EnsureBuiltInRolesAsync(db, CancellationToken.None);
        await AdminBootstrap.EnsureAdminAsync(db, scope.ServiceProvider.GetRequiredService<PasswordHashing>(), scope.ServiceProvider.GetRequiredService<TimeProvider>(), console, CancellationToken.None);
    }

    /// <summary>Initializes, starts listening, prints what an operator needs, and runs until shut down.</summary>
    public static async Task RunAsync(WebApplication app)
    {
        var dataDirectory = app.Services.GetRequiredService<DataDirectory>();
        await InitializeAsync(app, Console.Out);
        await app.StartAsync();
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        Console.Out.WriteLine($"Porthole server {typeof(ServerHost).Assembly.GetName().Version?.ToString(3)}");
        Console.Out.WriteLine($"Data directory: {dataDirectory.Path}");
        if (app.Services.GetService<TlsCertificateHolder>()?.Certificate is { } certificate)
        {
            Console.Out.WriteLine($"TLS certificate SHA-256 fingerprint: {CertificateFingerprint.Of(certificate)}");
        }

        if (app.Services.GetService<Transport.TransportInUse>() is { } transport)
        {
            Console.Out.WriteLine($"Connection transport: {transport}");
        }

        if (app.Services.GetService<Microsoft.AspNetCore.Connections.IConnectionListenerFactory>() is Transport.PortholeTransportFactory { TlsLibrary: { } tls }
            && app.Services.GetService<TlsCertificateHolder>()?.Certificate is not null)
        {
            Console.Out.WriteLine($"Connection TLS: {tls}");
        }

        foreach (var address in addresses)
        {
            Console.Out.WriteLine($"Listening on: {address}");
        }

        Console.Out.Flush();
        await app.WaitForShutdownAsync();
    }

    /// <summary>The arguments without <c>--urls VALUE</c> / <c>--urls=VALUE</c>.</summary>
    private static string[] WithoutUrls(string[] args)
    {
        var kept = new List<string>(args.Length);
        for (var i = 0; i < args.Length; i++)
        {
            if (string.Equals(args[i], "--urls", StringComparison.OrdinalIgnoreCase))
            {
                i++;
                continue;
            }

            if (!args[i].StartsWith("--urls=", StringComparison.OrdinalIgnoreCase))
            {
                kept.Add(args[i]);
            }
        }

        return [.. kept];
    }

    private static Dictionary<string, string?> DataDirFromEnvironment() =>
        Environment.GetEnvironmentVariable("PORTHOLE_DATA_DIR") is { Length: > 0 } dir
            ? new() { ["Porthole:DataDir"] = dir }
            : [];

    private static void ConfigureKestrel(WebApplicationBuilder builder, PortholeServerOptions settings, DataDirectory dataDirectory)
    {
        var urls = builder.Configuration["urls"];
        if (string.IsNullOrEmpty(urls))
        {
            urls = settings.DefaultUrl;
        }

        var transport = Transport.TransportChoice.Resolve(
            settings.Transport, urls, builder.Configuration.GetSection("Kestrel:Endpoints").GetChildren().Any(), Transport.Reactor.IsSupported);
        builder.Services.AddSingleton(transport);
        var ownTransport = transport.Transport == Transport.ServerTransport.Porthole;
        if (!ownTransport)
        {
            builder.WebHost.UseUrls(urls);
        }

        // Only HTTPS set-ups get (and print) a certificate; a plain-HTTP one behind a TLS proxy never creates one.
        var certificate = urls.Contains("https://", StringComparison.OrdinalIgnoreCase)
            ? SelfSignedCertificate.LoadOrCreate(dataDirectory.CertificatePath)
            : null;
        builder.Services.AddSingleton(new TlsCertificateHolder(certificate));
        var limits = builder.Configuration.GetSection(HttpLimitsOptions.SectionName).Get<HttpLimitsOptions>() ?? new HttpLimitsOptions();
        limits.Validate();

        // Registered after Kestrel's own factory, so the transport takes this one (see the type for why).
        if (settings.TransportBlockSize > 0)
        {
            builder.Services.AddSingleton<Microsoft.AspNetCore.Connections.IMemoryPoolFactory<byte>>(new LargeBlockMemoryPoolFactory(settings.TransportBlockSize));
        }

        if (ownTransport)
        {
            // Kestrel listens on the URLs' endpoints through Porthole's transport, which does TLS itself; the host is
            // left no URL of its own to bind.
            builder.Services.AddSingleton<Microsoft.AspNetCore.Connections.IConnectionListenerFactory, Transport.PortholeTransportFactory>();
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [WebHostDefaults.ServerUrlsKey] = string.Empty });
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            if (ownTransport)
            {
                foreach (var endpoint in Transport.ListenAddresses.Parse(urls))
                {
                    kestrel.Listen(endpoint, Transport.PortholeEndPoint.Configure);
                }
            }

            kestrel.AddServerHeader = false;
            kestrel.Limits.RequestHeadersTimeout = limits.RequestHeadersTimeout;
            kestrel.Limits.MaxRequestHeadersTotalSize = limits.MaxRequestHeadersTotalSize;
            kestrel.Limits.MaxRequestLineSize = limits.MaxRequestLineSize;
            kestrel.Limits.KeepAliveTimeout = limits.KeepAliveTimeout;
            kestrel.Limits.MaxRequestBodySize = limits.MaxRequestBodySize;

            // Beneath TLS: Kestrel adds UseHttps for an https:// URL after the endpoint defaults.
            kestrel.ConfigureEndpointDefaults(BatchingTransport.Use);
            if (certificate is not null)
            {
                kestrel.ConfigureHttpsDefaults(https =>
                {
                    https.ServerCertificate = certificate;

                    // TLS 1.2 and 1.3 only, whatever the machine's OpenSSL policy allows (issue 8, attack 13).
                    https.SslProtocols = System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13;

                    // No cipher-suite list (OpenSSL's default order, AES-256-GCM first): .NET shares one OpenSSL context
                    // across handshakes only when no list is set. With a list (AES-128-GCM first), every handshake built a
                    // context of its own (≈0.45 ms of server CPU, two per session over TLS) and no session could resume,
                    // to save ≈1 % of CPU per GB relayed (docs/performance.md, ab/19; TlsVersionTests). The AEAD-only
                    // rule a list enforced is kept by TlsSuiteGuardMiddleware.
                });
            }
        });
    }

    /// <summary>The key ring that protects cookies and the credential vault (docs/design/credential-vault.md).</summary>
    private static void ConfigureDataProtection(IServiceCollection services, DataDirectory dataDirectory, IConfiguration configuration)
    {
        var keyRing = configuration.GetSection(Vault.VaultKeyRingOptions.SectionName).Get<Vault.VaultKeyRingOptions>() ?? new();
        var protection = services.AddDataProtection()
            .SetApplicationName("porthole")
            .PersistKeysToFileSystem(new DirectoryInfo(keyRing.KeysDirectory ?? Path.Combine(dataDirectory.Path, "keys")));
        if (keyRing.CertificatePath is not null)
        {
            protection.ProtectKeysWithCertificate(X509CertificateLoader.LoadPkcs12FromFile(keyRing.CertificatePath, keyRing.CertificatePassword));
        }
    }

    private static void ConfigureServices(IServiceCollection services, DataDirectory dataDirectory, PortholeServerOptions settings, IConfiguration configuration)
    {
        services.AddSingleton(TimeProvider.System);
        ConfigureDataProtection(services, dataDirectory, configuration);
        services.AddSingleton<Vault.CredentialVault>();
        // Microsoft.Data.Sqlite retries a locked database until the command timeout; then the request gets 503.
        var busySeconds = (int)Math.Ceiling(settings.DatabaseBusyTimeout.TotalSeconds);
        var writeAheadLog = new SqliteWriteAheadLog();
        // Contexts come from a pool: a new one resolves ≈250 of EF's internal services in a scope of its own, which
        // was the largest share of the server's CPU per session set-up (docs/performance.md). Authentication takes one
        // from the factory per look-up, so the long-lived WebSocket requests hold no context for their life; the
        // endpoints take a scoped one, returned to the pool when the request ends (issue 7).
        // Every committed write but an audit append invalidates what authentication cached (docs/design/access-control.md).
        services.AddSingleton<ReadCache>();
        services.AddSingleton<ReadCacheInvalidator>();
        services.AddPooledDbContextFactory<PortholeDbContext>((provider, db) => db
            .UseSqlite($"Data Source={dataDirectory.DatabasePath}", sqlite => sqlite.CommandTimeout(busySeconds))
            .AddInterceptors(writeAheadLog, provider.GetRequiredService<ReadCacheInvalidator>()));
        services.AddScoped(provider => provider.GetRequiredService<IDbContextFactory<PortholeDbContext>>().CreateDbContext());
        services.AddScoped<AuditLog>();
        services.AddScoped<DeviceCatalog>();
        services.AddSingleton<DeviceSnapshots>();
        services.AddScoped<SessionOpening>();
        services.AddSingleton<PasswordHashing>();
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<IDevicePresence, InMemoryDevicePresence>();
        services.AddSingleton<AgentStreams>();
        services.AddSingleton<ISessionBroker, InMemorySessionBroker>();
        services.AddScoped<TunnelOpener>();
        services.AddSingleton<DataLegAcceptor>();
        services.AddScoped<OpenSessions>();
        services.AddHttpForwarder();
        services.AddSingleton<WebProxy.WebSessionRegistry>();
        services.AddSingleton<WebProxy.WebAccessLog>();
        services.AddScoped<WebProxy.WebSessionLauncher>();
        services.AddHostedService<WebProxy.WebSessionSweeper>();
        services.AddHostedService<WebProxy.WebAccessLogWriter>();
        services.AddSingleton<ShutdownDrain>();
        services.AddHostedService(provider => provider.GetRequiredService<ShutdownDrain>());

        // The host's own stop budget must cover the drain, then Kestrel's stop and the close handshakes after it.
        services.Configure<HostOptions>(host => host.ShutdownTimeout = settings.ShutdownDrainTimeout + TimeSpan.FromSeconds(15));
        services.AddProblemDetails();
        services.AddExceptionHandler<Http.BadRequestExceptionHandler>();
        services.AddExceptionHandler<Http.StorageUnavailableExceptionHandler>();
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(handlers => handlers.ThrowOnBadRequest = true);
        services.AddOpenApi("v1");
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, Porthole.Protocol.Api.ApiJsonContext.Default));

        services.AddSingleton<ApiTokenValidator>();
        services.AddScoped<PasswordSignIn>();
        services.AddAuthentication(WebSessions.PolicySchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, BearerTokenHandler>(BearerTokenHandler.SchemeName, null)
            .AddWebSessions();
        services.AddAntiforgery(antiforgery =>
        {
            antiforgery.HeaderName = "RequestVerificationToken";
            antiforgery.Cookie.Name = "porthole_csrf";
            antiforgery.Cookie.SecurePolicy = Microsoft.AspNetCore.Http.CookieSecurePolicy.Always;
            antiforgery.Cookie.SameSite = SameSiteMode.Strict;
        });
        services.AddRazorPages(pages =>
        {
            pages.RootDirectory = "/Web/Pages";
            pages.Conventions.AuthorizeFolder("/", Permissions.Authenticated);
        });
        services.AddAuthorization(authorization =>
        {
            foreach (var permission in Permissions.All)
            {
                authorization.AddPolicy(permission, policy => policy.RequireClaim(Permissions.ClaimType, permission));
            }

            authorization.AddPolicy(Permissions.Authenticated, policy => policy.RequireClaim(PortholeClaims.UserId));
            authorization.AddPolicy(Permissions.Agent, policy => policy.RequireClaim(PortholeClaims.DeviceId));

            // A route that forgot to declare a policy is denied rather than open.
            authorization.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAssertion(_ => false).Build();
        });
    }

    private static void MapRoutes(WebApplication app)
    {
        var api = app.MapGroup("/api/v1");
        api.MapOpenApi("/openapi.json").AllowAnonymous();
        api.MapAuthApi();
        api.MapDevicesApi();
        api.MapEndpointsApi();
        api.MapEndpointCredentialsApi();
        api.MapSessionsApi();
        api.MapWebSessionsApi();
        api.MapUsersApi();
        api.MapRolesApi();
        api.MapTokensApi();
        api.MapGroupsApi();
        api.MapRemoteAccessApi();
        api.MapAuditApi();

        var agent = api.MapGroup("/agent").WithTags("Agent");
        agent.MapEnrolmentApi();
        agent.MapAgentControl();
        agent.MapAgentSessions();
        agent.MapAgentStreams();

        app.MapRazorPages();
        // Browsers ask for it on every page; without this route the deny-all fallback answers 403.
        app.MapGet("/favicon.ico", () => TypedResults.NoContent()).AllowAnonymous().ExcludeFromDescription();
        app.MapGet("/healthz", () => TypedResults.Ok("ok")).AllowAnonymous().ExcludeFromDescription();
    }
}
