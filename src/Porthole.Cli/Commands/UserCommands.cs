using System.CommandLine;
using Porthole.Cli.Configuration;
using Porthole.Cli.Output;
using Porthole.Protocol.Api;

namespace Porthole.Cli.Commands;

/// <summary><c>porthole users list|show|add|update|remove|grant|revoke-grant</c>: accounts and their role grants.</summary>
public static class UserCommands
{
    /// <summary>What a grant can be limited to (<c>--action</c>); the server's <c>Actions.All</c>.</summary>
    public static readonly string[] Actions = ["vnc", "terminal", "web", "tunnel", "file-transfer"];

    /// <summary>The <c>users</c> command group.</summary>
    public static Command Build(GlobalOptions global)
    {
        var users = new Command("users", "Manage user accounts and what they may do (needs users:manage)");
        users.Subcommands.Add(BuildList(global));
        users.Subcommands.Add(BuildShow(global));
        users.Subcommands.Add(BuildAdd(global));
        users.Subcommands.Add(BuildUpdate(global));
        users.Subcommands.Add(BuildRemove(global));
        users.Subcommands.Add(BuildGrant(global));
        users.Subcommands.Add(BuildRevokeGrant(global));
        return users;
    }

    private static Command BuildList(GlobalOptions global)
    {
        var json = OutputOptions.Json();
        var command = new Command("list", "List users") { json };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            var users = await api.ListUsersAsync(cancellationToken);
            if (parseResult.GetValue(json))
            {
                JsonOutput.Write(users, ApiJsonContext.Default.ListUserDto);
                return ExitCodes.Success;
            }

            var table = new Table("USERNAME", "STATE", "ROLES", "CREATED");
            foreach (var user in users)
            {
                table.Add(user.Username, State(user), Formats.List(user.Grants.Select(g => g.Role).Distinct()), Formats.Time(user.CreatedAt));
            }

            table.Write(Console.Out);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command BuildShow(GlobalOptions global)
    {
        var name = UserArgument();
        var json = OutputOptions.Json();
        var command = new Command("show", "Show one user and their grants") { name, json };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            var user = await api.GetUserAsync(parseResult.GetValue(name)!, cancellationToken);
            if (parseResult.GetValue(json))
            {
                JsonOutput.Write(user, ApiJsonContext.Default.UserDto);
                return ExitCodes.Success;
            }

            WriteUser(user);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command BuildAdd(GlobalOptions global)
    {
        var name = new Argument<string>("NAME") { Description = "User name (letters, digits, '-', '_', '.')" };
        var roles = new Option<string[]>("--role") { Description = "Grant this role without limits (repeatable; use 'users grant' for limited grants)" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from the first line of stdin (default: the server generates one)" };
        var json = OutputOptions.Json();
        var command = new Command("add", "Create a user") { name, roles, passwordStdin, json };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var context = CliContext.Resolve(parseResult, global);
            var password = parseResult.GetValue(passwordStdin) ? await StdinSecrets.ReadLineAsync("password (first line)", cancellationToken) : null;
            using var api = context.CreateClient();
            var request = new CreateUserRequest(parseResult.GetValue(name)!, password, parseResult.GetValue(roles) ?? []);
            var created = await api.CreateUserAsync(request, cancellationToken);
            if (parseResult.GetValue(json))
            {
                JsonOutput.Write(created, ApiJsonContext.Default.CreateUserResponse);
                return ExitCodes.Success;
            }

            var user = created.User;
            Console.Out.WriteLine($"User '{user.Username}' created (id {user.Id}, roles {Formats.List(user.Grants.Select(g => g.Role))}).");
            if (created.GeneratedPassword is { } generated)
            {
                Console.Out.WriteLine($"Generated password: {generated}");
                Console.Out.WriteLine("It is shown only once and must be changed at first login:");
                Console.Out.WriteLine($"  porthole passwd --server {context.Server} --username {user.Username} --password-stdin");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command BuildUpdate(GlobalOptions global)
    {
        var name = UserArgument();
        var disable = new Option<bool>("--disable") { Description = "Disable the account and revoke its tokens" };
        var enable = new Option<bool>("--enable") { Description = "Enable the account again" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Set a new password from the first line of stdin; the user must change it at next login" };
        var command = new Command("update", "Disable, enable or reset the password of a user") { name, disable, enable, passwordStdin };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var (off, on) = (parseResult.GetValue(disable), parseResult.GetValue(enable));
            if (off && on)
            {
                throw CliException.Usage("give --disable or --enable, not both");
            }

            if (!off && !on && !parseResult.GetValue(passwordStdin))
            {
                throw CliException.Usage("nothing to change; give --disable, --enable or --password-stdin");
            }

            var password = parseResult.GetValue(passwordStdin) ? await StdinSecrets.ReadLineAsync("password (first line)", cancellationToken) : null;
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            var user = await api.UpdateUserAsync(parseResult.GetValue(name)!, new UpdateUserRequest(off ? true : on ? false : null, password), cancellationToken);
            var changes = new List<string>();
            if (off || on)
            {
                changes.Add(user.Disabled ? "disabled" : "enabled");
            }

            if (password is not null)
            {
                changes.Add(user.MustChangePassword ? "password reset; it must be changed at next login with 'porthole passwd'" : "password changed");
            }

            Console.Out.WriteLine($"User '{user.Username}' updated ({string.Join("; ", changes)}).");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command BuildRemove(GlobalOptions global)
    {
        var name = UserArgument();
        var command = new Command("remove", "Remove a user") { name };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            var user = parseResult.GetValue(name)!;
            await api.RemoveUserAsync(user, cancellationToken);
            Console.Out.WriteLine($"User '{user}' removed.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command BuildGrant(GlobalOptions global)
    {
        var name = UserArgument();
        var role = new Option<string>("--role") { Description = "Role to grant", Required = true };
        var groups = new Option<string[]>("--group") { Description = "Limit to devices in this group (path, e.g. plant-1/line-a) and its subgroups (repeatable)" };
        var tags = new Option<string[]>("--tag") { Description = "Limit to devices with this tag (repeatable)" };
        var devices = new Option<string[]>("--device") { Description = "Limit to this device, by name or id (repeatable)" };
        var actions = new Option<string[]>("--action") { Description = "Limit to this kind of session (repeatable)" };
        actions.AcceptOnlyFromAmong(Actions);
        var json = OutputOptions.Json();
        var command = new Command("grant", "Give a user a role, optionally limited to groups, tags, devices and actions") { name, role, groups, tags, devices, actions, json };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            var username = parseResult.GetValue(name)!;

            // The server answers with the whole user; the grant's id is the one that was not there before.
            var before = (await api.GetUserAsync(username, cancellationToken)).Grants.Select(g => g.Id).ToHashSet(StringComparer.Ordinal);
            var request = new AddGrantRequest(
                parseResult.GetValue(role)!, parseResult.GetValue(groups) ?? [], parseResult.GetValue(tags) ?? [], parseResult.GetValue(devices) ?? [], parseResult.GetValue(actions) ?? []);
            var user = await api.AddGrantAsync(username, request, cancellationToken);
            if (parseResult.GetValue(json))
            {
                JsonOutput.Write(user, ApiJsonContext.Default.UserDto);
                return ExitCodes.Success;
            }

            var added = user.Grants.FirstOrDefault(g => !before.Contains(g.Id));
            Console.Out.WriteLine(added is null
                ? $"Granted {request.Role} to {user.Username}."
                : $"Granted {Describe(added)} to {user.Username} (grant {added.Id}).");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command BuildRevokeGrant(GlobalOptions global)
    {
        var name = UserArgument();
        var grant = new Argument<string>("GRANT_ID") { Description = "The grant's id (see 'porthole users show')" };
        var command = new Command("revoke-grant", "Take a grant away from a user") { name, grant };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            var (user, id) = (parseResult.GetValue(name)!, parseResult.GetValue(grant)!);
            await api.RemoveGrantAsync(user, id, cancellationToken);
            Console.Out.WriteLine($"Grant {id} revoked from '{user}'.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static void WriteUser(UserDto user)
    {
        var output = Console.Out;
        output.WriteLine($"Username:  {user.Username}");
        output.WriteLine($"ID:        {user.Id}");
        output.WriteLine($"State:     {State(user)}");
        output.WriteLine($"Created:   {Formats.Time(user.CreatedAt)}");
        if (user.Grants.Count == 0)
        {
            output.WriteLine("Grants:    none");
            return;
        }

        output.WriteLine("Grants:");
        var table = new Table("ID", "ROLE", "GROUPS", "TAGS", "DEVICES", "ACTIONS");
        foreach (var grant in user.Grants)
        {
            table.Add(grant.Id, grant.Role, Formats.List(grant.Groups), Formats.List(grant.Tags), Formats.List(grant.Devices), Formats.List(grant.Actions));
        }

        table.Write(output);
    }

    private static string State(UserDto user) =>
        user.Disabled ? "disabled" : user.MustChangePassword ? "must change password" : "active";

    private static string Describe(GrantDto grant)
    {
        var limits = new List<string>();
        AddLimit(limits, "groups", grant.Groups);
        AddLimit(limits, "tags", grant.Tags);
        AddLimit(limits, "devices", grant.Devices);
        AddLimit(limits, "actions", grant.Actions);
        return grant.Role + (limits.Count == 0 ? " (unrestricted)" : " on " + string.Join("; ", limits));
    }

    private static void AddLimit(List<string> limits, string kind, IReadOnlyList<string> values)
    {
        if (values.Count > 0)
        {
            limits.Add(kind + " " + string.Join(',', values));
        }
    }

    private static Argument<string> UserArgument() => new("NAME") { Description = "User name or id" };
}
