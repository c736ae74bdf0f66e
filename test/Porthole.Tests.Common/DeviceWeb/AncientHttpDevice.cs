using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Porthole.Tests.Common.DeviceWeb;

/// <summary>
/// The oldest kind of embedded web server, written against the socket so nothing tidies it up: HTTP/1.0 answers
/// without <c>Content-Length</c> (the body ends when the connection closes), and on <c>/lf</c> bare <c>\n</c> line
/// endings in the head. One request per connection, then close.
/// </summary>
public sealed class AncientHttpDevice : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private Task? _accepting;
    private int _requests;

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>How many requests it has answered (each on its own connection).</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>The body it sends for <paramref name="path"/>.</summary>
    public static string Body(string path) =>
        $"<html><head><title>Ancient</title></head><body><h1 id=\"title\">Ancient device</h1><p>{WebUtility.HtmlEncode(path)}</p>{new string('.', 20_000)}</body></html>\n";

    public static AncientHttpDevice Start()
    {
        var device = new AncientHttpDevice();
        device._listener.Start();
        device._accepting = device.AcceptAsync();
        return device;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        if (_accepting is not null)
        {
            await _accepting.ContinueWith(_ => { }, TaskScheduler.Default);
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = AnswerAsync(client);
        }
    }

    private async Task AnswerAsync(Socket client)
    {
        using (client)
        {
            try
            {
                using var cancel = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                cancel.CancelAfter(TimeSpan.FromSeconds(30));
                var head = new StringBuilder();
                var buffer = new byte[4096];
                while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    var read = await client.ReceiveAsync(buffer, cancel.Token);
                    if (read == 0)
                    {
                        return;
                    }

                    head.Append(Encoding.ASCII.GetString(buffer, 0, read));
                }

                var path = head.ToString().Split(' ')[1];
                var newline = path.StartsWith("/lf", StringComparison.Ordinal) ? "\n" : "\r\n";
                var response = $"HTTP/1.0 200 OK{newline}Server: ancient/0.1{newline}Content-Type: text/html{newline}{newline}{Body(path)}";
                Interlocked.Increment(ref _requests);
                await client.SendAsync(Encoding.ASCII.GetBytes(response), cancel.Token);
                client.Shutdown(SocketShutdown.Both);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // The peer went away; nothing to answer.
            }
        }
    }
}
