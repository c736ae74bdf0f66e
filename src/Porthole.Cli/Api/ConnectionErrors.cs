using System.Net.Sockets;
using System.Security.Authentication;
using Porthole.Cli.Configuration;

namespace Porthole.Cli.Api;

/// <summary>Turns transport exceptions into the one line a user can act on (server down, certificate not trusted).</summary>
public static class ConnectionErrors
{
    /// <summary>The failure to report when a request to <paramref name="server"/> could not be sent.</summary>
    public static CliException Describe(Uri server, TrustChoice trust, Exception exception)
    {
        var where = server.ToString().TrimEnd('/');
        if (Find<AuthenticationException>(exception) is { } tls)
        {
            if (trust.Fingerprint is not null)
            {
                return new CliException($"cannot reach {where}: its TLS certificate does not match the pinned fingerprint {trust.Fingerprint}; if the server's certificate was replaced on purpose, log in again with the new --fingerprint", exception);
            }

            if (trust.CaCert is not null)
            {
                return new CliException($"cannot reach {where}: its TLS certificate is not issued by the CA in {trust.CaCert} or does not name this host ({tls.Message})", exception);
            }

            return new CliException($"cannot reach {where}: its TLS certificate is not trusted by this system; pin it with --fingerprint (the server prints it at start) or trust its CA with --ca-cert FILE", exception);
        }

        if (Find<SocketException>(exception) is { } socket)
        {
            return new CliException($"cannot reach {where}: {socket.Message}", exception);
        }

        return new CliException($"cannot reach {where}: {Innermost(exception).Message}", exception);
    }

    private static T? Find<T>(Exception? exception)
        where T : Exception
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            if (exception is T found)
            {
                return found;
            }
        }

        return null;
    }

    private static Exception Innermost(Exception exception)
    {
        while (exception.InnerException is not null)
        {
            exception = exception.InnerException;
        }

        return exception;
    }
}
