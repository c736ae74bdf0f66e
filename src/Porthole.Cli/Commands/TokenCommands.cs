using System.CommandLine;
using Porthole.Cli.Configuration;
using Porthole.Cli.Output;
using Porthole.Protocol.Api;

namespace Porthole.Cli.Commands;

/// <summary><c>porthole tokens create|list|revoke</c>: the caller's own API tokens, for automation.</summary>
public static class TokenCommands
{
    /// <summary>The <c>tokens</c> command group.</summary>
    public static Command Build(GlobalOptions global)
    {
        var tokens = new Command("tokens", "Create, list and revoke your API tokens (for scripts and automation)");
        tokens.Subcommands.Add(BuildCreate(global));
        tokens.Subcommands.Add(BuildList(global));
        tokens.Subcommands.Add(BuildRevoke(global));
        return tokens;
    }

    private static Command BuildCreate(GlobalOptions global)
    {
        var name = new Argument<string>("NAME") { Description = "Token name (letters, digits, '-', '_', '.')" };
        var scopes = new Option<string[]>("--scope") { Description = "Limit the token to this permission, e.g. devices:read (repeatable; default: all of yours)" };
        var expires = new Option<int?>("--expires-in-days") { Description = "Lifetime in days (server default: 90)" };
        var json = OutputOptions.Json();
        var command = new Command("create", "Create an API token; its secret is printed once") { name, scopes, expires, json };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            var given = parseResult.GetValue(scopes);
            var request = new CreateTokenRequest(parseResult.GetValue(name)!, given is { Length: > 0 } ? given : null, parseResult.GetValue(expires));
            var created = await api.CreateTokenAsync(request, cancellationToken);
            if (parseResult.GetValue(json))
            {
                JsonOutput.Write(created, ApiJsonContext.Default.CreateTokenResponse);
                return ExitCodes.Success;
            }

            var details = created.Details;
            var output = Console.Out;
            output.WriteLine($"Token '{details.Name}' created (id {details.Id}).");
            output.WriteLine($"Scopes:   {(details.Scopes is null ? "all of your permissions" : Formats.List(details.Scopes))}");
            output.WriteLine($"Expires:  {(details.ExpiresAt is { } at ? Formats.Time(at) : "never")}");
            output.WriteLine($"Token:    {created.Token}");
            output.WriteLine("This is the only time the token is shown; store it now (e.g. as PORTHOLE_TOKEN).");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command BuildList(GlobalOptions global)
    {
        var json = OutputOptions.Json();
        var command = new Command("list", "List your API tokens; * marks the one in use") { json };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            var tokens = await api.ListTokensAsync(cancellationToken);
            if (parseResult.GetValue(json))
            {
                JsonOutput.Write(tokens, ApiJsonContext.Default.ListTokenDto);
                return ExitCodes.Success;
            }

            var now = DateTimeOffset.UtcNow;
            var table = new Table("ID", "NAME", "SCOPES", "CREATED", "EXPIRES", "STATE", "CURRENT");
            foreach (var token in tokens)
            {
                table.Add(
                    token.Id,
                    token.Name,
                    token.Scopes is null ? "all" : Formats.List(token.Scopes),
                    Formats.Time(token.CreatedAt),
                    token.ExpiresAt is { } at ? Formats.Time(at) : "never",
                    State(token, now),
                    token.Current ? "*" : "");
            }

            table.Write(Console.Out);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command BuildRevoke(GlobalOptions global)
    {
        var which = new Argument<string>("ID_OR_NAME") { Description = "The token's id or name" };
        var command = new Command("revoke", "Revoke one of your API tokens") { which };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var context = CliContext.Resolve(parseResult, global);
            using var api = context.CreateClient();
            var given = parseResult.GetValue(which)!;

            // The server revokes any one active token with that name; names repeat (every login makes a "cli"
            // token), so resolve the name here and refuse to guess.
            var now = DateTimeOffset.UtcNow;
            var active = (await api.ListTokensAsync(cancellationToken)).Where(t => State(t, now) == "active").ToList();
            var byId = active.FirstOrDefault(t => t.Id == given);
            var byName = active.Where(t => t.Name == given).ToList();
            if (byId is null && byName.Count > 1)
            {
                throw CliException.Usage($"{byName.Count} active tokens are named '{given}'; revoke one by id: {string.Join(", ", byName.Select(t => t.Id))}");
            }

            var token = byId ?? byName.SingleOrDefault();
            await api.RevokeTokenAsync(token?.Id ?? given, cancellationToken);
            Console.Out.WriteLine(token is null ? $"Token '{given}' revoked." : $"Token '{token.Name}' ({token.Id}) revoked.");
            if (token?.Current == true)
            {
                // As logout does: a revoked token in the config file would only fail later with a less clear message.
                if (context.Saved is { Token: not null } saved && saved.Token == context.Token)
                {
                    context.Store.Save(saved with { Token = null });
                }

                Console.Out.WriteLine("It was the token this CLI uses; run 'porthole login' again.");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static string State(TokenDto token, DateTimeOffset now) =>
        token.RevokedAt is not null ? "revoked" : token.ExpiresAt <= now ? "expired" : "active";
}
