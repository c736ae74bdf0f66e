using System.CommandLine;
using Porthole.Cli.Configuration;
using Porthole.Cli.Output;
using Porthole.Protocol.Api;

namespace Porthole.Cli.Commands;

/// <summary><c>porthole roles list|add|update|remove</c>: named sets of permissions (built-in ones are read-only).</summary>
public static class RoleCommands
{
    /// <summary>The <c>roles</c> command group.</summary>
    public static Command Build(GlobalOptions global)
    {
        var roles = new Command("roles", "Manage roles, the sets of permissions granted to users (needs users:manage)");
        roles.Subcommands.Add(BuildList(global));
        roles.Subcommands.Add(BuildAdd(global));
        roles.Subcommands.Add(BuildUpdate(global));
        roles.Subcommands.Add(BuildRemove(global));
        return roles;
    }

    private static Command BuildList(GlobalOptions global)
    {
        var json = OutputOptions.Json();
        var command = new Command("list", "List roles") { json };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            var roles = await api.ListRolesAsync(cancellationToken);
            if (parseResult.GetValue(json))
            {
                JsonOutput.Write(roles, ApiJsonContext.Default.ListRoleDto);
                return ExitCodes.Success;
            }

            var table = new Table("NAME", "BUILT-IN", "PERMISSIONS", "DESCRIPTION");
            foreach (var role in roles)
            {
                table.Add(role.Name, Formats.YesNo(role.BuiltIn), Formats.List(role.Permissions), Formats.OrDash(role.Description));
            }

            table.Write(Console.Out);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command BuildAdd(GlobalOptions global)
    {
        var name = new Argument<string>("NAME") { Description = "Role name (letters, digits, '-', '_', '.')" };
        var permissions = PermissionOption();
        permissions.Required = true;
        var description = new Option<string?>("--description") { Description = "Free text" };
        var json = OutputOptions.Json();
        var command = new Command("add", "Create a custom role") { name, permissions, description, json };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            var role = await api.CreateRoleAsync(
                new CreateRoleRequest(parseResult.GetValue(name)!, parseResult.GetValue(permissions) ?? [], parseResult.GetValue(description)), cancellationToken);
            if (parseResult.GetValue(json))
            {
                JsonOutput.Write(role, ApiJsonContext.Default.RoleDto);
            }
            else
            {
                Console.Out.WriteLine($"Role '{role.Name}' created ({Formats.List(role.Permissions)}).");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command BuildUpdate(GlobalOptions global)
    {
        var name = RoleArgument();
        var permissions = PermissionOption();
        permissions.Description += "; replaces the current set";
        var description = new Option<string?>("--description") { Description = "New description" };
        var command = new Command("update", "Change a custom role; options not given keep their value") { name, permissions, description };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var given = parseResult.GetValue(permissions);
            var request = new UpdateRoleRequest(given is { Length: > 0 } ? given : null, parseResult.GetValue(description));
            if (request.Permissions is null && request.Description is null)
            {
                throw CliException.Usage("nothing to change; give --permission or --description");
            }

            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            var role = await api.UpdateRoleAsync(parseResult.GetValue(name)!, request, cancellationToken);
            Console.Out.WriteLine($"Role '{role.Name}' updated ({Formats.List(role.Permissions)}).");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command BuildRemove(GlobalOptions global)
    {
        var name = RoleArgument();
        var command = new Command("remove", "Remove a custom role that is granted to nobody") { name };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            var role = parseResult.GetValue(name)!;
            await api.RemoveRoleAsync(role, cancellationToken);
            Console.Out.WriteLine($"Role '{role}' removed.");
            return ExitCodes.Success;
        });
        return command;
    }

    // The server validates the names and lists the valid ones in its answer; the CLI does not keep a copy.
    private static Option<string[]> PermissionOption() =>
        new("--permission") { Description = "A permission, e.g. devices:read or remote-access:connect (repeatable)" };

    private static Argument<string> RoleArgument() => new("NAME") { Description = "Role name or id" };
}
