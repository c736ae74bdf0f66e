using System.CommandLine;

namespace Porthole.Cli.Commands;

/// <summary>Options that choose the output format.</summary>
public static class OutputOptions
{
    /// <summary>A new <c>--json</c> flag (each command needs its own instance).</summary>
    public static Option<bool> Json() => new("--json") { Description = "Print JSON for scripts instead of text" };
}
