using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Porthole.Tunnel.Transport;

/// <summary>
/// Dials an <c>https</c> server for a connection whose TLS is ours (<see cref="ClientTlsHandler"/>), as
/// <c>SocketsHttpHandler</c> would: straight, or through the <c>HTTPS_PROXY</c> the environment names (unless
/// <c>NO_PROXY</c> exempts the server) with an HTTP <c>CONNECT</c> tunnel, which is all a proxy sees of the connection.
/// </summary>
public static class ProxyDialer
{
    // The proxy's answer to CONNECT is a status line and a few headers; anything longer is not a proxy we can use.
    private const int MaxAnswer = 16 * 1024;

    /// <summary>
    /// Whether <see cref="DialAsync"/> can reach <paramref name="server"/>: straight, or through a plain <c>http://</c>
    /// proxy. Another kind of proxy (SOCKS, an <c>https://</c> proxy) is left to <c>SocketsHttpHandler</c>.
    /// </summary>
    public static bool CanDial(Uri server) => ProxyFor(server) is null or { Scheme: "http" };

    /// <summary>The proxy the environment names for <paramref name="server"/>, or <c>null</c> to dial it straight.</summary>
    public static Uri? ProxyFor(Uri server)
    {
        var proxy = HttpClient.DefaultProxy;
        return proxy.IsBypassed(server) ? null : proxy.GetProxy(server);
    }

    /// <summary>
    /// A socket connected to <paramref name="host"/>:<paramref name="port"/>, through the environment's proxy if it
    /// names one, with <c>TCP_NODELAY</c> (a relayed keystroke must not wait for an acknowledgement).
    /// </summary>
    /// <exception cref="HttpRequestException">The proxy refused the tunnel.</exception>
    /// <exception cref="SocketException">The server or the proxy could not be reached.</exception>
    public static async Task<Socket> DialAsync(string host, int port, CancellationToken cancellationToken)
    {
        var authority = (host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[') ? $"[{host}]" : host) + ":" + port;
        var proxy = ProxyFor(new Uri("https://" + authority + "/"));
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (proxy is null)
            {
                await socket.ConnectAsync(new DnsEndPoint(host, port), cancellationToken).ConfigureAwait(false);
                return socket;
            }

            await socket.ConnectAsync(new DnsEndPoint(proxy.IdnHost, proxy.Port), cancellationToken).ConfigureAwait(false);
            await OpenTunnelAsync(socket, proxy, authority, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>RFC 9110 section 9.3.6: asks the proxy for a tunnel to <paramref name="authority"/> and reads its answer.</summary>
    private static async Task OpenTunnelAsync(Socket socket, Uri proxy, string authority, CancellationToken cancellationToken)
    {
        var request = new StringBuilder()
            .Append("CONNECT ").Append(authority).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(authority).Append("\r\n");

        // Credentials in the proxy's URL (http://user:password@proxy:3128), as SocketsHttpHandler takes them; sent at
        // once rather than after a 407, which is all Basic needs.
        if (HttpClient.DefaultProxy.Credentials?.GetCredential(proxy, "Basic") is { UserName.Length: > 0 } credential)
        {
            var token = Convert.ToBase64String(Encoding.UTF8.GetBytes(credential.UserName + ":" + credential.Password));
            request.Append("Proxy-Authorization: Basic ").Append(token).Append("\r\n");
        }

        var bytes = Encoding.ASCII.GetBytes(request.Append("\r\n").ToString());
        for (var sent = 0; sent < bytes.Length;)
        {
            sent += await socket.SendAsync(bytes.AsMemory(sent), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }

        // The server speaks only after our ClientHello, so everything up to the blank line is the proxy's.
        var answer = new byte[MaxAnswer];
        var length = 0;
        while (answer.AsSpan(0, length).IndexOf("\r\n\r\n"u8) < 0)
        {
            if (length == answer.Length)
            {
                throw new HttpRequestException($"the proxy {proxy.Authority} sent an answer to CONNECT longer than {MaxAnswer} bytes");
            }

            var read = await socket.ReceiveAsync(answer.AsMemory(length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new HttpRequestException($"the proxy {proxy.Authority} closed the connection instead of answering CONNECT");
            }

            length += read;
        }

        var statusLine = Encoding.ASCII.GetString(answer, 0, answer.AsSpan(0, length).IndexOf("\r\n"u8));
        var parts = statusLine.Split(' ', 3);
        if (parts.Length < 2 || !parts[0].StartsWith("HTTP/1.", StringComparison.Ordinal) || !int.TryParse(parts[1], out var status))
        {
            throw new HttpRequestException($"the proxy {proxy.Authority} answered CONNECT with something other than HTTP: '{statusLine}'");
        }

        if (status == (int)HttpStatusCode.ProxyAuthenticationRequired)
        {
            throw new ProxyAuthenticationRequiredException(proxy, statusLine);
        }

        if (status is < 200 or > 299)
        {
            throw new HttpRequestException(
                $"the proxy {proxy.Authority} refused the tunnel to {authority}: {statusLine}", null, (HttpStatusCode)status);
        }
    }
}

/// <summary>
/// The proxy wants credentials <see cref="ProxyDialer"/> does not have or cannot give (NTLM, Negotiate, Digest): the
/// request is for <c>SocketsHttpHandler</c>'s own proxy support (<see cref="ClientTlsHandler"/>).
/// </summary>
public sealed class ProxyAuthenticationRequiredException(Uri proxy, string statusLine)
    : HttpRequestException($"the proxy {proxy.Authority} wants authentication: {statusLine}", null, HttpStatusCode.ProxyAuthenticationRequired);
