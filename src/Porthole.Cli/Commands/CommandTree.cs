using System.CommandLine;

namespace Porthole.Cli.Commands;

/// <summary>Builds the whole <c>porthole</c> command tree.</summary>
public static class CommandTree
{
    /// <summary>The root command with every subcommand and the global options.</summary>
    public static RootCommand Build()
    {
        var global = new GlobalOptions();
        var root = new RootCommand("Porthole: reach services behind remote gateways through the Porthole server.");
        global.AddTo(root);
        root.Subcommands.Add(LoginCommands.BuildLogin(global));
        root.Subcommands.Add(LoginCommands.BuildLogout(global));
        root.Subcommands.Add(LoginCommands.BuildPasswd(global));
        root.Subcommands.Add(TokenCommands.Build(global));
        root.Subcommands.Add(DeviceCommands.Build(global));
        root.Subcommands.Add(EndpointCommands.Build(global));
        root.Subcommands.Add(GroupCommands.Build(global));
        root.Subcommands.Add(RemoteAccessCommands.Build(global));
        root.Subcommands.Add(UserCommands.Build(global));
        root.Subcommands.Add(RoleCommands.Build(global));
        root.Subcommands.Add(AuditCommands.Build(global));
        root.Subcommands.Add(ActiveSessionCommands.Build(global));
        root.Subcommands.Add(SessionCommands.BuildForward(global));
        root.Subcommands.Add(SessionCommands.BuildConnect(global));
        root.Subcommands.Add(WebCommands.Build(global));
        return root;
    }
}
