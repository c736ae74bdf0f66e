namespace Porthole.Tunnel.Transport;

/// <summary>
/// The values of <c>PORTHOLE_CLIENT_TLS</c>: who does TLS for the agent's and the CLI's connections to an
/// <c>https://</c> server (docs/design/tls-data-plane.md, "OpenSSL in the agent and the CLI").
/// </summary>
public enum ClientTlsChoice
{
    /// <summary>OpenSSL on the socket where libssl 3 loads, <see cref="System.Net.Security.SslStream"/> otherwise. The default.</summary>
    Auto,

    /// <summary>OpenSSL on the socket; every https request fails where libssl 3 cannot be loaded.</summary>
    OpenSsl,

    /// <summary><see cref="System.Net.Http.SocketsHttpHandler"/>'s own TLS (<see cref="System.Net.Security.SslStream"/>).</summary>
    SslStream,
}

/// <summary>Reads <see cref="ClientTlsChoice"/> from the environment.</summary>
public static class ClientTls
{
    /// <summary>The environment variable that chooses.</summary>
    public const string Variable = "PORTHOLE_CLIENT_TLS";

    /// <summary>
    /// Why the environment's choice cannot be used (a value that is not one of the three names, or <c>OpenSsl</c> where
    /// libssl 3 does not load), or <c>null</c>. The agent and the CLI ask at start, so that this is a one-line usage
    /// error rather than an exception at the first connection.
    /// </summary>
    public static string? Problem()
    {
        try
        {
            return FromEnvironment() == ClientTlsChoice.OpenSsl && !Tls.OpenSslClientContext.IsSupported
                ? $"{Variable}=OpenSsl, but libssl.so.3 cannot be loaded here"
                : null;
        }
        catch (ArgumentException ex)
        {
            return ex.Message;
        }
    }

    /// <summary>The choice in <see cref="Variable"/>; <see cref="ClientTlsChoice.Auto"/> when it is not set.</summary>
    /// <exception cref="ArgumentException">The variable holds something else than the three names.</exception>
    public static ClientTlsChoice FromEnvironment() => Parse(Environment.GetEnvironmentVariable(Variable));

    /// <summary>The choice <paramref name="value"/> names, in any case; <see cref="ClientTlsChoice.Auto"/> for none.</summary>
    /// <exception cref="ArgumentException"><paramref name="value"/> is something else than the three names.</exception>
    public static ClientTlsChoice Parse(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return ClientTlsChoice.Auto;
        }

        return Enum.GetNames<ClientTlsChoice>().FirstOrDefault(name => name.Equals(value.Trim(), StringComparison.OrdinalIgnoreCase)) is { } name
            ? Enum.Parse<ClientTlsChoice>(name)
            : throw new ArgumentException($"{Variable} must be Auto, OpenSsl or SslStream, not '{value}'");
    }
}
