using System.CommandLine;
using Porthole.Cli.Commands;

namespace Porthole.Cli;

/// <summary>Entry point of the <c>porthole</c> command.</summary>
public static class Program
{
    /// <summary>Parses <paramref name="args"/>, runs the chosen command and returns its exit code.</summary>
    public static async Task<int> Main(string[] args)
    {
        Tunnel.Transport.InlineSocketCompletions.Enable();
        if (Tunnel.Transport.ClientTls.Problem() is { } problem)
        {
            await Console.Error.WriteLineAsync("porthole: " + problem);
            return ExitCodes.Usage;
        }

        var root = CommandTree.Build();
        var parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0 && parseResult.Action is System.CommandLine.Invocation.ParseErrorAction)
        {
            // One line per docs/design/cli.md, exit 2 for usage errors (System.CommandLine's default is 1 plus the help text).
            var messages = string.Join("; ", parseResult.Errors.Select(e => OneLine(e.Message)));
            await Console.Error.WriteLineAsync($"porthole: {messages} (see 'porthole --help')");
            return ExitCodes.Usage;
        }

        // Commands that run until interrupted (forward) handle SIGINT/SIGTERM themselves; the others may simply die.
        return await parseResult.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }

    // Some parser messages list choices on separate lines; scripts expect one line per failure.
    private static string OneLine(string message) =>
        string.Join(' ', message.Split(['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
