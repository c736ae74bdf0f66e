using System.CommandLine;
using Porthole.Cli.Api;
using Porthole.Cli.Commands;

namespace Porthole.Cli.Configuration;

/// <summary>
/// The server, token and trust a command uses, resolved from (highest first) command-line options, the
/// environment (<c>PORTHOLE_SERVER</c>, <c>PORTHOLE_TOKEN</c>, <c>PORTHOLE_FINGERPRINT</c>, <c>PORTHOLE_CA_CERT</c>)
/// and the config file.
/// </summary>
public sealed class CliContext
{
    /// <summary>The message of exit code 3 when nothing is configured.</summary>
    public const string NotLoggedInMessage = "not logged in; run 'porthole login --server URL --username NAME --password-stdin'";

    private CliContext(CliConfigStore store, CliConfig? saved, string? server, string? token, TrustChoice trust)
    {
        Store = store;
        Saved = saved;
        Server = server;
        Token = token;
        Trust = trust;
    }

    /// <summary>Where the config lives.</summary>
    public CliConfigStore Store { get; }

    /// <summary>The config file's content, if there is one.</summary>
    public CliConfig? Saved { get; }

    /// <summary>The server URL as configured (no trailing slash), if any.</summary>
    public string? Server { get; }

    /// <summary>The API token, if any.</summary>
    public string? Token { get; }

    /// <summary>How to trust the server's certificate.</summary>
    public TrustChoice Trust { get; }

    /// <summary>Resolves the context of the command being run.</summary>
    public static CliContext Resolve(ParseResult parseResult, GlobalOptions options)
    {
        var store = CliConfigStore.Default();
        var saved = store.Load();
        var server = ServerUrl.Normalize(parseResult.GetValue(options.Server))
            ?? ServerUrl.Normalize(Environment("PORTHOLE_SERVER"))
            ?? ServerUrl.Normalize(saved?.Server);

        // The saved token and pin belong to the saved server: never send that token to, or apply that pin on, another one.
        var sameServer = saved is not null && ServerUrl.Same(saved.Server, server);
        var token = Environment("PORTHOLE_TOKEN") ?? (sameServer ? saved!.Token : null);

        var trust = TrustChoice.From(parseResult.GetValue(options.Fingerprint), parseResult.GetValue(options.CaCert)?.FullName, parseResult.GetValue(options.Insecure), "--fingerprint, --ca-cert, --insecure")
            ?? TrustChoice.From(Environment("PORTHOLE_FINGERPRINT"), Environment("PORTHOLE_CA_CERT"), insecure: false, "PORTHOLE_FINGERPRINT, PORTHOLE_CA_CERT")
            ?? (sameServer ? TrustChoice.From(saved!.Fingerprint, saved.CaCert, saved.Insecure, "config file " + store.Path) : null)
            ?? TrustChoice.System;

        return new CliContext(store, saved, server, token, trust);
    }

    /// <summary>A client authenticated with the configured token; exit 3 when there is no server or token.</summary>
    public PortholeApiClient CreateClient()
    {
        if (Server is null || Token is null)
        {
            throw new CliException(ExitCodes.NotLoggedIn, NotLoggedInMessage);
        }

        return CreateClient(Server, Token);
    }

    /// <summary>A client for <paramref name="server"/> with this context's trust (and an optional token).</summary>
    public PortholeApiClient CreateClient(string server, string? token)
    {
        var baseAddress = ServerUrl.Parse(server);
        Trust.WarnIfInsecure();
        return new PortholeApiClient(baseAddress, token, Trust);
    }

    private static string? Environment(string name) =>
        System.Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value.Trim() : null;
}
