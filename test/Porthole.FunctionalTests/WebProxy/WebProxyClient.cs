using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Porthole.Tunnel.Transport;

namespace Porthole.FunctionalTests.WebProxy;

/// <summary>
/// An HTTP client that behaves like a browser towards web-session origins: it keeps cookies per host, does not
/// follow redirects by itself (tests look at them), trusts the server's pinned self-signed certificate, and dials
/// the server's loopback port for any <c>*.localhost</c> host (Chromium resolves those to loopback by itself; the
/// OS resolver does not).
/// </summary>
public sealed class WebProxyClient : IDisposable
{
    private readonly int _serverPort;

    public WebProxyClient(PortholeStack stack)
    {
        _serverPort = stack.ServerUrl.Port;
        Handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = true,
            CookieContainer = Cookies,
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = new ServerTrust(stack.Fingerprint).CreateValidator() },
            ConnectCallback = ConnectAsync,
        };
        Http = new HttpClient(Handler, disposeHandler: false) { Timeout = TimeSpan.FromMinutes(5) };
    }

    public CookieContainer Cookies { get; } = new();

    public SocketsHttpHandler Handler { get; }

    public HttpClient Http { get; }

    /// <summary>Opens <paramref name="url"/> (the session's <c>/.porthole/enter?ticket=</c> URL) and returns the raw answer.</summary>
    public Task<HttpResponseMessage> GetAsync(string url) => Http.GetAsync(url);

    /// <summary>GET that follows redirects like a browser (at most 10), returning the last response and its URL.</summary>
    public async Task<(HttpResponseMessage Response, Uri Url)> BrowseAsync(Uri url)
    {
        for (var hop = 0; ; hop++)
        {
            var response = await Http.GetAsync(url);
            if ((int)response.StatusCode is < 300 or >= 400 || response.Headers.Location is null || hop == 10)
            {
                return (response, url);
            }

            url = new Uri(url, response.Headers.Location);
            response.Dispose();
        }
    }

    /// <summary>A WebSocket to <paramref name="url"/> (wss) through this client's connections, with its cookies and an <c>Origin</c> like a browser sends.</summary>
    public async Task<ClientWebSocket> ConnectWebSocketAsync(Uri url, string? origin)
    {
        var socket = new ClientWebSocket();
        var https = new UriBuilder(url) { Scheme = "https" }.Uri;
        var cookies = Cookies.GetCookieHeader(https);
        if (cookies.Length > 0)
        {
            socket.Options.SetRequestHeader("Cookie", cookies);
        }

        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }

        // A separate handler without a cookie container: ClientWebSocket refuses an invoker whose handler adds cookies.
        using var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = Handler.SslOptions.RemoteCertificateValidationCallback },
            ConnectCallback = ConnectAsync,
        };
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await socket.ConnectAsync(url, new HttpMessageInvoker(handler, disposeHandler: false), cancel.Token);
        return socket;
    }

    /// <summary>Sends <paramref name="text"/> and returns the text message that comes back.</summary>
    public static async Task<string> EchoAsync(WebSocket socket, string text)
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, cancel.Token);
        var buffer = new byte[64 * 1024];
        var received = new MemoryStream();
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer, cancel.Token);
            received.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);

        return Encoding.UTF8.GetString(received.ToArray());
    }

    /// <summary>Reads a server-sent event stream to its end, noting when each <c>data:</c> line arrived.</summary>
    public static async Task<List<(string Data, DateTime At)>> ReadEventsAsync(HttpClient http, string url)
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
        Assert.True(response.IsSuccessStatusCode, $"GET {new Uri(url).AbsolutePath}: {(int)response.StatusCode}");
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancel.Token));
        List<(string, DateTime)> events = [];
        while (await reader.ReadLineAsync(cancel.Token) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                events.Add((line["data: ".Length..], DateTime.UtcNow));
            }
        }

        return events;
    }

    public void Dispose()
    {
        Http.Dispose();
        Handler.Dispose();
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase) || host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
            {
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, context.DnsEndPoint.Port == 0 ? _serverPort : context.DnsEndPoint.Port), cancellationToken);
            }
            else
            {
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
            }

            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
