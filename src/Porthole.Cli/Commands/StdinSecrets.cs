namespace Porthole.Cli.Commands;

/// <summary>
/// Reads passwords from stdin, one per line (<c>--password-stdin</c>), so they stay out of the process list and
/// the shell history.
/// </summary>
public static class StdinSecrets
{
    /// <summary>Reads the next line; a missing or empty line is a usage error naming <paramref name="what"/>, e.g. "new password (second line)".</summary>
    public static async Task<string> ReadLineAsync(string what, CancellationToken cancellationToken)
    {
        var line = await Console.In.ReadLineAsync(cancellationToken);
        return string.IsNullOrEmpty(line)
            ? throw CliException.Usage($"no {what} on stdin")
            : line;
    }
}
