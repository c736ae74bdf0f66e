namespace Porthole.Cli;

/// <summary>The process exit codes scripts can rely on (docs/design/cli.md).</summary>
public static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Success = 0;

    /// <summary>The server or the network reported a failure.</summary>
    public const int Failure = 1;

    /// <summary>The command line was wrong.</summary>
    public const int Usage = 2;

    /// <summary>No server or token is configured, or the server rejected the token.</summary>
    public const int NotLoggedIn = 3;
}
