namespace Porthole.Cli;

/// <summary>
/// A failure the user should read: its message becomes the single <c>porthole: …</c> line on stderr and its
/// <see cref="ExitCode"/> the process exit code.
/// </summary>
public sealed class CliException : Exception
{
    public CliException()
    {
    }

    public CliException(string message)
        : this(ExitCodes.Failure, message)
    {
    }

    public CliException(string message, Exception innerException)
        : base(message, innerException)
    {
        ExitCode = ExitCodes.Failure;
    }

    /// <summary>Creates a failure with an explicit exit code (see <see cref="ExitCodes"/>).</summary>
    public CliException(int exitCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        ExitCode = exitCode;
    }

    /// <summary>The process exit code this failure maps to.</summary>
    public int ExitCode { get; } = ExitCodes.Failure;

    /// <summary>The server's machine-readable problem <c>code</c>, when the failure came from an API answer.</summary>
    public string? ProblemCode { get; init; }

    /// <summary>A usage error (exit 2).</summary>
    public static CliException Usage(string message) => new(ExitCodes.Usage, message);
}
