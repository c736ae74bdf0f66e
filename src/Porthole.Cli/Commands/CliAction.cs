using System.CommandLine;

namespace Porthole.Cli.Commands;

/// <summary>
/// Wraps a command's body so every failure ends as one <c>porthole: …</c> line on stderr and a documented exit code.
/// </summary>
public static class CliAction
{
    /// <summary>Sets <paramref name="body"/> as the action of <paramref name="command"/>.</summary>
    public static void Set(Command command, Func<ParseResult, CancellationToken, Task<int>> body)
    {
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            try
            {
                return await body(parseResult, cancellationToken);
            }
            catch (CliException ex)
            {
                await Console.Error.WriteLineAsync("porthole: " + ex.Message);
                return ex.ExitCode;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await Console.Error.WriteLineAsync("porthole: interrupted");
                return 130;
            }
        });
    }
}
