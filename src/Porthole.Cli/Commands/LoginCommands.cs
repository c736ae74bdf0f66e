using System.CommandLine;
using Porthole.Cli.Configuration;
using Porthole.Protocol.Api;

namespace Porthole.Cli.Commands;

/// <summary><c>porthole login</c> and <c>porthole logout</c>.</summary>
public static class LoginCommands
{
    /// <summary>
    /// <c>login --server URL --username NAME --password-stdin [--fingerprint|--ca-cert|--insecure] [--token-name NAME]</c>.
    /// </summary>
    public static Command BuildLogin(GlobalOptions global)
    {
        var username = new Option<string>("--username", "-u") { Description = "User name", Required = true };
        var passwordStdin = new Option<bool>("--password-stdin")
        {
            Description = "Read the password from the first line of stdin (keeps it out of the process list and shell history)",
            Required = true,
        };
        var tokenName = new Option<string?>("--token-name") { Description = "Name of the API token the server creates (default: cli)" };
        var command = new Command("login", "Log in and store the server, an API token and the certificate trust in the config file")
        {
            username,
            passwordStdin,
            tokenName,
        };

        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var context = CliContext.Resolve(parseResult, global);
            if (!parseResult.GetValue(passwordStdin))
            {
                throw CliException.Usage("pass the password on stdin with --password-stdin");
            }

            var server = ServerUrl.Normalize(parseResult.GetValue(global.Server))
                ?? ServerUrl.Normalize(Environment.GetEnvironmentVariable("PORTHOLE_SERVER"))
                ?? throw CliException.Usage("login needs --server URL");
            var password = await Console.In.ReadLineAsync(cancellationToken);
            if (string.IsNullOrEmpty(password))
            {
                throw CliException.Usage("no password on stdin (--password-stdin reads its first line)");
            }

            var name = parseResult.GetValue(username)!;
            using var api = context.CreateClient(server, token: null);
            var login = await api.LoginAsync(new LoginRequest(name, password, parseResult.GetValue(tokenName)), cancellationToken);

            var trust = context.Trust;
            context.Store.Save(new CliConfig(server, login.Token, trust.Fingerprint, trust.CaCert, trust.Insecure));
            Console.Out.WriteLine($"Logged in to {server} as {login.Username}.");
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary><c>logout</c>: revokes the token on the server and removes it from the config file.</summary>
    public static Command BuildLogout(GlobalOptions global)
    {
        var command = new Command("logout", "Revoke the API token on the server and remove it from the config file");
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var context = CliContext.Resolve(parseResult, global);
            using var api = context.CreateClient();
            string? note = null;
            try
            {
                await api.LogoutAsync(cancellationToken);
            }
            catch (CliException ex) when (ex.ExitCode == ExitCodes.NotLoggedIn)
            {
                // The token is already useless (revoked or expired); forgetting it is all that is left to do.
                note = ex.Message;
            }

            if (context.Saved is { Token: not null } saved && saved.Token == context.Token)
            {
                context.Store.Save(saved with { Token = null });
            }

            Console.Out.WriteLine(note is null ? $"Logged out of {context.Server}." : $"Logged out of {context.Server} ({note}).");
            return ExitCodes.Success;
        });
        return command;
    }
}
