using System.CommandLine;
using Porthole.Cli.Configuration;
using Porthole.Protocol.Api;

namespace Porthole.Cli.Commands;

/// <summary><c>porthole login</c>, <c>porthole logout</c> and <c>porthole passwd</c>.</summary>
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
            LoginResponse login;
            try
            {
                login = await api.LoginAsync(new LoginRequest(name, password, parseResult.GetValue(tokenName)), cancellationToken);
            }
            catch (CliException ex) when (ex.ProblemCode == ProblemCodes.PasswordChangeRequired)
            {
                // The server's detail names the command; add the exact invocation, which needs --password-stdin.
                throw new CliException(
                    $"{ex.Message} (here: porthole passwd --server {server} --username {name} --password-stdin, with the current password on the first stdin line and the new one on the second)",
                    ex);
            }

            var trust = context.Trust;
            context.Store.Save(new CliConfig(server, login.Token, trust.Fingerprint, trust.CaCert, trust.Insecure));
            Console.Out.WriteLine($"Logged in to {server} as {login.Username}.");
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>
    /// <c>passwd --server URL --username NAME --password-stdin</c>: changes a password without being logged in, which
    /// is how a user with a generated password gets in.
    /// </summary>
    public static Command BuildPasswd(GlobalOptions global)
    {
        var username = new Option<string>("--username", "-u") { Description = "User name", Required = true };
        var passwordStdin = new Option<bool>("--password-stdin")
        {
            Description = "Read the current password from the first line of stdin and the new one from the second",
            Required = true,
        };
        var command = new Command("passwd", "Change a password (works without being logged in)") { username, passwordStdin };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var context = CliContext.Resolve(parseResult, global);
            if (!parseResult.GetValue(passwordStdin))
            {
                throw CliException.Usage("pass the current and the new password on stdin with --password-stdin");
            }

            // Unlike login, the saved server is a fine default: nothing is saved and no token is sent.
            var server = context.Server ?? throw CliException.Usage("passwd needs --server URL");
            var current = await StdinSecrets.ReadLineAsync("current password (first line)", cancellationToken);
            var replacement = await StdinSecrets.ReadLineAsync("new password (second line)", cancellationToken);
            var name = parseResult.GetValue(username)!;
            using var api = context.CreateClient(server, token: null);
            await api.ChangePasswordAsync(new ChangePasswordRequest(name, current, replacement), cancellationToken);
            Console.Out.WriteLine($"Password changed for {name}.");
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
