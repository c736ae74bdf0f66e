using System.Net.WebSockets;
using Microsoft.Win32.SafeHandles;
using Porthole.Cli.Api;
using Porthole.Cli.Commands;
using Porthole.Tunnel.Relay;

namespace Porthole.Cli.Sessions;

/// <summary>
/// <c>porthole connect</c>: one session over stdin/stdout, e.g. as an ssh <c>ProxyCommand</c>. stdout carries
/// session bytes only; every message goes to stderr.
/// </summary>
public static class StdioSession
{
    /// <summary>Runs the session and returns the exit code.</summary>
    public static async Task<int> RunAsync(SessionOpener opener, EndpointRef target, CancellationToken cancellationToken)
    {
        using var webSocket = await opener.OpenAsync(target, cancellationToken);
        var input = Console.OpenStandardInput();
        using var output = OpenStandardOutput();
        var result = await StreamTunnel.RunAsync(webSocket, input, output, output.Dispose, "local", cancellationToken: cancellationToken);

        // stdin is deliberately not awaited or disposed: console reads ignore cancellation, and returning lets the
        // process exit even while a read is still blocked.
        if (result.Succeeded || webSocket.CloseStatus == WebSocketCloseStatus.NormalClosure)
        {
            return ExitCodes.Success;
        }

        throw new CliException($"{target}: {result.FailureReason ?? "the session ended abnormally"}");
    }

    /// <summary>
    /// A stream that owns file descriptor 1 itself. <see cref="Console.OpenStandardOutput()"/> writes to a duplicate,
    /// so disposing it would not close stdout and the reader (ssh) would never see the half-close (EOF).
    /// </summary>
    private static Stream OpenStandardOutput()
    {
        if (!OperatingSystem.IsWindows())
        {
            try
            {
                return new FileStream(new SafeFileHandle(1, ownsHandle: true), FileAccess.Write, bufferSize: 0);
            }
            catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException)
            {
                // Fall back to the console's stream; only the half-close is lost.
            }
        }

        return Console.OpenStandardOutput();
    }
}
