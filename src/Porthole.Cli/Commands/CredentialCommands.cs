using System.CommandLine;
using Porthole.Cli.Configuration;
using Porthole.Cli.Output;
using Porthole.Protocol.Api;

namespace Porthole.Cli.Commands;

/// <summary>
/// <c>porthole endpoints set-credential|clear-credential|forget-host-key</c>. Secrets come from stdin or a file, never
/// from the command line (where other users could read them in the process list).
/// </summary>
public static class CredentialCommands
{
    private static readonly string[] Kinds = ["vnc-password", "ssh-password", "ssh-key", "http-password"];

    /// <summary>Adds the credential commands to the <c>endpoints</c> group.</summary>
    public static void AddTo(Command endpoints, GlobalOptions global)
    {
        endpoints.Subcommands.Add(BuildSet(global));
        endpoints.Subcommands.Add(BuildClear(global));
        endpoints.Subcommands.Add(BuildForgetHostKey(global));
    }

    private static Command BuildSet(GlobalOptions global)
    {
        var target = EndpointCommands.TargetArgument();
        var kind = new Option<string>("--kind") { Description = "vnc-password, ssh-password, ssh-key or http-password", Required = true };
        kind.AcceptOnlyFromAmong(Kinds);
        var username = new Option<string?>("--username") { Description = "User name (ssh-*, http-password)" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from the first line of stdin" };
        var privateKey = new Option<FileInfo?>("--private-key") { Description = "Private key file (ssh-key), OpenSSH or PEM format" };
        var passphraseStdin = new Option<bool>("--passphrase-stdin") { Description = "Read the private key's passphrase from the first line of stdin" };
        var json = OutputOptions.Json();
        var command = new Command("set-credential", "Store a credential the server uses on your behalf; it is never shown again")
        {
            target, kind, username, passwordStdin, privateKey, passphraseStdin, json,
        };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var which = EndpointRef.Parse(parseResult.GetValue(target));
            var chosen = parseResult.GetValue(kind)!;
            string? password = null, key = null, passphrase = null;
            if (chosen == "ssh-key")
            {
                var file = parseResult.GetValue(privateKey) ?? throw CliException.Usage("ssh-key needs --private-key FILE");
                key = await File.ReadAllTextAsync(file.FullName, cancellationToken);
                passphrase = parseResult.GetValue(passphraseStdin) ? await ReadLineAsync("passphrase", cancellationToken) : null;
            }
            else
            {
                if (!parseResult.GetValue(passwordStdin))
                {
                    throw CliException.Usage($"{chosen} needs the password on stdin: --password-stdin");
                }

                password = await ReadLineAsync("password", cancellationToken);
            }

            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            var updated = await api.SetCredentialAsync(which.Device, which.Endpoint, new SetCredentialRequest(chosen, parseResult.GetValue(username), password, key, passphrase), cancellationToken);
            if (parseResult.GetValue(json))
            {
                JsonOutput.Write(updated, ApiJsonContext.Default.EndpointDto);
            }
            else
            {
                Console.Out.WriteLine($"Credential stored for '{updated.DeviceName}/{updated.Name}' ({updated.Credential?.Kind}).");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command BuildClear(GlobalOptions global)
    {
        var target = EndpointCommands.TargetArgument();
        var command = new Command("clear-credential", "Delete an endpoint's stored credential") { target };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var which = EndpointRef.Parse(parseResult.GetValue(target));
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            await api.ClearCredentialAsync(which.Device, which.Endpoint, cancellationToken);
            Console.Out.WriteLine($"Credential of '{which}' cleared.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command BuildForgetHostKey(GlobalOptions global)
    {
        var target = EndpointCommands.TargetArgument();
        var command = new Command("forget-host-key", "Accept a changed SSH host key or HTTPS device certificate: the next connection pins the one it sees") { target };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var which = EndpointRef.Parse(parseResult.GetValue(target));
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            await api.ForgetSshHostKeyAsync(which.Device, which.Endpoint, cancellationToken);
            Console.Out.WriteLine($"Pinned SSH host key or TLS certificate of '{which}' forgotten; the next connection pins the one it sees.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static async Task<string> ReadLineAsync(string what, CancellationToken cancellationToken) =>
        await Console.In.ReadLineAsync(cancellationToken) is { Length: > 0 } line
            ? line
            : throw CliException.Usage($"no {what} on stdin");
}
